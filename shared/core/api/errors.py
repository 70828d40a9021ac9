"""The one place that turns errors into the documented response bodies.

| status | body                                                | from                                  |
|--------|-----------------------------------------------------|---------------------------------------|
| 400    | {"message": "request body must be a JSON object"}   | the entry point and the validator     |
| 401    | {"message": "Unauthorized"}                         | the authorizer; UnauthorizedError     |
| 404    | {"message": "route not found"}                      | unknown route; NotFoundError          |
| 409    | {"message": "..."}                                  | an Idempotency-Key still in progress  |
| 413    | {"message": "request body too large"}               | the entry point (over 64 KiB)         |
| 422    | {"errors": [{"value", "msg", "param", "location"}]} | RequestValidationError; FieldValidationError |
| 429    | {"message": "Too Many Requests"}                    | API Gateway's throttling              |
| 433    | {"error": "<message> (<code>)"}                     | BusinessRuleError                     |
| 500    | {"message": "Internal server error"}                | anything else                         |
| 503    | {"message": "..."}                                  | ServiceUnavailableError               |

The OpenAPI document describes these bodies with the models of ``core.api.openapi_docs`` (a unit test
checks the examples there against ``MALFORMED_BODY`` and ``ROUTE_NOT_FOUND``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from core.errors import (
    BusinessRuleError,
    FieldError,
    FieldValidationError,
    NotFoundError,
    RequestInProgressError,
    ServiceUnavailableError,
    UnauthorizedError,
)
from core.observability import logger

JSON = "application/json"
ROUTE_NOT_FOUND = {"message": "route not found"}
MALFORMED_BODY = {"message": "request body must be a JSON object"}
E = TypeVar("E", bound=Exception)

# Path parameters are named for what they identify in the routes; the API reports them all as ``id``.
_PATH_PARAMETER_NAMES = {"API_KEY_ID": "id", "STRATEGY_ID": "id", "STRATEGY_FOLLOW_ID": "id"}
_LOCATIONS = {"path": "params", "query": "query", "body": "body", "header": "headers"}
# Errors that mean the body as a whole is not a JSON object, rather than a field being wrong.
_WHOLE_BODY_ERRORS = {"json_invalid", "model_attributes_type", "model_type", "dict_type", "missing"}


def json_response(status: int, body: Any) -> Response[str]:
    return Response(status_code=status, content_type=JSON, body=json.dumps(body, separators=(",", ":")))


_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}


def _echoable(value: Any) -> Any:
    """The value as it can be echoed in valid JSON: NaN and the infinities (which Python's json reads
    but must not write) are echoed as the words the client sent."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else _NON_FINITE[value]
    if isinstance(value, Mapping):
        return {str(key): _echoable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_echoable(item) for item in value]
    return value


def field_errors_response(errors: Iterable[FieldError]) -> Response[str]:
    return json_response(
        422,
        {
            "errors": [
                {
                    "value": _echoable(error.value),
                    "msg": error.msg,
                    "param": error.param,
                    "location": error.location,
                }
                for error in errors
            ]
        },
    )


def _expected_values(context: Mapping[str, Any]) -> str:
    expected = str(context.get("expected", ""))
    values = [part.strip(" '\"") for part in expected.replace(" or ", ", ").split(",") if part.strip()]
    return "[" + ", ".join(values) + "]"


def _plain(value: Any) -> Any:
    """5.0 reads as 5 in a message, as the reference writes numbers."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _message(error: Mapping[str, Any]) -> str:
    """The express-validator style message for pydantic's built-in error types."""
    kind = error.get("type", "")
    context = {name: _plain(value) for name, value in (error.get("ctx") or {}).items()}
    messages = {
        "missing": "is required",
        "extra_forbidden": "is not a field of this request",
        "string_type": "must be a string",
        "string_unicode": "must be a string",  # e.g. a lone surrogate escape ("\ud800")
        "bool_type": "must be a boolean",
        "bool_parsing": "must be a boolean",
        "int_type": "must be an integer",
        "int_parsing": "must be an integer",
        "int_from_float": "must be an integer",
        "float_type": "must be a number",
        "float_parsing": "must be a number",
        "decimal_type": "must be a number",
        "decimal_parsing": "must be a number",
        "finite_number": "must be a number",
        "list_type": "must be an array",
        "enum": f"must be one of {_expected_values(context)}",
        "literal_error": f"must be one of {_expected_values(context)}",
        "string_too_long": f"length must be less than {int(context.get('max_length', 0)) + 1}",
        "string_too_short": f"length must be at least {context.get('min_length')}",
        "too_long": f"must contain at most {context.get('max_length')} items",
        "too_short": f"must contain at least {context.get('min_length')} items",
        "greater_than_equal": f"must be greater than or equal to {context.get('ge')}",
        "greater_than": f"must be greater than {context.get('gt')}",
        "less_than_equal": f"must be less than or equal to {context.get('le')}",
        "less_than": f"must be less than {context.get('lt')}",
        "date_from_datetime_parsing": "must be a date (YYYY-MM-DD)",
        "date_parsing": "must be a date (YYYY-MM-DD)",
        "date_type": "must be a date (YYYY-MM-DD)",
    }
    return messages.get(kind, str(error.get("msg", "is invalid")))


def _param(location: str, path: Sequence[Any]) -> str:
    if not path:
        return ""
    head, *rest = path
    name = _PATH_PARAMETER_NAMES.get(str(head), str(head)) if location == "path" else str(head)
    for part in rest:
        name += f"[{part}]" if isinstance(part, int) else f".{part}"
    return name


def to_field_error(error: Mapping[str, Any]) -> FieldError:
    location, *path = error.get("loc") or ("body",)
    value = None if error.get("type") == "missing" else error.get("input")
    return FieldError(
        value=value,
        msg=_message(error),
        param=_param(str(location), path),
        location=_LOCATIONS.get(str(location), "body"),  # type: ignore[arg-type]
    )


def _is_malformed_body(error: Mapping[str, Any]) -> bool:
    loc = tuple(error.get("loc") or ())
    if error.get("type") == "json_invalid":
        return True
    return loc == ("body",) and error.get("type") in _WHOLE_BODY_ERRORS


def register_error_handler(
    app: APIGatewayRestResolver, error_type: type[E], handler: Callable[[E], Response[str]]
) -> None:
    """``app.exception_handler(error_type)`` as a call: Powertools' decorator is unannotated, and a decorated
    handler would lose its types."""
    app.exception_handler(error_type)(handler)


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    def _invalid_request(error: RequestValidationError) -> Response[str]:
        problems = list(error.errors())
        if any(_is_malformed_body(problem) for problem in problems):
            return json_response(400, MALFORMED_BODY)
        return field_errors_response(to_field_error(problem) for problem in problems)

    def _invalid_fields(error: FieldValidationError) -> Response[str]:
        return field_errors_response(error.errors)

    def _business_rule(error: BusinessRuleError) -> Response[str]:
        logger.info("business rule refused the request", extra={"code": error.code, "detail": error.detail})
        return json_response(433, {"error": f"{error.message} ({error.code})"})

    def _not_found(_: NotFoundError) -> Response[str]:
        return json_response(404, ROUTE_NOT_FOUND)

    @app.not_found
    def _unknown_route(_: Exception) -> Response[str]:
        return json_response(404, ROUTE_NOT_FOUND)

    def _unauthorized(_: UnauthorizedError) -> Response[str]:
        return json_response(401, {"message": "Unauthorized"})

    def _in_progress(error: RequestInProgressError) -> Response[str]:
        return json_response(409, {"message": error.message})

    def _unavailable(error: ServiceUnavailableError) -> Response[str]:
        logger.warning("upstream unavailable", extra={"detail": error.message})
        return json_response(503, {"message": error.message})

    def _unexpected(error: Exception) -> Response[str]:
        # The traceback goes to the log (never the response); exception messages of our adapters carry no secrets.
        logger.exception("unhandled error", extra={"error_type": type(error).__name__})
        return json_response(500, {"message": "Internal server error"})

    register_error_handler(app, RequestValidationError, _invalid_request)
    register_error_handler(app, FieldValidationError, _invalid_fields)
    register_error_handler(app, BusinessRuleError, _business_rule)
    register_error_handler(app, NotFoundError, _not_found)
    register_error_handler(app, UnauthorizedError, _unauthorized)
    register_error_handler(app, ServiceUnavailableError, _unavailable)
    register_error_handler(app, RequestInProgressError, _in_progress)
    register_error_handler(app, Exception, _unexpected)
