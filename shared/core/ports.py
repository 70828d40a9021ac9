"""What the business logic needs from the outside world, as interfaces.

The adapters layer implements them with ccxt (and Stripe); unit tests hand in in-memory fakes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from core.models.exchange import Balance, ExchangeId, KeyPermissions, TradeType


class ExchangeAccount(Protocol):
    """One user's key on the exchange. Every call may raise the errors of ``core.errors``."""

    def permissions(self) -> KeyPermissions: ...

    def balance(self) -> Balance: ...


class ExchangeMarketData(Protocol):
    def ticker(self, symbol: str, trade_type: TradeType) -> dict[str, Any]: ...

    def usd_prices(self, assets: set[str] | None = None) -> dict[str, float]:
        """USD prices of the given assets (all quoted assets when None); stablecoins are left out."""
        ...


class ExchangeConnector(Protocol):
    def account(
        self, exchange_id: ExchangeId, trade_type: TradeType, api_key: str, secret: str
    ) -> ExchangeAccount: ...

    def market_data(self, exchange_id: ExchangeId) -> ExchangeMarketData: ...


class SecretCipher(Protocol):
    def encrypt(self, user_id: str, key_id: str, secret: str) -> bytes: ...

    def decrypt(self, user_id: str, key_id: str, ciphertext: bytes) -> str: ...


# ---------------------------------------------------------------- billing (Stripe)
# Times are Unix seconds, amounts are in the currency's minor unit (cents), as Stripe gives them.


@dataclass(frozen=True)
class BillingPrice:
    id: str
    plan_id: str | None  # the price's lookup_key: the id of the plan it sells


@dataclass(frozen=True)
class BillingSubscription:
    id: str
    customer_id: str
    status: str  # active, trialing, past_due, unpaid, canceled, incomplete, incomplete_expired, paused
    plan_id: str | None  # the lookup_key of its (first) item's price
    item_id: str
    price_id: str
    cancel_at_period_end: bool
    cancel_at: int | None
    current_period_start: int
    current_period_end: int
    trial_start: int | None
    trial_end: int | None
    amount: int
    currency: str
    interval: str
    trial_period_days: int | None
    user_id: str | None = None  # the metadata this service set on it


@dataclass(frozen=True)
class BillingInvoice:
    number: str | None
    currency: str
    amount_paid: int
    period_start: int | None  # the service period its subscription lines cover
    period_end: int | None
    hosted_url: str | None
    pdf: str | None
    created: int


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str


@dataclass(frozen=True)
class BillingEvent:
    """A verified webhook event, reduced to what locates the subscription it concerns."""

    id: str
    type: str
    subscription_id: str | None
    customer_id: str | None
    user_id: str | None  # client_reference_id or the metadata this service set


class BillingGateway(Protocol):
    """The payment provider (Stripe). Every call may raise the errors of ``core.errors``; calls that
    create or change something take an idempotency key, so a retried call never does it twice."""

    def price_for_plan(self, plan_id: str) -> BillingPrice | None: ...

    def create_customer(self, user_id: str, email: str | None, idempotency_key: str) -> str: ...

    def create_checkout_session(
        self,
        *,
        customer_id: str,
        price_id: str,
        user_id: str,
        plan_id: str,
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
    ) -> CheckoutSession: ...

    def subscriptions_of(self, customer_id: str) -> list[BillingSubscription]:
        """The customer's subscriptions that have not ended, newest first."""
        ...

    def subscription(self, subscription_id: str) -> BillingSubscription: ...

    def update_subscription(
        self,
        subscription_id: str,
        *,
        cancel_at_period_end: bool | None,
        swap: tuple[str, str, str] | None,  # (item id, new price id, new plan id), prorated
        idempotency_key: str,
    ) -> BillingSubscription: ...

    def paid_invoices(self, customer_id: str) -> list[BillingInvoice]:
        """The customer's paid invoices, newest first."""
        ...

    def verify_event(self, payload: str, signature: str | None) -> BillingEvent:
        """The event of a webhook delivery; ``WebhookSignatureError`` unless its signature verifies."""
        ...


class TradingAccount(Protocol):
    """A key's trading on the exchange. Orders and positions are ccxt's unified structures (dicts)."""

    def rules(self, symbol: str) -> Any: ...

    def last_price(self, symbol: str) -> float: ...

    def open_orders(self, symbol: str) -> list[dict[str, Any]]: ...

    def order_history(self, symbol: str) -> list[dict[str, Any]]: ...

    def trades(self, symbol: str) -> list[dict[str, Any]]: ...

    def position(self, symbol: str) -> dict[str, Any] | None: ...

    def set_leverage(self, symbol: str, leverage: int) -> None: ...

    def set_margin_mode(self, symbol: str, mode: str) -> None: ...

    def cancel_all_orders(self, symbol: str) -> None: ...

    def close_position(self, symbol: str, client_order_id: str) -> dict[str, Any] | None: ...

    def place(self, symbol: str, order: Any) -> dict[str, Any]:
        """Places the order; after a timeout or an unknown outcome, finds it by client order id first."""
        ...

    def find_order(self, symbol: str, client_order_id: str, conditional: bool) -> dict[str, Any] | None: ...
