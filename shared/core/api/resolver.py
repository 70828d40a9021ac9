"""Builds each function's resolver and Lambda entry point the same way.

The entry point does what must happen before any route runs: a body over 64 KiB is refused, every body is
read as JSON (a missing one as ``{}``, as the reference's Express parser does), and every answer of a private route is
marked ``Cache-Control: no-store``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig
from aws_lambda_powertools.utilities.typing import LambdaContext

from core.api.errors import register_error_handlers
from core.config import get_settings
from core.observability import logger

MAX_BODY_BYTES = 64 * 1024
PRIVATE_PREFIX = "/v1/priv/"

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def create_resolver() -> APIGatewayRestResolver:
    settings = get_settings()
    cors = CORSConfig(
        allow_origin=settings.cors_allow_origin,
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "recaptcha-token-v3"],
        max_age=600,
    )
    app = APIGatewayRestResolver(enable_validation=True, cors=cors)
    register_error_handlers(app)
    return app


def _body_size(event: dict[str, Any]) -> int:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return len(body) * 3 // 4
    return len(body.encode("utf-8"))


def _too_large_response() -> dict[str, Any]:
    return {
        "statusCode": 413,
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "body": json.dumps({"message": "request body too large"}),
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

    @logger.inject_lambda_context(clear_state=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        if _body_size(event) > max_body_bytes:
            response = _too_large_response()
        else:
            response = app.resolve(_as_json_request(event), context)
        if _is_private(event):
            response.setdefault("multiValueHeaders", {})["Cache-Control"] = ["no-store"]
        return response

    return handler
