"""One OpenAPI document for the whole API, merged from each function's Powertools resolver, and Swagger UI.

Private operations are marked with the Cognito ID token scheme; what every operation answers (the error
bodies of ``core.api.errors``) and the API reference's examples are added to what the resolvers declare.
Swagger UI's assets come from the Powertools package, so the page works offline.

``python -m local.openapi`` (``make openapi``) writes the document to ``docs/openapi.json``; a unit test
fails when the committed file drifts from the code.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic.json_schema import models_json_schema

from local.template import PROJECT_ROOT, Template, load_template

TITLE = "Trading API"
SECURITY_SCHEME = "CognitoIdToken"
PRIVATE_PREFIX = "/v1/priv/"
JSON = "application/json"
COMPONENTS = "#/components/schemas/"
DOCUMENT_URL = "/swagger/openapi.json"
SWAGGER_JSON_LINK = 'currentUrl.pathname + "?format=json"'  # in Powertools' Swagger UI page
IDEMPOTENT = "x-idempotent"  # set by a route whose POST honours the Idempotency-Key header
DOCUMENT_PATH = PROJECT_ROOT / "docs" / "openapi.json"
# The API reference's request and response examples, by "method path" (extracted from its text).
EXAMPLES_PATH = Path(__file__).with_name("openapi_examples.json")
DESCRIPTION = """The API of the crypto trading service.

**Authentication.** Private routes (`/v1/priv/...`) need the Cognito ID token in the `Authorization`
header (the token itself, no `Bearer`); without a valid one API Gateway answers 401. On the local stack,
`POST /_local/token` with `{"email": "me@example.com", "plan": "BASIC"}` gives one: paste its `idToken`
into *Authorize*.

**reCAPTCHA.** In PRODUCTION, every POST, PUT and DELETE of the web app's routes carries a
`recaptcha-token-v3` header (a v3 token from `grecaptcha.execute`); without a valid one the answer is 403
`{"message"}`. Other stages ignore it. The webhooks and the one-click unsubscribe need none.

**Errors.** 400 `{"message"}` body not a JSON object; 401 `{"message": "Unauthorized"}`; 404
`{"message": "route not found"}` (also for ids the caller does not own); 413 body over 64 KiB; 422
`{"errors": [{"value", "msg", "param", "location"}]}` every invalid field at once; 429 throttled; 433
`{"error": "<message> (<code>)"}` a business rule or the exchange/Stripe refused; 500
`{"message": "Internal server error"}`; 503 `{"message"}` the exchange or Stripe is unreachable.

Every answer of a private route carries `Cache-Control: no-store`.
"""


def _layers_on_path() -> None:
    for layer in (PROJECT_ROOT / "shared", PROJECT_ROOT / "layers" / "adapters"):
        if str(layer) not in sys.path:
            sys.path.append(str(layer))


def load_function_module(template: Template, logical_id: str) -> ModuleType:
    """Imports a function's handler module under a unique name (every function's module is ``app``)."""
    _layers_on_path()
    spec_of_function = template.functions()[logical_id]
    module_name = f"functions_{spec_of_function.code_dir.name}_app"
    if module_name in sys.modules:
        return sys.modules[module_name]
    if str(spec_of_function.code_dir) not in sys.path:  # its own modules import as Lambda imports them
        sys.path.append(str(spec_of_function.code_dir))
    spec = importlib.util.spec_from_file_location(module_name, spec_of_function.code_dir / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def merged_openapi(template: Template) -> dict[str, Any]:
    """The whole API's document: every function's routes, completed with what they all answer."""
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": "1", "description": DESCRIPTION},
        "paths": {},
        "components": {
            "schemas": {},
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "The Cognito ID token itself, without a `Bearer` prefix "
                    "(`POST /_local/token` on the local stack)",
                }
            },
        },
    }
    for logical_id, function in template.functions().items():
        if not function.routes:  # scheduled and queue workers serve no HTTP route
            continue
        module = load_function_module(template, logical_id)
        schema = json.loads(module.app.get_openapi_json_schema(title=TITLE))
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                operation.setdefault("x-function", logical_id)
            document["paths"].setdefault(path, {}).update(operations)
        document["components"]["schemas"].update(schema.get("components", {}).get("schemas", {}))
    return complete(document, json.loads(EXAMPLES_PATH.read_text()))


def _error(status: int) -> dict[str, Any]:
    """The answer of a status every operation shares, as ``openapi_docs.error_response`` documents it."""
    from core.api import openapi_docs

    media: dict[str, Any] = {"schema": {"$ref": COMPONENTS + openapi_docs.model_of(status).__name__}}
    if status in openapi_docs.STATUS_EXAMPLES:
        media["examples"] = {"error": {"value": openapi_docs.STATUS_EXAMPLES[status]}}
    return {"description": openapi_docs.STATUS_DESCRIPTIONS[status], "content": {JSON: media}}


def _header(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": False, "description": description, "schema": schema}


RECAPTCHA_HEADER = _header(
    "recaptcha-token-v3",
    "Google reCAPTCHA v3 token of the web page making the request. Required in PRODUCTION only.",
    {"type": "string"},
)
IDEMPOTENCY_HEADER = _header(
    "Idempotency-Key",
    "Any unique value (a UUID): a retry with the same key within 24 hours gets the first answer back "
    "instead of placing the order again; the same key with another body is a 422.",
    {
        "type": "string",
        "minLength": 1,
        "maxLength": 128,
        "examples": ["4f8e3c1a-9b2d-4c6e-8a1f-2d3b4c5e6f70"],
    },
)


def _has_input(operation: dict[str, Any]) -> bool:
    return bool(operation.get("parameters") or operation.get("requestBody"))


def _with_example(media: dict[str, Any], example: Any) -> None:
    if "examples" in media:
        media["examples"] = {
            "reference": {"summary": "The API reference's example", "value": example},
            **media["examples"],
        }
    else:
        media["example"] = example


def _complete_operation(method: str, path: str, operation: dict[str, Any], examples: dict[str, Any]) -> None:
    from core.api.openapi_docs import COMMON_STATUSES
    from core.api.recaptcha import CHECKED_METHODS, MACHINE_RESOURCES

    private = path.startswith(PRIVATE_PREFIX)
    human_write = method.upper() in CHECKED_METHODS and path not in MACHINE_RESOURCES
    responses: dict[str, Any] = operation["responses"]
    parameters: list[dict[str, Any]] = operation.setdefault("parameters", [])
    if operation.pop(IDEMPOTENT, False):
        parameters.append(IDEMPOTENCY_HEADER)
    if human_write:
        parameters.append(RECAPTCHA_HEADER)
    if not parameters:
        del operation["parameters"]
    if _has_input(operation):
        responses["422"] = _error(422)
    else:
        responses.pop("422", None)
    # A human write: 403 without a valid reCAPTCHA token, 503 while siteverify is out of reach (PRODUCTION).
    statuses = [*COMMON_STATUSES, *([401] if private else []), *([403, 503] if human_write else [])]
    if any(parameter["in"] == "path" for parameter in parameters):
        statuses.append(404)  # an id the caller does not own
    for status in statuses:
        responses.setdefault(str(status), _error(status))
    for answer in responses.values():
        if not answer.get("content"):
            answer.pop("content", None)  # 204: no body at all
    if private:
        operation["security"] = [{SECURITY_SCHEME: []}]
    reference = examples.get(f"{method} {path}", {})
    if "request" in reference and "requestBody" in operation:
        _with_example(operation["requestBody"]["content"][JSON], reference["request"])
    for status, example in reference.get("responses", {}).items():
        media = responses.get(status, {}).get("content", {}).get(JSON)
        if media is not None:
            _with_example(media, example)
    operation["responses"] = dict(sorted(responses.items()))


# Bounds that pydantic leaves under its own names when a validator wraps the number (core.schemas.types).
_BOUNDS = {"gt": "exclusiveMinimum", "ge": "minimum", "lt": "exclusiveMaximum", "le": "maximum"}


def _json_schema_bounds(node: Any) -> None:
    """Renames ``gt``/``ge``/``lt``/``le`` of number schemas to their JSON Schema keywords, everywhere."""
    if isinstance(node, dict):
        if node.get("type") in ("number", "integer"):
            for name, keyword in _BOUNDS.items():
                if name in node:
                    node[keyword] = node.pop(name)
        for value in node.values():
            _json_schema_bounds(value)
    elif isinstance(node, list):
        for value in node:
            _json_schema_bounds(value)


def complete(document: dict[str, Any], examples: dict[str, Any]) -> dict[str, Any]:
    """What every operation answers beyond its own routes' declarations (``core.api.openapi_docs``), the
    security of private routes, the headers, and the API reference's examples."""
    _layers_on_path()
    from core.api.openapi_docs import ERROR_MODELS

    schemas = document["components"]["schemas"]
    _, definitions = models_json_schema(
        [(model, "serialization") for model in ERROR_MODELS],
        ref_template=COMPONENTS + "{model}",
    )
    schemas.update(definitions.get("$defs", {}))
    document["components"]["schemas"] = dict(sorted(schemas.items()))
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            _complete_operation(method, path, operation, examples)
    document["paths"] = dict(sorted(document["paths"].items()))
    _json_schema_bounds(document)
    _drop_unreferenced_schemas(document)
    return document


def _references(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].removeprefix(COMPONENTS)} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_references(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_references(value) for value in node))
    return set()


def _drop_unreferenced_schemas(document: dict[str, Any]) -> None:
    """Only the schemas some operation uses (Powertools adds its own validation errors to every resolver's)."""
    schemas = document["components"]["schemas"]
    used = _references(document["paths"])
    pending = set(used)
    while pending:
        found = _references(schemas.get(pending.pop(), {})) - used
        used |= found
        pending |= found
    document["components"]["schemas"] = {name: schema for name, schema in schemas.items() if name in used}


def write_document(path: Path = DOCUMENT_PATH) -> bool:
    """Writes the document; whether it changed."""
    text = render(merged_openapi(load_template()))
    if path.exists() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return True


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


class OpenApiSite:
    def __init__(self, template: Template) -> None:
        self._template = template
        self._document: bytes | None = None
        self._lock = threading.Lock()

    def document(self) -> bytes:
        with self._lock:
            if self._document is None:
                self._document = json.dumps(merged_openapi(self._template)).encode()
            return self._document

    def asset(self, path: str) -> tuple[str, bytes | None]:
        from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

        assets = Path(importlib.util.find_spec("aws_lambda_powertools").origin).parent  # type: ignore[arg-type, union-attr]
        assets = assets / "event_handler" / "openapi" / "swagger_ui"
        name = path.removeprefix("/swagger").strip("/")
        if name == "":
            html = generate_swagger_html(
                spec=self.document().decode(),
                swagger_js="/swagger/swagger-ui-bundle.min.js",
                swagger_css="/swagger/swagger-ui.min.css",
                swagger_base_url="/swagger",
                oauth2_config=None,
                persist_authorization=True,
            )
            # The link under the title points at ``<page>?format=json``, a query the gateway does not pass
            # on: it points at the document's own address instead.
            html = html.replace(SWAGGER_JSON_LINK, f'"{DOCUMENT_URL}"')
            return "text/html; charset=utf-8", html.encode()
        if name == DOCUMENT_URL.rsplit("/", 1)[1]:
            return "application/json", self.document()
        if name in ("swagger-ui-bundle.min.js", "swagger-ui.min.css"):
            content_type = "application/javascript" if name.endswith(".js") else "text/css"
            return content_type, (assets / name).read_bytes()
        return "text/plain", None


def main(argv: list[str] | None = None) -> int:
    """``python -m local.openapi`` writes docs/openapi.json; ``--check`` only says whether it is current."""
    arguments = sys.argv[1:] if argv is None else argv
    if "--check" in arguments:
        current = DOCUMENT_PATH.exists() and DOCUMENT_PATH.read_text() == render(
            merged_openapi(load_template())
        )
        print("docs/openapi.json is current" if current else "docs/openapi.json is stale: run make openapi")
        return 0 if current else 1
    print("wrote docs/openapi.json" if write_document() else "docs/openapi.json is current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
