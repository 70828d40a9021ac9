"""Orders as the business logic plans them, and the record kept of every manual order."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from pydantic import BaseModel, Field


class EntryType(StrEnum):
    LIMIT = "LIMIT"
    MARKET = "MARKET"
    TRAILING_STOP = "TRAILING_STOP"


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class StopTriggerType(StrEnum):
    LIMIT = "LIMIT"
    MARKET = "MARKET"


class OrderKind(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    TRAILING_STOP = "trailing_stop"
    TAKE_PROFIT = "take_profit"  # limit at the trigger price
    STOP_MARKET = "stop_market"
    STOP_LIMIT = "stop_limit"

    @property
    def conditional(self) -> bool:
        """Binance keeps these in its separate conditional-order (algo) service."""
        return self in {
            OrderKind.TRAILING_STOP,
            OrderKind.TAKE_PROFIT,
            OrderKind.STOP_MARKET,
            OrderKind.STOP_LIMIT,
        }


class OrderSpec(BaseModel):
    """One order to send: the exchange adapter turns it into the exchange's own parameters."""

    kind: OrderKind
    side: Side
    amount: float
    client_order_id: str
    price: float | None = None
    trigger_price: float | None = None
    callback_rate: float | None = None
    reduce_only: bool = False


class MarketRules(BaseModel):
    """What the exchange accepts for one market: steps and minimums."""

    amount_step: Decimal
    price_step: Decimal
    min_amount: Decimal
    min_cost: Decimal | None = None

    def round_amount(self, amount: float | Decimal) -> Decimal:
        return (Decimal(str(amount)) / self.amount_step).to_integral_value(
            rounding=ROUND_DOWN
        ) * self.amount_step

    def round_price(self, price: float | Decimal) -> Decimal:
        return (Decimal(str(price)) / self.price_step).to_integral_value() * self.price_step


class ManualOrderRequest(BaseModel):
    symbol: str
    type: EntryType
    side: Side
    amount: float
    price: float | None = None
    take_profit_prices: list[float] = Field(default_factory=list)
    stop_trigger_price: float | None = None
    stop_trigger_type: StopTriggerType | None = None
    stop_price: float | None = None
    callback_rate: float | None = None
    risk_profile_percent: float | None = None


class PlacedOrder(BaseModel):
    """An order as recorded for the audit trail."""

    role: str  # entry, take_profit_<n>, stop, clear, close
    id: str | None
    client_order_id: str
    kind: str
    side: str
    amount: float | None
    price: float | None
    trigger_price: float | None
    status: str | None


class ManualOrderRecord(BaseModel):
    """What the user placed, what was sent, and every compensation made for it."""

    user_id: str
    key_id: str
    request_id: str
    symbol: str
    order_id: str | None = None
    price: float | None = None
    amount: float | None = None
    cost: float | None = None
    stop: float | None = None
    stop_type: str | None = None
    take_profit: list[float] = Field(default_factory=list)
    trailing_trigger_price: float | None = None
    callback_rate: float | None = None
    risk_profile_percent: float | None = None
    created_at: str
    outcome: str = "PENDING"  # PENDING, PLACED, COMPENSATED, FAILED
    orders: list[PlacedOrder] = Field(default_factory=list)
    compensations: list[str] = Field(default_factory=list)
