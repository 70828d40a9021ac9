"""The one place where ccxt's exceptions become the API's errors.

| ccxt                                   | API                        |
|----------------------------------------|----------------------------|
| AuthenticationError, PermissionDenied  | 433 exchange API authorization failed (1103) |
| BadSymbol                              | 433 invalid exchange symbol (1300) |
| OperationFailed, NetworkError (5xx, timeouts, DDoS) | 503 exchange unavailable |
| any other ccxt error                   | 433 exchange bad request (1500) |

The detail kept for the logs is scrubbed of request signatures; a secret never reaches a ccxt message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from adapters.exchange.ccxt_loader import ccxt_errors
from core.errors import (
    ApiError,
    ExchangeAuthorizationFailed,
    ExchangeBadRequest,
    InvalidExchangeSymbol,
    ServiceUnavailableError,
)

_SIGNED_QUERY = re.compile(r"(signature|apiKey|secret|X-MBX-APIKEY)=?[\"':\s]*[A-Za-z0-9%]+", re.IGNORECASE)


def scrub(text: str) -> str:
    return _SIGNED_QUERY.sub(r"\1=<redacted>", text)[:500]


def translate(error: Exception) -> ApiError:
    errors = ccxt_errors()
    detail = f"{type(error).__name__}: {scrub(str(error))}"
    if isinstance(error, errors.AuthenticationError | errors.AccountSuspended):
        return ExchangeAuthorizationFailed(detail)
    if isinstance(error, errors.BadSymbol):
        return InvalidExchangeSymbol(detail)
    if isinstance(error, errors.OperationFailed):  # NetworkError and the exchange's own 5xx
        return ServiceUnavailableError("exchange temporarily unavailable")
    return ExchangeBadRequest(detail)


@contextmanager
def exchange_errors() -> Iterator[None]:
    """Runs exchange calls; ccxt errors leave as API errors, without the ccxt traceback chained to them."""
    try:
        yield
    except ccxt_errors().BaseError as error:
        raise translate(error) from None
