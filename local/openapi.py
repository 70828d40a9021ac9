"""One OpenAPI document for the whole API, merged from each function's Powertools resolver, and Swagger UI.

Private operations are marked with the Cognito ID token scheme; Swagger UI's assets come from the
Powertools package, so the page works offline.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

from local.template import PROJECT_ROOT, Template

TITLE = "Trading API"
SECURITY_SCHEME = "CognitoIdToken"


def load_function_module(template: Template, logical_id: str) -> ModuleType:
    """Imports a function's handler module under a unique name (every function's module is ``app``)."""
    for layer in (PROJECT_ROOT / "shared", PROJECT_ROOT / "layers" / "adapters"):
        if str(layer) not in sys.path:
            sys.path.append(str(layer))
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
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": "1"},
        "paths": {},
        "components": {
            "schemas": {},
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "Cognito ID token (POST /_local/token on the local stack)",
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
                if path.startswith("/v1/priv/"):
                    operation["security"] = [{SECURITY_SCHEME: []}]
                operation.setdefault("x-function", logical_id)
            document["paths"].setdefault(path, {}).update(operations)
        document["components"]["schemas"].update(schema.get("components", {}).get("schemas", {}))
    return document


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
            return "text/html; charset=utf-8", html.encode()
        if name == "openapi.json":
            return "application/json", self.document()
        if name in ("swagger-ui-bundle.min.js", "swagger-ui.min.css"):
            content_type = "application/javascript" if name.endswith(".js") else "text/css"
            return content_type, (assets / name).read_bytes()
        return "text/plain", None
