"""What the business logic needs from the outside world, as interfaces.

The adapters layer implements them with ccxt (and Stripe); unit tests hand in in-memory fakes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # annotations only: importing the ports loads no model module
    from core.models.billing import (
        BillingEvent,
        BillingInvoice,
        BillingPrice,
        BillingSubscription,
        CheckoutSession,
    )
    from core.models.exchange import Balance, ExchangeId, KeyPermissions, TradeType
    from core.models.notify import DirectoryUser, OutgoingEmail
    from core.models.trading import (
        AccountSnapshot,
        Candle,
        ExchangeFill,
        ExchangeOrder,
        ExchangePosition,
        MarketRules,
        OrderRef,
        OrderSpec,
        PriceRange,
    )


class ExchangeAccount(Protocol):
    """One user's key on the exchange. Every call may raise the errors of ``core.errors``."""

    def permissions(self) -> KeyPermissions: ...

    def balance(self) -> Balance: ...


class ExchangeMarketData(Protocol):
    def ticker(self, symbol: str, trade_type: TradeType) -> dict[str, Any]: ...

    def usd_prices(self, assets: set[str] | None = None) -> dict[str, float]:
        """USD prices of the given assets (all quoted assets when None); stablecoins are left out."""
        ...

    def candles(self, symbol: str, trade_type: TradeType, since_ms: int) -> list[Candle]:
        """The 1-minute candles from the one containing ``since_ms`` on (one request), oldest first."""
        ...

    def price_range(self, symbol: str, trade_type: TradeType, since_ms: int) -> PriceRange | None:
        """The lowest and highest price since ``since_ms`` (one candles request), None without candles."""
        ...


class ExchangeConnector(Protocol):
    def account(
        self, exchange_id: ExchangeId, trade_type: TradeType, api_key: str, secret: str
    ) -> ExchangeAccount: ...

    def market_data(self, exchange_id: ExchangeId) -> ExchangeMarketData: ...

    def trading_account(
        self, exchange_id: ExchangeId, trade_type: TradeType, api_key: str, secret: str
    ) -> TradingAccount: ...


class SecretCipher(Protocol):
    def encrypt(self, user_id: str, key_id: str, secret: str) -> bytes: ...

    def decrypt(self, user_id: str, key_id: str, ciphertext: bytes) -> str: ...


# ---------------------------------------------------------------- billing (Stripe)
# The data it exchanges are the models of ``core.models.billing``.


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


class TradingAccount(ExchangeAccount, Protocol):
    """A key's trading on the exchange, in the typed models of ``core.models.trading``; it reads the key's
    permissions and balance as any ``ExchangeAccount`` does."""

    def rules(self, symbol: str) -> MarketRules: ...

    def account_snapshot(self) -> AccountSnapshot:
        """One account read (USD-M: GET /fapi/v3/account, weight 5): the USDT wallet balance and the
        symbols holding a position or open (plain) orders."""
        ...

    def mark_price(self, symbol: str) -> float: ...

    def open_orders(self, symbol: str) -> list[ExchangeOrder]: ...

    def order_history(self, symbol: str) -> list[ExchangeOrder]: ...

    def fills(self, symbol: str, since_ms: int | None = None) -> list[ExchangeFill]: ...

    def position(self, symbol: str) -> ExchangePosition | None: ...

    def set_leverage(self, symbol: str, leverage: int) -> None: ...

    def set_margin_mode(self, symbol: str, mode: str) -> None: ...

    def cancel_all_orders(self, symbol: str) -> None: ...

    def cancel_order(self, symbol: str, client_order_id: str, conditional: bool) -> None:
        """Cancels one order by its client id; an order already gone is not an error."""
        ...

    def close_position(self, symbol: str, client_order_id: str) -> ExchangeOrder | None: ...

    def flatten(
        self, symbol: str, client_order_id: str, entries: Sequence[OrderRef] | None = None
    ) -> ExchangeOrder | None:
        """Cancels the orders that could add to the position, closes it (reduce-only, ``client_order_id``),
        then cancels its exits: a close that fails leaves the position with its stop. The closing order, or
        None if flat. ``entries``: those orders, when the caller knows them all (its own trades' resting
        entries); None looks them up."""
        ...

    def place(self, symbol: str, order: OrderSpec) -> ExchangeOrder:
        """Places the order; after a timeout or an unknown outcome, finds it by client order id first."""
        ...

    def find_order(self, symbol: str, client_order_id: str, conditional: bool) -> ExchangeOrder | None: ...


class TradeEventPublisher(Protocol):
    """The application's event bus (``trades.md``): ``Order Placed``, ``Take Profit Filled`` ..."""

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None: ...


class Counter(Protocol):
    """Counts outcomes an alarm watches (orders placed, compensations, failed compensations, repairs)."""

    def count(self, name: str, value: int = 1) -> None: ...


# ---------------------------------------------------------------- notifications (notifications.md)
class Mailer(Protocol):
    """Sends one email (SES). Raises on failure; the caller's queue retries."""

    def send(self, message: OutgoingEmail) -> str: ...


class ChatSender(Protocol):
    """The Telegram bot. ``TelegramError`` (adapters.telegram) tells a retryable failure from a final one."""

    def send_message(self, chat_id: int, text: str, parse_mode: str | None = "HTML") -> int: ...

    def send_photo(
        self, chat_id: int, png: bytes, caption: str | None = None, parse_mode: str | None = "HTML"
    ) -> int: ...


class UserDirectory(Protocol):
    """The users of the user pool (Cognito): their email addresses."""

    def email_of(self, user_id: str) -> str | None: ...

    def users(self) -> Iterator[DirectoryUser]: ...
