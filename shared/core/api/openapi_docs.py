"""What the OpenAPI document says about answers Powertools cannot see: the API's own error bodies.

``core.api.errors`` is the one place errors become responses; the models here describe those bodies
(and nothing reads them at run time). A route declares the answers particular to it with ``answers``:

    @app.get("/v1/priv/...", responses=answers(404, 503, refusals=[InvalidExchangeSymbol]))

The answers every route shares (400 and 413 of the entry point, 401 of the authorizer on private routes,
422 where there is input, 429 of API Gateway's throttling, 500) are added to every operation when the
document is assembled (``local.openapi``), from ``COMMON_STATUSES`` and ``error_response``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseContentModel
from pydantic import BaseModel, ConfigDict, Field

from core.errors import BusinessRuleError
from core.models.base import Model

# Codes are four digits, with a letter where one number covers two refusals (2129a, 2129b).
BUSINESS_ERROR_PATTERN = r"^.+ \([0-9]{4}[a-z]?\)$"


class MessageBody(Model):
    """The body of 400, 401, 404, 409, 413, 429, 500 and 503."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"message": "route not found"}]})

    message: str = Field(description="What went wrong, for people (never a stack trace or a secret)")


class FieldErrorOut(Model):
    value: Any = Field(default=None, description="The value sent, as sent (null when the field is missing)")
    msg: str = Field(description="What is wrong with it, e.g. must be valid exchange symbol")
    param: str = Field(
        description="The field: a body field (nested as a.b or a[0]), a query parameter, a header or "
        "`id` for a path parameter"
    )
    location: Literal["body", "query", "params", "headers"] = Field(description="Where the field was sent")


class FieldErrorsBody(Model):
    """The body of 422: every invalid field at once."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "errors": [
                        {
                            "value": "BTCUSDT",
                            "msg": "must be valid exchange symbol",
                            "param": "symbol",
                            "location": "query",
                        }
                    ]
                }
            ]
        }
    )

    errors: list[FieldErrorOut] = Field(min_length=1)


class BusinessErrorBody(Model):
    """The body of 433: a business rule, the exchange or Stripe refused the request."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"error": "invalid exchange symbol (1300)"}]})

    error: str = Field(
        description="`<message> (<code>)`, one of the documented codes",
        json_schema_extra={"pattern": BUSINESS_ERROR_PATTERN},
    )


STATUS_DESCRIPTIONS: dict[int, str] = {
    400: "The body is not a JSON object (invalid JSON, another JSON value, or nested too deeply)",
    401: "Missing, invalid or expired Cognito ID token",
    403: "PRODUCTION only: a write without a valid reCAPTCHA v3 token (recaptcha-token-v3)",
    404: "Unknown route, or an id the caller does not own (never revealed to exist)",
    409: "A request with this Idempotency-Key is still in progress",
    413: "The request body is over 64 KiB",
    422: "Every invalid field at once; location is body, query, params or headers",
    429: "Throttled (API Gateway)",
    433: "Refused by a business rule, the exchange or Stripe",
    500: "Unexpected error (never a stack trace, never a secret)",
    503: "The exchange or Stripe is unreachable or not configured; retry later",
}
STATUS_MODELS: dict[int, type[BaseModel]] = {422: FieldErrorsBody, 433: BusinessErrorBody}
STATUS_EXAMPLES: dict[int, dict[str, Any]] = {
    400: {"message": "request body must be a JSON object"},
    401: {"message": "Unauthorized"},
    403: {"message": "reCAPTCHA verification failed"},
    404: {"message": "route not found"},
    409: {"message": "a request with this Idempotency-Key is still in progress"},
    413: {"message": "request body too large"},
    429: {"message": "Too Many Requests"},
    500: {"message": "Internal server error"},
    503: {"message": "service temporarily unavailable"},
}
# Answered by every operation; 401 only by private ones, 422 only by those that take input.
COMMON_STATUSES = (400, 413, 429, 500)
ERROR_MODELS: tuple[type[BaseModel], ...] = (MessageBody, FieldErrorOut, FieldErrorsBody, BusinessErrorBody)


def model_of(status: int) -> type[BaseModel]:
    return STATUS_MODELS.get(status, MessageBody)


def _refusal_examples(refusals: Iterable[type[BusinessRuleError]]) -> dict[str, Any]:
    return {
        refusal.code: {"summary": refusal.message, "value": {"error": f"{refusal.message} ({refusal.code})"}}
        for refusal in sorted(refusals, key=lambda refusal: refusal.code)
    }


def error_response(
    status: int, refusals: Iterable[type[BusinessRuleError]] = (), description: str | None = None
) -> OpenAPIResponse:
    """The documented answer of one error status (``model`` is resolved by Powertools)."""
    refusals = list(refusals)
    text = description or STATUS_DESCRIPTIONS[status]
    if refusals:
        text += ": " + ", ".join(f"{refusal.code} {refusal.message}" for refusal in refusals)
        examples = _refusal_examples(refusals)
    else:
        examples = {"error": {"value": STATUS_EXAMPLES[status]}} if status in STATUS_EXAMPLES else {}
    content: OpenAPIResponseContentModel = {"model": model_of(status)}
    if examples:
        content["examples"] = examples
    return {"description": text, "content": {"application/json": content}}


def answers(
    *statuses: int,
    refusals: Iterable[type[BusinessRuleError]] = (),
    ok: int = 200,
    ok_description: str = "Successful Response",
    ok_model: type[BaseModel] | None = None,
) -> dict[int, OpenAPIResponse]:
    """The ``responses`` of a route: its success (the return annotation's schema unless ``ok_model``;
    none for a 204) and the error statuses particular to it (433 when ``refusals`` are given)."""
    success: OpenAPIResponse = {"description": ok_description}
    if ok_model is not None:
        success["content"] = {"application/json": {"model": ok_model}}
    elif ok == 204:
        success["content"] = {}
    documented: dict[int, OpenAPIResponse] = {ok: success}
    refusals = list(refusals)
    for status in sorted({*statuses, *([433] if refusals else [])}):
        documented[status] = error_response(status, refusals if status == 433 else ())
    return documented
