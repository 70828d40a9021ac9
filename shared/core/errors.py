"""Typed errors of the domain, one class per documented outcome.

Only ``core.api.errors`` turns them into HTTP responses; nothing matches on message text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

Location = Literal["body", "query", "params", "headers"]


class ApiError(Exception):
    """Base of every error that has a documented response."""


class NotFoundError(ApiError):
    """An unknown route or an item the caller does not own: both answer the same 404."""


class UnauthorizedError(ApiError):
    """No verified identity on a private route."""


class ServiceUnavailableError(ApiError):
    """An upstream (exchange, Stripe) could not be reached; the client may retry."""

    def __init__(self, message: str = "service temporarily unavailable") -> None:
        super().__init__(message)
        self.message = message


class RequestInProgressError(ApiError):
    """A retry arrived while the first request with its Idempotency-Key is still running (409)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class WebhookSignatureError(ApiError):
    """A webhook whose signature (or its timestamp) does not verify: answered 400 by the webhook route,
    before anything is read from or written to the table."""


@dataclass(frozen=True)
class FieldError:
    value: Any
    msg: str
    param: str
    location: Location


class FieldValidationError(ApiError):
    """Invalid input found after parsing (for example an id that must name an existing item): a 422."""

    def __init__(self, *errors: FieldError) -> None:
        super().__init__(", ".join(f"{error.param}: {error.msg}" for error in errors))
        self.errors = list(errors)


class BusinessRuleError(ApiError):
    """A refusal by a business rule or by the exchange or Stripe: a 433 carrying a documented code."""

    code: ClassVar[str]
    message: ClassVar[str]

    def __init__(self, detail: str | None = None) -> None:
        # ``detail`` is for logs only; the response always carries the documented message.
        super().__init__(detail or self.message)
        self.detail = detail


class ExchangeAuthorizationFailed(BusinessRuleError):
    code, message = "1103", "exchange API authorization failed"


class ExchangeKeyTypeInvalid(BusinessRuleError):
    code, message = "1106", "exchange API key type is invalid"


class ExchangeKeyAlreadyExists(BusinessRuleError):
    code, message = "1109", "exchange API key already exist"


class ExchangeKeyInactive(BusinessRuleError):
    code, message = "1110", "exchange API key is inactive"


class ExchangeKeyTypeUnsupported(BusinessRuleError):
    code, message = "1115", "exchange API key type is unsupported"


class ExchangeIdMismatch(BusinessRuleError):
    code, message = "1206", "exchange id does not match"


class InvalidExchangeSymbol(BusinessRuleError):
    code, message = "1300", "invalid exchange symbol"


class ExchangeSymbolMismatch(BusinessRuleError):
    code, message = "1306", "exchange symbol does not match"


class ExchangeSymbolAlreadyFollowed(BusinessRuleError):
    code, message = "1309", "exchange symbol already exist"


class ExchangeBadRequest(BusinessRuleError):
    code, message = "1500", "exchange bad request"


class InvalidSubscriptionType(BusinessRuleError):
    code, message = "2100", "invalid subscription type"


class SubscriptionFeatureUnauthorized(BusinessRuleError):
    code, message = "2103", "unauthorized subscription features"


class ApiKeyLimitExceeded(BusinessRuleError):
    code, message = "2129a", "exceed subscription max API key limit"


class ApiBalanceLimitExceeded(BusinessRuleError):
    code, message = "2129b", "exceed subscription max API balance limit"


class StripeSubscriptionMissing(BusinessRuleError):
    code, message = "3104", "active stripe subscription does not exist"


class StripeSubscriptionAlreadyExists(BusinessRuleError):
    code, message = "3109", "active stripe subscription already exist"


def business_rule_errors() -> list[type[BusinessRuleError]]:
    """Every documented 433 error, for the README table and the tests that pin it."""
    return sorted(BusinessRuleError.__subclasses__(), key=lambda cls: cls.code)


# Codes of this project beyond the reference's table (documented in the README's error table).
class ExchangeKeyCanWithdraw(BusinessRuleError):
    code, message = "1116", "exchange API key must not have withdrawal permission"


class ExchangeKeyLacksFutures(BusinessRuleError):
    code, message = "1117", "exchange API key must have futures permission"


class StrategyInactive(BusinessRuleError):
    code, message = "1310", "strategy is inactive"
