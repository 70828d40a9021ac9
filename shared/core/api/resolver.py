"""Builds each function's resolver and Lambda entry point the same way.

The entry point does what must happen before any route runs: where the stage requires it, a write without
a verified reCAPTCHA v3 token is refused (``core.api.recaptcha``); a body over 64 KiB is refused, a body nested
deeper than ``MAX_JSON_DEPTH`` is refused as not usable JSON (before any parser recurses into it), every
body is read as JSON (a missing one as ``{}``, as the reference's Express parser does), and every answer
of a private route is marked ``Cache-Control: no-store``. A route that takes a body only ever sees a JSON
object: any other JSON value (an array, a string, a number, ``null``) is the same 400 as invalid JSON.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from core.api import recaptcha
from core.api.errors import MALFORMED_BODY, register_error_handlers
from core.config import get_settings
from core.observability import logger, traced

MAX_BODY_BYTES = 64 * 1024
# No body of this API nests deeper than a few levels (a Stripe event, the deepest, about ten).
MAX_JSON_DEPTH = 32
PRIVATE_PREFIX = "/v1/priv/"
# A JSON string (skipped whole, brackets inside it do not count; an unterminated one runs to the end,
# which keeps the scan linear) or a bracket.
_JSON_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]')

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def json_nesting_exceeds(text: str, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``text`` opens more than ``max_depth`` arrays/objects inside each other.

    A linear scan without recursion (Python's json and pydantic recurse per level and fail with a
    RecursionError a few thousand levels down). Text that is not JSON may be miscounted; it is refused
    either way.
    """
    depth = 0
    for match in _JSON_STRING_OR_BRACKET.finditer(text):
        found = match.group()
        if found in ("[", "{"):
            depth += 1
            if depth > max_depth:
                return True
        elif found in ("]", "}"):
            depth -= 1
    return False


def json_object(text: str) -> dict[str, Any]:
    """The body's JSON object; any other JSON value is refused like invalid JSON (a 400)."""
    value = json.loads(text)
    if not isinstance(value, dict):
        raise json.JSONDecodeError("request body must be a JSON object", text, 0)
    return value


def create_resolver() -> APIGatewayRestResolver:
    settings = get_settings()
    cors = CORSConfig(
        allow_origin=settings.cors_allow_origin,
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "recaptcha-token-v3"],
        max_age=600,
    )
    app = APIGatewayRestResolver(enable_validation=True, cors=cors, json_body_deserializer=json_object)
    register_error_handlers(app)
    return app


def _body_size(event: dict[str, Any]) -> int:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return len(body) * 3 // 4
    return len(body.encode("utf-8"))


def _refusal(status: int, body: dict[str, str]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def _as_json_request(event: dict[str, Any]) -> dict[str, Any]:
    """The API reads every body as JSON, whatever Content-Type the client sent.

    Powertools would parse a form-encoded body as form fields; here such a body is simply not a JSON
    object and is refused with a 400. A missing body reads as ``{}``.
    """
    body = event.get("body")
    if body is None or body == "":
        text = "{}"
    elif event.get("isBase64Encoded"):
        try:
            text = base64.b64decode(body).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            text = "\u0000"  # undecodable bytes are not JSON: the validator answers 400
    else:
        text = body
    headers = {k: v for k, v in (event.get("headers") or {}).items() if k.lower() != "content-type"}
    multi = {k: v for k, v in (event.get("multiValueHeaders") or {}).items() if k.lower() != "content-type"}
    headers["Content-Type"] = "application/json"
    multi["Content-Type"] = ["application/json"]
    return {**event, "body": text, "isBase64Encoded": False, "headers": headers, "multiValueHeaders": multi}


def _is_private(event: dict[str, Any]) -> bool:
    return str(event.get("resource") or event.get("path") or "").startswith(PRIVATE_PREFIX)


def lambda_entrypoint(app: APIGatewayRestResolver, max_body_bytes: int = MAX_BODY_BYTES) -> LambdaHandler:
    """The Lambda handler of a function. ``max_body_bytes`` is 64 KiB for the API's own routes; a route
    whose sender we do not control (a webhook) may allow more."""

    # Every log line of a request carries its API Gateway request id as the correlation id.
    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        human_check = recaptcha.refusal(event)
        if human_check is not None:
            response = _refusal(human_check.status, {"message": human_check.message})
        elif _body_size(event) > max_body_bytes:
            response = _refusal(413, {"message": "request body too large"})
        else:
            request = _as_json_request(event)
            if json_nesting_exceeds(request["body"]):
                response = _refusal(400, MALFORMED_BODY)
            else:
                response = app.resolve(request, context)
        if _is_private(event):
            response.setdefault("multiValueHeaders", {})["Cache-Control"] = ["no-store"]
        return response

    return traced(handler)
