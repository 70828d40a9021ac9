"""The one place where stripe-python's exceptions become the API's errors.

| stripe-python                                        | API                                   |
|------------------------------------------------------|---------------------------------------|
| APIConnectionError (timeouts, refused), RateLimitError, APIError (Stripe's 5xx) | 503, the client may retry |
| anything else (invalid request, authentication, idempotency, card ...) | 500: our request or our configuration is wrong |

Stripe's own message never reaches a response and is not kept either (it can echo parameters); the log
gets the error type, code, parameter, HTTP status and Stripe's request id, which is what support needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from core.errors import ServiceUnavailableError

UNAVAILABLE = "payment provider temporarily unavailable"


class PaymentProviderError(RuntimeError):
    """Stripe refused a request of ours: a fault of ours (a 500), described without Stripe's message."""


def describe(error: Any) -> str:
    parts = {
        "type": type(error).__name__,
        "code": getattr(error, "code", None),
        "param": getattr(error, "param", None),
        "status": getattr(error, "http_status", None),
        "request": getattr(error, "request_id", None),
    }
    return "stripe " + " ".join(f"{name}={value}" for name, value in parts.items() if value is not None)


def translate(error: Exception) -> Exception:
    import stripe

    if isinstance(error, stripe.APIConnectionError | stripe.RateLimitError | stripe.APIError):
        return ServiceUnavailableError(UNAVAILABLE)
    return PaymentProviderError(describe(error))


@contextmanager
def stripe_errors() -> Iterator[None]:
    """Runs Stripe calls; their errors leave as the API's, without Stripe's traceback chained to them."""
    import stripe

    try:
        yield
    except stripe.StripeError as error:
        raise translate(error) from None
