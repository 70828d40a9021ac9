"""The simulator's data: accounts, wallets, orders, conditional orders, positions and the clock.

Plain dataclasses with no behaviour beyond derived properties, plus the few market rules every part
of the engine shares (what an order can reduce, when a trigger fires, when a limit is marketable).
"""

from __future__ import annotations

import re
import secrets
import string
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from local.exchange_sim.market import ZERO, MarketKind, MarketSpec

Side = Literal["BUY", "SELL"]

OPEN_STATUSES = frozenset({"NEW", "PARTIALLY_FILLED"})
TIME_IN_FORCE = frozenset({"GTC", "IOC", "FOK", "GTX", "GTD"})
FUTURES_CONDITIONAL_TYPES = frozenset(
    {"STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"}
)
FUTURES_MARKET_LIKE = frozenset({"STOP_MARKET", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"})
SPOT_ORDER_TYPES = frozenset(
    {"LIMIT", "MARKET", "LIMIT_MAKER", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"}
)
SPOT_STOP_TYPES = frozenset({"STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"})
SPOT_LIMIT_TYPES = frozenset({"LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"})
CALLBACK_RATE_RANGE = (Decimal("0.1"), Decimal("10"))
DEFAULT_LEVERAGE = 20
# exchangeInfo's MAX_NUM_ORDERS / MAX_NUM_ALGO_ORDERS of every futures symbol (per account and symbol).
MAX_NUM_ORDERS = 200
MAX_NUM_ALGO_ORDERS = 10
# The spot symbols' MAX_NUM_ORDERS / MAX_NUM_ALGO_ORDERS (stop-loss and take-profit orders).
SPOT_MAX_NUM_ORDERS = 200
SPOT_MAX_NUM_ALGO_ORDERS = 5
# Algo ids are their own sequence, far from regular order ids, so the two never collide in answers.
FIRST_ALGO_ID = 1_000_000_001
# Binance's futures client order id pattern (spot allows fewer characters, see ``spot``).
FUTURES_CLIENT_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")
_ALPHANUMERIC = string.ascii_letters + string.digits


def random_token(length: int) -> str:
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


class Clock:
    """Server time in ms; ``offset_ms`` lets a test put the server ahead of or behind the client."""

    def __init__(self) -> None:
        self.offset_ms = 0

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.offset_ms


_PERMISSION_KEYS = {
    "enableReading": "enable_reading",
    "enableSpotAndMarginTrading": "enable_spot_and_margin_trading",
    "enableWithdrawals": "enable_withdrawals",
    "enableFutures": "enable_futures",
    "ipRestrict": "ip_restrict",
    "enableInternalTransfer": "enable_internal_transfer",
    "enableMargin": "enable_margin",
    "permitsUniversalTransfer": "permits_universal_transfer",
    "enableVanillaOptions": "enable_vanilla_options",
    "enablePortfolioMarginTrading": "enable_portfolio_margin_trading",
    "enableFixApiTrade": "enable_fix_api_trade",
    "enableFixReadOnly": "enable_fix_read_only",
}


@dataclass
class Permissions:
    """The flags of ``GET /sapi/v1/account/apiRestrictions``; the engine enforces the first four."""

    enable_reading: bool = True
    enable_spot_and_margin_trading: bool = True
    enable_withdrawals: bool = False
    enable_futures: bool = True
    ip_restrict: bool = True
    enable_internal_transfer: bool = False
    enable_margin: bool = False
    permits_universal_transfer: bool = False
    enable_vanilla_options: bool = False
    enable_portfolio_margin_trading: bool = False
    enable_fix_api_trade: bool = False
    enable_fix_read_only: bool = False

    @classmethod
    def from_mapping(cls, values: Mapping[str, object] | None) -> Permissions:
        permissions = cls()
        for key, value in (values or {}).items():
            attribute = _PERMISSION_KEYS.get(key, key if key in _PERMISSION_KEYS.values() else None)
            if attribute is None:
                raise ValueError(f"unknown permission {key!r}; expected one of {sorted(_PERMISSION_KEYS)}")
            if not isinstance(value, bool):
                raise ValueError(f"permission {key!r} must be a bool")
            setattr(permissions, attribute, value)
        return permissions

    def to_json(self) -> dict[str, bool]:
        return {key: getattr(self, attribute) for key, attribute in _PERMISSION_KEYS.items()}


@dataclass
class Balance:
    free: Decimal = ZERO
    locked: Decimal = ZERO


@dataclass
class Trade:
    trade_id: int
    kind: MarketKind
    symbol: str
    order_id: int
    side: Side
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    realized_pnl: Decimal
    maker: bool
    time_ms: int


@dataclass
class Order:
    """A regular order (spot, or futures MARKET/LIMIT including those created by a trigger)."""

    order_id: int
    client_order_id: str
    kind: MarketKind
    symbol: str
    side: Side
    type: str
    orig_type: str
    time_in_force: str
    quantity: Decimal
    price: Decimal
    stop_price: Decimal
    reduce_only: bool
    close_position: bool
    created_ms: int
    updated_ms: int
    status: str = "NEW"
    executed_qty: Decimal = ZERO
    cum_quote: Decimal = ZERO
    # Spot stop orders wait untriggered (isWorking false) on the regular order book.
    working: bool = True
    working_ms: int = 0
    quote_order_qty: Decimal = ZERO
    locked_asset: str | None = None
    locked_amount: Decimal = ZERO
    algo_id: int | None = None
    stp_mode: str = "NONE"
    fills: list[Trade] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def avg_price(self) -> Decimal:
        return self.cum_quote / self.executed_qty if self.executed_qty else ZERO


@dataclass
class AlgoOrder:
    """A futures conditional order held by the algo service until its trigger fires."""

    algo_id: int
    client_algo_id: str
    symbol: str
    side: Side
    order_type: str
    quantity: Decimal | None  # None with closePosition=true
    price: Decimal
    trigger_price: Decimal
    time_in_force: str
    working_type: str
    reduce_only: bool
    close_position: bool
    price_protect: bool
    callback_rate: Decimal | None
    activate_price: Decimal | None
    created_ms: int
    updated_ms: int
    stp_mode: str = "NONE"
    status: str = "NEW"
    trigger_ms: int = 0
    actual_order_id: int | None = None
    trailing_active: bool = False
    trailing_extreme: Decimal | None = None

    @property
    def is_open(self) -> bool:
        return self.status == "NEW"


@dataclass
class Position:
    amount: Decimal = ZERO  # signed: > 0 long, < 0 short
    entry_price: Decimal = ZERO
    updated_ms: int = 0


@dataclass
class SymbolSettings:
    leverage: int = DEFAULT_LEVERAGE
    margin_type: str = "CROSSED"  # or "ISOLATED"


@dataclass
class PositionMetrics:
    """Derived figures of one futures position at the current mark price."""

    spec: MarketSpec
    amount: Decimal
    entry_price: Decimal
    mark_price: Decimal
    notional: Decimal  # signed
    unrealized_pnl: Decimal
    initial_margin: Decimal
    maint_margin: Decimal
    open_order_margin: Decimal
    isolated_wallet: Decimal
    liquidation_price: Decimal
    break_even_price: Decimal
    leverage: int
    margin_type: str
    updated_ms: int


@dataclass
class FuturesSummary:
    wallet: Decimal
    unrealized_pnl: Decimal
    position_margin: Decimal
    order_margin: Decimal
    maint_margin: Decimal

    @property
    def margin_balance(self) -> Decimal:
        return self.wallet + self.unrealized_pnl

    @property
    def available(self) -> Decimal:
        return self.margin_balance - self.position_margin - self.order_margin


@dataclass
class Account:
    api_key: str
    secret: str
    permissions: Permissions
    created_ms: int
    spot: dict[str, Balance] = field(default_factory=dict)
    futures_wallet: dict[str, Decimal] = field(default_factory=dict)
    futures_updated_ms: int = 0
    settings: dict[str, SymbolSettings] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    algo_orders: dict[int, AlgoOrder] = field(default_factory=dict)
    trades: list[Trade] = field(default_factory=list)

    def balance(self, asset: str) -> Balance:
        return self.spot.setdefault(asset, Balance())

    def settings_for(self, symbol: str) -> SymbolSettings:
        return self.settings.setdefault(symbol, SymbolSettings())

    def position(self, symbol: str) -> Position:
        return self.positions.setdefault(symbol, Position())

    def orders_of(self, kind: MarketKind, symbol: str | None = None) -> list[Order]:
        return [o for o in self.orders.values() if o.kind == kind and (symbol is None or o.symbol == symbol)]

    def open_orders(self, kind: MarketKind, symbol: str | None = None) -> list[Order]:
        return [o for o in self.orders_of(kind, symbol) if o.is_open]

    def open_algos(self, symbol: str | None = None) -> list[AlgoOrder]:
        return [a for a in self.algo_orders.values() if a.is_open and (symbol is None or a.symbol == symbol)]


@dataclass(frozen=True)
class SpotOrderRequest:
    spec: MarketSpec
    side: Side
    type: str
    quantity: Decimal | None
    quote_order_qty: Decimal | None
    price: Decimal | None
    stop_price: Decimal | None
    time_in_force: str | None
    client_order_id: str | None
    stp_mode: str = "EXPIRE_MAKER"


@dataclass(frozen=True)
class FuturesOrderRequest:
    spec: MarketSpec
    side: Side
    type: str  # MARKET or LIMIT
    quantity: Decimal | None
    price: Decimal | None
    time_in_force: str | None
    reduce_only: bool
    client_order_id: str | None
    stp_mode: str = "EXPIRE_MAKER"


@dataclass(frozen=True)
class AlgoOrderRequest:
    spec: MarketSpec
    side: Side
    type: str
    quantity: Decimal | None
    price: Decimal | None
    trigger_price: Decimal | None
    callback_rate: Decimal | None
    activate_price: Decimal | None
    time_in_force: str | None
    reduce_only: bool
    close_position: bool
    working_type: str
    price_protect: bool
    client_algo_id: str | None
    stp_mode: str = "EXPIRE_MAKER"


@dataclass
class MarketVolume:
    """Traded volume of one market since start, for the 24hr ticker."""

    volume: Decimal = ZERO
    quote_volume: Decimal = ZERO
    count: int = 0
    first_trade_id: int = -1
    last_trade_id: int = -1
    last_qty: Decimal = ZERO


def reducible(position: Decimal, side: Side) -> Decimal:
    """How much of ``position`` an order on ``side`` can reduce (0 when it would add to it)."""
    if position > 0 and side == "SELL":
        return position
    if position < 0 and side == "BUY":
        return -position
    return ZERO


def conditional_hit(order_type: str, side: Side, trigger: Decimal, price: Decimal) -> bool:
    """Binance's trigger rule: stops fire against the position, take-profits in its favour."""
    if order_type in ("STOP", "STOP_MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT"):
        return price <= trigger if side == "SELL" else price >= trigger
    return price >= trigger if side == "SELL" else price <= trigger


def marketable(side: Side, limit: Decimal, price: Decimal) -> bool:
    return limit >= price if side == "BUY" else limit <= price


def trailing_activated(side: Side, activation: Decimal, price: Decimal) -> bool:
    # A sell trail protects a long: it starts once the price has risen to the activation price.
    return price >= activation if side == "SELL" else price <= activation
