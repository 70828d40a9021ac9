"""Idempotent POSTs: a retried request with the same ``Idempotency-Key`` gets the first answer back.

Powertools' idempotency utility with DynamoDB persistence does the bookkeeping; the record's key
includes the caller and the exchange key, so two users' keys never collide, and the request body is
fingerprinted so the same key with another request is refused rather than answered wrongly.

The utility (and boto3, which its persistence layer imports: about 0.15 s) is imported only by the first
request that carries an ``Idempotency-Key``, not at cold start; its errors become the domain's own here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar, cast

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from core.config import get_settings
from core.errors import FieldError, FieldValidationError, RequestInProgressError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

T = TypeVar("T")
HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 128


@cache
def _config() -> IdempotencyConfig:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    return IdempotencyConfig(
        event_key_jmespath="scope",
        payload_validation_jmespath="fingerprint",
        expires_after_seconds=24 * 3600,
    )


@cache
def _persistence() -> DynamoDBPersistenceLayer:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

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
    from aws_lambda_powertools.utilities.idempotency import idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    config = _config()
    config.register_lambda_context(app.lambda_context)

    def once(request: dict[str, Any]) -> T:  # its qualified name is part of every idempotency record's key
        return action()

    # Powertools' decorator is unannotated: applied as a call, the wrapper returns what ``once`` returns.
    idempotent_once = idempotent_function(
        once, data_keyword_argument="request", config=config, persistence_store=_persistence()
    )
    fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    try:
        return cast(T, idempotent_once(request={"scope": f"{scope}:{key}", "fingerprint": fingerprint}))
    except IdempotencyAlreadyInProgressError:
        raise RequestInProgressError("a request with this Idempotency-Key is still in progress") from None
    except IdempotencyValidationError:
        raise FieldValidationError(
            FieldError(
                value=None, msg="was already used for a different request", param=HEADER, location="headers"
            )
        ) from None
