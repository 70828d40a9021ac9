"""Errors raised by the simulator, shaped like Stripe's so stripe-python maps them to its own classes.

stripe-python picks the exception class from the HTTP status (401 -> AuthenticationError, 400/404 ->
InvalidRequestError, 402 -> CardError, ...) and reads type/code/param/message from the ``error`` object,
so every error carries both. The Python-facing subclasses also derive from KeyError/ValueError so that
test helpers such as ``complete_checkout`` fail in the way callers naturally expect.
"""

from __future__ import annotations

from typing import Any


class StripeApiError(Exception):
    """An error the HTTP layer renders as ``{"error": {...}}`` with ``http_status``."""

    http_status = 400
    error_type = "invalid_request_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        http_status: int | None = None,
        error_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.param = param
        if http_status is not None:
            self.http_status = http_status
        if error_type is not None:
            self.error_type = error_type

    def __str__(self) -> str:
        # KeyError.__str__ would repr() the message; keep it readable for every subclass.
        return self.message

    def to_body(self, request_id: str | None = None) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.error_type, "message": self.message}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param is not None:
            error["param"] = self.param
        if request_id is not None:
            error["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}"
        return {"error": error}


class InvalidRequest(StripeApiError, ValueError):
    """400 invalid_request_error: bad parameters or an operation the object's state forbids."""


class ResourceMissing(StripeApiError, KeyError):
    """404 resource_missing, Stripe's answer for an id that does not exist."""

    http_status = 404

    def __init__(
        self, kind: str, object_id: str, *, param: str | None = "id", http_status: int = 404
    ) -> None:
        super().__init__(
            f"No such {kind}: '{object_id}'",
            code="resource_missing",
            param=param,
            http_status=http_status,
        )
        self.object_id = object_id


class AuthenticationFailed(StripeApiError):
    """401: Stripe reports bad keys with type invalid_request_error; stripe-python keys off the status."""

    http_status = 401


class IdempotencyMismatch(StripeApiError):
    """An Idempotency-Key reused with different parameters (stripe-python raises IdempotencyError)."""

    error_type = "idempotency_error"


class CheckoutStateError(InvalidRequest):
    """A simulated payment on a Checkout Session that is not open (already completed or expired)."""
