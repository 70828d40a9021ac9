"""Trades as the business logic sees them: what is asked, what the exchange holds, what is recorded.

The exchange adapter builds ``ExchangeOrder``, ``ExchangeFill`` and ``ExchangePosition`` from ccxt's
structures, so nothing past the adapter ever sees a ccxt dict.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from enum import StrEnum

from pydantic import Field

from core.models.base import Model


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


class Origin(StrEnum):
    """Who asked for a trade: a user by hand, or a strategy's signal on a follower's account."""

    MANUAL = "MANUAL"
    STRATEGY = "STRATEGY"

    @property
    def id_prefix(self) -> str:
        return "m" if self is Origin.MANUAL else "s"


class OrderKind(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    TRAILING_STOP = "trailing_stop"
    TAKE_PROFIT = "take_profit"  # conditional: a limit at the trigger price once the trigger is reached
    STOP_MARKET = "stop_market"
    STOP_LIMIT = "stop_limit"

    @property
    def conditional(self) -> bool:
        """Binance keeps these in its separate conditional-order (algo) service, with its own limit per symbol."""
        return self in {
            OrderKind.TRAILING_STOP,
            OrderKind.TAKE_PROFIT,
            OrderKind.STOP_MARKET,
            OrderKind.STOP_LIMIT,
        }


class OrderSpec(Model):
    """One order to send: the exchange adapter turns it into the exchange's own parameters."""

    kind: OrderKind
    side: Side
    amount: float
    client_order_id: str
    price: float | None = None
    trigger_price: float | None = None
    callback_rate: float | None = None
    reduce_only: bool = False


def _steps(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    return (value / step).to_integral_value(rounding=rounding) * step


class MarketRules(Model):
    """What the exchange accepts for one market (Binance's symbol filters), checked before anything is sent."""

    amount_step: Decimal
    price_step: Decimal
    min_amount: Decimal
    max_amount: Decimal | None = None  # LOT_SIZE
    max_market_amount: Decimal | None = None  # MARKET_LOT_SIZE: a market order's own maximum
    min_cost: Decimal | None = None  # MIN_NOTIONAL
    min_price: Decimal | None = None  # PRICE_FILTER
    max_price: Decimal | None = None
    # PERCENT_PRICE: a limit price must lie within [mark x down, mark x up].
    band_up: Decimal | None = None
    band_down: Decimal | None = None
    max_conditional_orders: int | None = None  # MAX_NUM_ALGO_ORDERS per symbol
    max_open_orders: int | None = None  # MAX_NUM_ORDERS per symbol

    def round_amount(self, amount: float | Decimal) -> Decimal:
        return _steps(Decimal(str(amount)), self.amount_step, ROUND_DOWN)

    def round_price(self, price: float | Decimal) -> Decimal:
        return _steps(Decimal(str(price)), self.price_step, ROUND_HALF_UP)

    def price_band(self, mark: Decimal) -> tuple[Decimal | None, Decimal | None]:
        low = mark * self.band_down if self.band_down is not None else None
        high = mark * self.band_up if self.band_up is not None else None
        return low, high


class OrderRequest(Model):
    """An entry with its take-profit ladder and stop, whoever asked for it."""

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
    move_stop_to_entry_after_take_profit: bool = False
    leverage: int | None = None  # a strategy order's: set on the symbol before the entry


# ---------------------------------------------------------------- what the exchange holds


class ExchangeFee(Model):
    cost: float | None = None
    currency: str | None = None


class ExchangeOrder(Model):
    """An order on the exchange, in the unified shape the API answers with (Binance's type names)."""

    id: str | None
    client_order_id: str | None = None
    timestamp: int | None = None
    datetime: str | None = None
    symbol: str  # the API's symbol: BTC/USDT
    type: str | None = None  # market, limit, take_profit, stop, stop_market, trailing_stop_market ...
    time_in_force: str | None = None
    post_only: bool | None = None
    reduce_only: bool | None = None
    side: str | None = None  # buy, sell
    price: float | None = None
    stop_price: float | None = None
    amount: float | None = None
    cost: float | None = None
    average: float | None = None
    filled: float | None = None
    remaining: float | None = None
    status: str | None = None  # open, closed, canceled, expired, rejected
    fee: ExchangeFee | None = None
    fees: list[ExchangeFee] = Field(default_factory=list)
    conditional: bool = False  # lives in the conditional-order (algo) service

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def is_filled(self) -> bool:
        return self.status == "closed"


class ExchangeFill(Model):
    """One execution of an order (a "trade" in ccxt's words)."""

    id: str | None
    order_id: str | None = None
    symbol: str
    type: str | None = None
    timestamp: int | None = None
    datetime: str | None = None
    side: str | None = None
    taker_or_maker: str | None = None
    price: float | None = None
    amount: float | None = None
    cost: float | None = None
    fee: ExchangeFee | None = None
    fees: list[ExchangeFee] = Field(default_factory=list)


class ExchangePosition(Model):
    symbol: str
    side: str | None = None  # long, short
    contracts: float = 0.0
    contract_size: float | None = None
    entry_price: float | None = None
    mark_price: float | None = None
    notional: float | None = None
    leverage: float | None = None
    unrealized_pnl: float | None = None
    liquidation_price: float | None = None
    collateral: float | None = None
    initial_margin: float | None = None
    initial_margin_percentage: float | None = None
    maintenance_margin: float | None = None
    maintenance_margin_percentage: float | None = None
    margin_ratio: float | None = None
    margin_mode: str | None = None
    hedged: bool | None = None
    percentage: float | None = None
    datetime: str | None = None


@dataclass(frozen=True)
class AccountSnapshot:
    """One account read (USD-M: GET /fapi/v3/account, weight 5): the USDT wallet balance and the
    API symbols (e.g. "BTC/USDT") that hold a position or open orders."""

    equity_usdt: float
    busy_symbols: frozenset[str]
    read_at_ms: int


class Candle(Model):
    """One period of a market's trading (a 1-minute candle)."""

    open_ms: int
    open: float
    high: float
    low: float
    close: float


class PriceRange(Model):
    """The lowest and highest price a market traded at over a period (from its candles)."""

    low: float
    high: float
    until_ms: int  # the end of the last candle read

    def crossed(self, level: float) -> bool:
        return self.low <= level <= self.high


# ---------------------------------------------------------------- what is recorded


class TradeState(StrEnum):
    """The saga's outcome. The first three are unfinished: the monitor finishes a record left in them."""

    PENDING = "PENDING"  # checked and recorded; nothing sent yet
    ENTERING = "ENTERING"  # the symbol is being cleared or the entry sent
    PROTECTING = "PROTECTING"  # the entry is on the exchange; its exits are being placed
    OPEN = "OPEN"  # the entry and every exit are on the exchange
    CLOSED = "CLOSED"  # the position is flat and no exit is left
    COMPENSATED = "COMPENSATED"  # an exit could not be placed: everything was cancelled and closed
    FAILED = "FAILED"  # the entry was refused: nothing was left on the exchange

    @property
    def finished(self) -> bool:
        return self in {TradeState.CLOSED, TradeState.COMPENSATED, TradeState.FAILED}

    @property
    def unfinished(self) -> bool:
        return self in {TradeState.PENDING, TradeState.ENTERING, TradeState.PROTECTING}


class CloseReason(StrEnum):
    TAKE_PROFIT = "TAKE_PROFIT"
    STOP_LOSS = "STOP_LOSS"
    SIGNAL = "SIGNAL"
    MANUAL = "MANUAL"
    LIQUIDATION = "LIQUIDATION"


@dataclass(frozen=True)
class OrderRef:
    """An order by its client id, in the regular book or the conditional (algo) one."""

    client_order_id: str
    conditional: bool


class PlacedOrder(Model):
    """An order of the trade as recorded: planned (no id yet) or placed."""

    role: str  # entry, take_profit_<n>, stop, clear, close, repair
    id: str | None
    client_order_id: str
    kind: str
    side: str
    amount: float | None
    price: float | None
    trigger_price: float | None
    status: str | None
    conditional: bool = False


class JournalEntry(Model):
    at: str
    step: str  # what happened: "send entry", "entry placed", "compensate", "repair" ...
    detail: str | None = None


class TradeRecord(Model):
    """A trade's whole life: what was asked, every order sent, every compensation, repair and fill, the outcome.

    Written before the first exchange call and after each step (the journal), so the monitor can
    finish what a crash interrupted.
    """

    user_id: str
    key_id: str
    trade_id: str
    origin: Origin = Origin.MANUAL
    strategy_id: str | None = None
    symbol: str
    side: Side
    entry_type: EntryType
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
    leverage: int | None = None  # a strategy order's: the signal's leverage (the automated history shows it)
    move_stop_to_entry: bool = False
    created_at: str
    updated_at: str | None = None
    state: TradeState = TradeState.PENDING
    planned: list[PlacedOrder] = Field(default_factory=list)  # every order the plan sends, before any is
    orders: list[PlacedOrder] = Field(default_factory=list)  # what the exchange accepted
    journal: list[JournalEntry] = Field(default_factory=list)
    failure: str | None = None  # the documented error a refused or compensated request answered with
    filled_take_profits: list[int] = Field(default_factory=list)  # 1-based indexes
    stop_moved: bool = False
    exit_price: float | None = None
    realized_pnl: float | None = None
    fees: float | None = None
    close_reason: CloseReason | None = None
    closed_at: str | None = None

    def placed(self, role: str) -> PlacedOrder | None:
        return next((order for order in reversed(self.orders) if order.role == role), None)

    @property
    def exits(self) -> list[PlacedOrder]:
        """The exits currently meant to be on the book (the latest stop, every take-profit)."""
        roles = {order.role for order in self.planned if order.role != "entry"}
        return [order for role in sorted(roles) if (order := self.placed(role)) is not None]


def decimal(value: float | str | Decimal) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))
