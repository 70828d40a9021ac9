"""Idempotent POSTs: a retried request with the same ``Idempotency-Key`` gets the first answer back.

Powertools' idempotency utility with DynamoDB persistence does the bookkeeping; the record's key
includes the caller and the exchange key, so two users' keys never collide, and the request body is
fingerprinted so the same key with another request is refused rather than answered wrongly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar, cast

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from core.api.errors import field_errors_response, json_response, register_error_handler
from core.config import get_settings
from core.errors import FieldError, FieldValidationError

T = TypeVar("T")
HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 128


@cache
def _config() -> IdempotencyConfig:
    return IdempotencyConfig(
        event_key_jmespath="scope",
        payload_validation_jmespath="fingerprint",
        expires_after_seconds=24 * 3600,
    )


@cache
def _persistence() -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(table_name=get_settings().idempotency_table_name)


def idempotency_key(app: APIGatewayRestResolver) -> str | None:
    value = app.current_event.headers.get(HEADER)
    if value is None:
        return None
    if not value or len(value) > MAX_KEY_LENGTH or not value.isprintable():
        raise FieldValidationError(
            FieldError(
                value=value,
                msg=f"must be 1 to {MAX_KEY_LENGTH} printable characters",
                param=HEADER,
                location="headers",
            )
        )
    return value


def run_once(
    app: APIGatewayRestResolver, scope: str, key: str | None, body: Any, action: Callable[[], T]
) -> T:
    """Runs ``action`` once per (scope, key); without a key it simply runs."""
    if key is None:
        return action()
    config = _config()
    config.register_lambda_context(app.lambda_context)

    def once(request: dict[str, Any]) -> T:  # its qualified name is part of every idempotency record's key
        return action()

    # Powertools' decorator is unannotated: applied as a call, the wrapper returns what ``once`` returns.
    idempotent_once = idempotent_function(
        once, data_keyword_argument="request", config=config, persistence_store=_persistence()
    )
    fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    return cast(T, idempotent_once(request={"scope": f"{scope}:{key}", "fingerprint": fingerprint}))


def register_idempotency_errors(app: APIGatewayRestResolver) -> None:
    def _in_progress(_: Exception) -> Response[str]:
        return json_response(409, {"message": "a request with this Idempotency-Key is still in progress"})

    def _reused(error: Exception) -> Response[str]:
        return field_errors_response(
            [
                FieldError(
                    value=None,
                    msg="was already used for a different request",
                    param=HEADER,
                    location="headers",
                )
            ]
        )

    register_error_handler(app, IdempotencyAlreadyInProgressError, _in_progress)
    register_error_handler(app, IdempotencyValidationError, _reused)
