"""Accounts, orders, positions and matching: the state behind the simulated Binance endpoints.

The model is deliberately simple where the project does not care and faithful where it does:

* liquidity is infinite: a marketable order fills completely at the current price (taker), a resting
  LIMIT order fills completely at its own price once the market price crosses it (maker);
* one price per pair drives spot and futures alike (``market.PriceBook``); there is no funding,
  no liquidation engine and no hedge mode (one-way positions, ``positionSide`` BOTH);
* futures conditional orders live in the *algo* service exactly as Binance has run them since
  2025-11: ``POST /fapi/v1/algoOrder`` returns an ``algoId``; when the trigger condition is met the
  algo order becomes a regular MARKET or LIMIT order (``actualOrderId``) which then fills as such;
* reduce-only orders never open or flip a position: regular ones are refused (-2022) when there is
  nothing to reduce at placement, clamped to the position when they fill, and expired when the
  position they were reducing is gone (Binance cancels them the same way); conditional (algo) ones
  are accepted before the position exists (a stop or take-profit placed with a resting entry) and
  checked when they trigger, where nothing to reduce rejects them;
* spot fees are charged in the asset received (base for buys, quote for sells) like Binance does for
  accounts without BNB; futures fees are charged in USDT from the futures wallet.

Every public method takes ``Engine.lock`` (re-entrant), so the HTTP layer can also hold it around a
whole request to make "mutate, then render" atomic.
"""

from __future__ import annotations

import itertools
import re
import secrets
import string
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from local.exchange_sim import errors
from local.exchange_sim.market import (
    ONE,
    ZERO,
    Bracket,
    MarketKind,
    MarketRegistry,
    MarketSpec,
    PriceBook,
    floor_to_step,
    money,
    to_decimal,
)

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
# Binance's client order id patterns (futures allows a few more characters than spot).
_FUTURES_CLIENT_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")
_SPOT_CLIENT_ID = re.compile(r"^[a-zA-Z0-9_-]{1,36}$")
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


def _reducible(position: Decimal, side: Side) -> Decimal:
    """How much of ``position`` an order on ``side`` can reduce (0 when it would add to it)."""
    if position > 0 and side == "SELL":
        return position
    if position < 0 and side == "BUY":
        return -position
    return ZERO


def _conditional_hit(order_type: str, side: Side, trigger: Decimal, price: Decimal) -> bool:
    """Binance's trigger rule: stops fire against the position, take-profits in its favour."""
    if order_type in ("STOP", "STOP_MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT"):
        return price <= trigger if side == "SELL" else price >= trigger
    return price >= trigger if side == "SELL" else price <= trigger


def _marketable(side: Side, limit: Decimal, price: Decimal) -> bool:
    return limit >= price if side == "BUY" else limit <= price


class Engine:
    """All simulator state. Thread-safe through ``lock``."""

    def __init__(self, markets: MarketRegistry, prices: Mapping[str, Decimal], clock: Clock) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.markets = markets
        missing = markets.pairs() - set(prices)
        if missing:
            raise ValueError(f"no initial price for {sorted(missing)}")
        self.book = PriceBook({pair: prices[pair] for pair in markets.pairs()}, clock.now_ms())
        self.accounts: dict[str, Account] = {}
        self.volumes: dict[tuple[MarketKind, str], MarketVolume] = {}
        self._order_ids = itertools.count(1)
        self._algo_ids = itertools.count(1)
        self._trade_ids = itertools.count(1)

    # -- accounts ----------------------------------------------------------------------------------

    def create_account(
        self, balances: Mapping[str, object] | None = None, permissions: Mapping[str, object] | None = None
    ) -> Account:
        now = self.clock.now_ms()
        seeded = {"USDT": 10000} if balances is None else dict(balances)
        account = Account(
            api_key=random_token(64),
            secret=random_token(64),
            permissions=Permissions.from_mapping(permissions),
            created_ms=now,
            futures_updated_ms=now,
        )
        for asset, amount in seeded.items():
            value = to_decimal(amount)
            if value < 0:
                raise ValueError(f"negative balance for {asset}")
            # Two independent wallets seeded alike: the spot account and the USD-M futures wallet.
            account.spot[asset] = Balance(free=money(value))
            account.futures_wallet[asset] = money(value)
        with self.lock:
            self.accounts[account.api_key] = account
        return account

    def account_by_key(self, api_key: str) -> Account | None:
        with self.lock:
            return self.accounts.get(api_key)

    # -- prices ------------------------------------------------------------------------------------

    def price(self, pair: str) -> Decimal:
        with self.lock:
            return self.book.price(pair)

    def mark(self, spec: MarketSpec) -> Decimal:
        return self.book.price(spec.pair)

    def set_price(self, pair: str, price: Decimal) -> None:
        """Move a pair's price, then fill crossed limits, fire triggers and trail, in that order."""
        if price <= 0:
            raise ValueError("price must be positive")
        with self.lock:
            self.book.set(pair, price)
            specs = self.markets.for_pair(pair)
            for account in list(self.accounts.values()):
                for spec in specs:
                    if spec.kind == "spot":
                        self._spot_on_price(account, spec)
                    else:
                        self._futures_on_price(account, spec)

    # -- ids & bookkeeping -------------------------------------------------------------------------

    def _record_trade(self, account: Account, order: Order, trade: Trade) -> None:
        account.trades.append(trade)
        order.fills.append(trade)
        volume = self.volumes.setdefault((order.kind, order.symbol), MarketVolume())
        volume.volume += trade.qty
        volume.quote_volume += trade.quote_qty
        volume.count += 1
        if volume.first_trade_id < 0:
            volume.first_trade_id = trade.trade_id
        volume.last_trade_id = trade.trade_id
        volume.last_qty = trade.qty

    # -- spot --------------------------------------------------------------------------------------

    def place_spot_order(self, account: Account, request: SpotOrderRequest) -> Order:
        with self.lock:
            spec, side, order_type = request.spec, request.side, request.type
            now = self.clock.now_ms()
            price_now = self.mark(spec)
            client_id = self._spot_client_id(account, spec, request.client_order_id)
            quantity = request.quantity
            price = request.price or ZERO
            stop = request.stop_price or ZERO
            tif = request.time_in_force
            if order_type == "MARKET":
                if quantity is None:
                    if request.quote_order_qty is None:
                        raise errors.either_param("quantity", "quoteOrderQty")
                    quantity = floor_to_step(request.quote_order_qty / price_now, spec.step_size)
                spec.check_quantity(quantity, market_order=True)
                spec.check_notional(quantity * price_now)
                tif = "GTC"
            else:
                if quantity is None:
                    raise errors.mandatory_param("quantity")
                spec.check_quantity(quantity, market_order=order_type in ("STOP_LOSS", "TAKE_PROFIT"))
                if order_type in SPOT_LIMIT_TYPES:
                    if request.price is None:
                        raise errors.mandatory_param("price")
                    spec.check_price(price)
                if order_type in SPOT_STOP_TYPES:
                    if request.stop_price is None:
                        raise errors.mandatory_param("stopPrice")
                    spec.check_price(stop, "stopPrice")
                spec.check_notional(quantity * (price if price else stop))
                if order_type in ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"):
                    if tif is None:
                        raise errors.mandatory_param("timeInForce")
                    if tif not in ("GTC", "IOC", "FOK"):
                        raise errors.invalid_time_in_force()
                else:
                    tif = "GTC"
            order = Order(
                order_id=0,
                client_order_id=client_id,
                kind="spot",
                symbol=spec.symbol_id,
                side=side,
                type=order_type,
                orig_type=order_type,
                time_in_force=tif or "GTC",
                quantity=quantity,
                price=price,
                stop_price=stop,
                reduce_only=False,
                close_position=False,
                created_ms=now,
                updated_ms=now,
                working_ms=now,
                quote_order_qty=request.quote_order_qty or ZERO,
                stp_mode=request.stp_mode,
            )
            if order_type in SPOT_STOP_TYPES:
                if _conditional_hit(order_type, side, stop, price_now):
                    raise errors.spot_stop_would_trigger()
                order.working = False
                order.working_ms = -1
                if side == "SELL":
                    self._lock_spot(account, order, spec.base, quantity)
                elif order_type.endswith("_LIMIT"):
                    self._lock_spot(account, order, spec.quote, money(quantity * price))
                return self._store(account, order)
            if order_type == "MARKET":
                self._check_spot_funds(account, spec, side, quantity, price_now)
                self._store(account, order)
                self._fill_spot(account, spec, order, price_now, maker=False)
                return order
            marketable = _marketable(side, price, price_now)
            if order_type == "LIMIT_MAKER" and marketable:
                raise errors.spot_would_take()
            if marketable:
                self._check_spot_funds(account, spec, side, quantity, price_now)
                self._store(account, order)
                self._fill_spot(account, spec, order, price_now, maker=False)
                return order
            if tif in ("IOC", "FOK"):
                order.status = "EXPIRED"
                return self._store(account, order)
            if side == "BUY":
                self._lock_spot(account, order, spec.quote, money(quantity * price))
            else:
                self._lock_spot(account, order, spec.base, quantity)
            return self._store(account, order)

    def _spot_client_id(self, account: Account, spec: MarketSpec, client_id: str | None) -> str:
        if client_id is None:
            return random_token(22)
        if not _SPOT_CLIENT_ID.match(client_id):
            raise errors.illegal_chars("newClientOrderId")
        if any(o.client_order_id == client_id for o in account.open_orders("spot", spec.symbol_id)):
            raise errors.spot_duplicate_order()
        return client_id

    def _store(self, account: Account, order: Order) -> Order:
        order.order_id = next(self._order_ids)
        account.orders[order.order_id] = order
        return order

    def _check_spot_funds(
        self, account: Account, spec: MarketSpec, side: Side, quantity: Decimal, price: Decimal
    ) -> None:
        if side == "BUY":
            enough = account.balance(spec.quote).free >= money(quantity * price)
        else:
            enough = account.balance(spec.base).free >= quantity
        if not enough:
            raise errors.spot_insufficient_balance()

    def _lock_spot(self, account: Account, order: Order, asset: str, amount: Decimal) -> None:
        balance = account.balance(asset)
        if balance.free < amount:
            raise errors.spot_insufficient_balance()
        balance.free -= amount
        balance.locked += amount
        order.locked_asset = asset
        order.locked_amount = amount

    def _release_spot_lock(self, account: Account, order: Order) -> None:
        if order.locked_asset is None or not order.locked_amount:
            return
        balance = account.balance(order.locked_asset)
        balance.locked -= order.locked_amount
        balance.free += order.locked_amount
        order.locked_amount = ZERO

    def _debit_spot(self, account: Account, order: Order, asset: str, amount: Decimal) -> None:
        """Pay ``amount`` of ``asset``: from the order's own lock first, then from the free balance."""
        balance = account.balance(asset)
        from_lock = ZERO
        if order.locked_asset == asset:
            from_lock = min(amount, order.locked_amount)
            order.locked_amount -= from_lock
            balance.locked -= from_lock
        balance.free -= amount - from_lock

    def _fill_spot(
        self, account: Account, spec: MarketSpec, order: Order, price: Decimal, *, maker: bool
    ) -> None:
        qty = order.quantity - order.executed_qty
        cost = money(qty * price)
        rate = spec.maker_fee if maker else spec.taker_fee
        if order.side == "BUY":
            self._debit_spot(account, order, spec.quote, cost)
            fee, fee_asset = money(qty * rate), spec.base
            account.balance(spec.base).free += qty - fee
        else:
            self._debit_spot(account, order, spec.base, qty)
            fee, fee_asset = money(cost * rate), spec.quote
            account.balance(spec.quote).free += cost - fee
        self._release_spot_lock(account, order)
        now = self.clock.now_ms()
        trade = Trade(
            trade_id=next(self._trade_ids),
            kind="spot",
            symbol=spec.symbol_id,
            order_id=order.order_id,
            side=order.side,
            price=price,
            qty=qty,
            quote_qty=cost,
            commission=fee,
            commission_asset=fee_asset,
            realized_pnl=ZERO,
            maker=maker,
            time_ms=now,
        )
        order.executed_qty += qty
        order.cum_quote += cost
        order.status = "FILLED"
        order.updated_ms = now
        self._record_trade(account, order, trade)

    def _spot_on_price(self, account: Account, spec: MarketSpec) -> None:
        price = self.mark(spec)
        orders = sorted(account.open_orders("spot", spec.symbol_id), key=lambda o: o.order_id)
        for order in orders:
            if (
                order.working
                and order.type in SPOT_LIMIT_TYPES
                and _marketable(order.side, order.price, price)
            ):
                self._fill_spot(account, spec, order, order.price, maker=True)
        for order in orders:
            if (
                not order.is_open
                or order.working
                or not _conditional_hit(order.type, order.side, order.stop_price, price)
            ):
                continue
            order.working = True
            order.working_ms = order.updated_ms = self.clock.now_ms()
            if order.type in ("STOP_LOSS", "TAKE_PROFIT"):
                # A market buy locks nothing while it waits: without the funds now, it expires.
                if order.side == "BUY" and account.balance(spec.quote).free < money(order.quantity * price):
                    self._cancel(account, order, "EXPIRED")
                    continue
                self._fill_spot(account, spec, order, price, maker=False)
            elif _marketable(order.side, order.price, price):
                self._fill_spot(account, spec, order, price, maker=False)

    def cancel_spot_order(self, account: Account, order: Order) -> Order:
        with self.lock:
            if not order.is_open:
                raise errors.unknown_order()
            self._cancel(account, order)
            return order

    def _cancel(self, account: Account, order: Order, status: str = "CANCELED") -> None:
        order.status = status
        order.updated_ms = self.clock.now_ms()
        if order.kind == "spot":
            self._release_spot_lock(account, order)
        elif order.algo_id is not None:
            algo = account.algo_orders.get(order.algo_id)
            if algo is not None:
                algo.status = "FINISHED"
                algo.updated_ms = order.updated_ms

    def cancel_all_spot(self, account: Account, spec: MarketSpec) -> list[Order]:
        with self.lock:
            orders = account.open_orders("spot", spec.symbol_id)
            if not orders:
                # Binance answers -2011 rather than an empty list when nothing is open.
                raise errors.unknown_order()
            for order in orders:
                self._cancel(account, order)
            return orders

    # -- order lookups (spot and futures) ----------------------------------------------------------

    def find_order(
        self,
        account: Account,
        kind: MarketKind,
        spec: MarketSpec,
        order_id: int | None,
        client_id: str | None,
    ) -> Order:
        with self.lock:
            if order_id is not None:
                order = account.orders.get(order_id)
                if order is not None and order.kind == kind and order.symbol == spec.symbol_id:
                    return order
                raise errors.order_does_not_exist()
            matches = [o for o in account.orders_of(kind, spec.symbol_id) if o.client_order_id == client_id]
            if not matches:
                raise errors.order_does_not_exist()
            # A client id can be reused once the earlier order is closed: the latest one wins.
            return max(matches, key=lambda o: o.order_id)

    def find_algo(self, account: Account, algo_id: int | None, client_algo_id: str | None) -> AlgoOrder:
        with self.lock:
            if algo_id is not None:
                algo = account.algo_orders.get(algo_id)
                if algo is None:
                    raise errors.order_does_not_exist()
                return algo
            matches = [a for a in account.algo_orders.values() if a.client_algo_id == client_algo_id]
            if not matches:
                raise errors.order_does_not_exist()
            return max(matches, key=lambda a: a.algo_id)

    # -- futures: orders ---------------------------------------------------------------------------

    def place_futures_order(self, account: Account, request: FuturesOrderRequest) -> Order:
        with self.lock:
            spec, side = request.spec, request.side
            now = self.clock.now_ms()
            price_now = self.mark(spec)
            client_id = self._futures_client_id(account, request.client_order_id)
            if request.quantity is None:
                raise errors.mandatory_param("quantity")
            quantity = request.quantity
            if request.type == "MARKET":
                spec.check_quantity(quantity, market_order=True)
                reference = price_now
                tif = "GTC"
                price = ZERO
            else:
                if request.price is None:
                    raise errors.mandatory_param("price")
                if request.time_in_force is None:
                    raise errors.mandatory_param("timeInForce")
                spec.check_price(request.price)
                spec.check_quantity(quantity, market_order=False)
                reference = price = request.price
                tif = request.time_in_force
            position = account.position(spec.symbol_id).amount
            if request.reduce_only:
                if not _reducible(position, side):
                    raise errors.reduce_only_rejected()
            else:
                spec.check_notional(quantity * reference)
                self._check_margin(account, spec, side, quantity, reference)
            order = Order(
                order_id=0,
                client_order_id=client_id,
                kind="futures",
                symbol=spec.symbol_id,
                side=side,
                type=request.type,
                orig_type=request.type,
                time_in_force=tif,
                quantity=quantity,
                price=price,
                stop_price=ZERO,
                reduce_only=request.reduce_only,
                close_position=False,
                created_ms=now,
                updated_ms=now,
                stp_mode=request.stp_mode,
            )
            self._submit_futures(account, spec, order)
            return order

    def _futures_client_id(self, account: Account, client_id: str | None) -> str:
        if client_id is None:
            return random_token(22)
        if not _FUTURES_CLIENT_ID.match(client_id):
            raise errors.client_order_id_invalid()
        if any(o.client_order_id == client_id for o in account.open_orders("futures")):
            raise errors.client_order_id_duplicated()
        return client_id

    def _submit_futures(self, account: Account, spec: MarketSpec, order: Order) -> None:
        """Store a validated futures order and let it fill now, rest, or expire by its time in force."""
        price_now = self.mark(spec)
        if order.type == "MARKET":
            self._store(account, order)
            self._fill_futures(account, spec, order, price_now, maker=False)
            return
        marketable = _marketable(order.side, order.price, price_now)
        if order.time_in_force == "GTX" and marketable:
            raise errors.post_only_rejected()
        self._store(account, order)
        if marketable:
            self._fill_futures(account, spec, order, price_now, maker=False)
        elif order.time_in_force in ("IOC", "FOK"):
            order.status = "EXPIRED"

    def _check_margin(
        self, account: Account, spec: MarketSpec, side: Side, quantity: Decimal, price: Decimal
    ) -> None:
        """Refuse an order whose position-opening part needs more initial margin than is available."""
        position = account.position(spec.symbol_id).amount
        opening = max(ZERO, quantity - _reducible(position, side))
        if not opening:
            return
        settings = account.settings_for(spec.symbol_id)
        resulting_size = (ZERO if _reducible(position, side) else abs(position)) + opening
        if resulting_size * price > self.max_notional(spec, settings.leverage):
            raise errors.BinanceError(-2027, "Exceeded the maximum allowable position at current leverage.")
        required = opening * price / settings.leverage + quantity * price * spec.taker_fee
        if self.futures_summary(account).available < required:
            raise errors.margin_insufficient()

    def _fill_futures(
        self, account: Account, spec: MarketSpec, order: Order, price: Decimal, *, maker: bool
    ) -> None:
        position = account.position(spec.symbol_id)
        qty = order.quantity - order.executed_qty
        now = self.clock.now_ms()
        if order.reduce_only or order.close_position:
            qty = min(qty, _reducible(position.amount, order.side))
            if not qty:
                self._cancel(account, order, "EXPIRED")
                return
        signed = qty if order.side == "BUY" else -qty
        realized = ZERO
        old = position.amount
        if old == 0 or (old > 0) == (signed > 0):
            new_amount = old + signed
            position.entry_price = (abs(old) * position.entry_price + qty * price) / abs(new_amount)
        else:
            closing = min(qty, abs(old))
            realized = (price - position.entry_price) * closing * (1 if old > 0 else -1)
            new_amount = old + signed
            if new_amount == 0:
                position.entry_price = ZERO
            elif (new_amount > 0) != (old > 0):
                position.entry_price = price  # flipped: the remainder opened at this price
        position.amount = new_amount
        position.updated_ms = now
        quote_qty = money(qty * price)
        fee = money(quote_qty * (spec.maker_fee if maker else spec.taker_fee))
        realized = money(realized)
        wallet = account.futures_wallet
        wallet[spec.quote] = wallet.get(spec.quote, ZERO) + realized - fee
        account.futures_updated_ms = now
        trade = Trade(
            trade_id=next(self._trade_ids),
            kind="futures",
            symbol=spec.symbol_id,
            order_id=order.order_id,
            side=order.side,
            price=price,
            qty=qty,
            quote_qty=quote_qty,
            commission=fee,
            commission_asset=spec.quote,
            realized_pnl=realized,
            maker=maker,
            time_ms=now,
        )
        order.executed_qty += qty
        order.cum_quote += quote_qty
        # A reduce-only order clamped to the position ends EXPIRED with what it did fill, like IOC leftovers.
        order.status = "FILLED" if order.executed_qty == order.quantity else "EXPIRED"
        order.updated_ms = now
        self._record_trade(account, order, trade)
        if order.algo_id is not None:
            algo = account.algo_orders.get(order.algo_id)
            if algo is not None:
                algo.status = "FINISHED"
                algo.updated_ms = now
        self._expire_stale_reduce_only(account, spec)

    def _expire_stale_reduce_only(self, account: Account, spec: MarketSpec) -> None:
        position = account.position(spec.symbol_id).amount
        for order in account.open_orders("futures", spec.symbol_id):
            if order.reduce_only and not _reducible(position, order.side):
                self._cancel(account, order, "EXPIRED")

    def cancel_futures_order(self, account: Account, order: Order) -> Order:
        with self.lock:
            if not order.is_open:
                raise errors.unknown_order()
            self._cancel(account, order)
            return order

    def cancel_all_futures(self, account: Account, spec: MarketSpec) -> list[Order]:
        with self.lock:
            orders = account.open_orders("futures", spec.symbol_id)
            for order in orders:
                self._cancel(account, order)
            return orders

    # -- futures: conditional (algo) orders --------------------------------------------------------

    def place_algo_order(self, account: Account, request: AlgoOrderRequest) -> AlgoOrder:
        with self.lock:
            spec, side, order_type = request.spec, request.side, request.type
            now = self.clock.now_ms()
            price_now = self.mark(spec)
            if order_type not in FUTURES_CONDITIONAL_TYPES:
                raise errors.invalid_order_type()
            client_id = self._client_algo_id(account, request.client_algo_id)
            trailing = order_type == "TRAILING_STOP_MARKET"
            if request.close_position:
                if trailing:
                    raise errors.close_position_conflict()
                if order_type not in FUTURES_MARKET_LIKE:
                    raise errors.invalid_param_value("closePosition")
                if request.quantity is not None:
                    raise errors.BinanceError(-4137, "Quantity must be zero with closePosition equals true")
                if request.reduce_only:
                    raise errors.BinanceError(-1106, "Parameter 'reduceOnly' sent when not required.")
            elif request.quantity is None:
                raise errors.mandatory_param("quantity")
            else:
                spec.check_quantity(request.quantity, market_order=order_type in FUTURES_MARKET_LIKE)
            price = ZERO
            if order_type in ("STOP", "TAKE_PROFIT"):
                if request.price is None:
                    raise errors.mandatory_param("price")
                spec.check_price(request.price)
                price = request.price
            trigger = ZERO
            if not trailing:
                if request.trigger_price is None:
                    raise errors.mandatory_param("triggerPrice")
                spec.check_price(request.trigger_price, "triggerPrice")
                trigger = request.trigger_price
                if _conditional_hit(order_type, side, trigger, price_now):
                    raise errors.would_immediately_trigger()
            else:
                rate = request.callback_rate
                if rate is None:
                    raise errors.mandatory_param("callbackRate")
                if not CALLBACK_RATE_RANGE[0] <= rate <= CALLBACK_RATE_RANGE[1]:
                    raise errors.invalid_param_value("callbackRate")
                if request.activate_price is not None:
                    spec.check_price(request.activate_price, "activatePrice")
            tif = request.time_in_force or "GTC"
            if tif not in TIME_IN_FORCE:
                raise errors.invalid_time_in_force()
            # Conditional reduce-only orders are checked when they trigger, not here (see the docstring).
            if not request.reduce_only and not request.close_position and request.quantity is not None:
                spec.check_notional(request.quantity * (price or trigger or price_now))
            algo = AlgoOrder(
                algo_id=next(self._algo_ids),
                client_algo_id=client_id,
                symbol=spec.symbol_id,
                side=side,
                order_type=order_type,
                quantity=request.quantity,
                price=price,
                trigger_price=trigger,
                time_in_force=tif,
                working_type=request.working_type,
                reduce_only=request.reduce_only,
                close_position=request.close_position,
                price_protect=request.price_protect,
                callback_rate=request.callback_rate if trailing else None,
                activate_price=request.activate_price if trailing else None,
                created_ms=now,
                updated_ms=now,
                stp_mode=request.stp_mode,
            )
            if trailing:
                activation = algo.activate_price
                if activation is None or _trailing_activated(side, activation, price_now):
                    algo.trailing_active = True
                    algo.trailing_extreme = price_now
            account.algo_orders[algo.algo_id] = algo
            return algo

    def _client_algo_id(self, account: Account, client_id: str | None) -> str:
        if client_id is None:
            return random_token(22)
        if not _FUTURES_CLIENT_ID.match(client_id):
            raise errors.client_order_id_invalid()
        if any(a.client_algo_id == client_id for a in account.open_algos()):
            raise errors.client_algo_id_duplicated()
        return client_id

    def cancel_algo(self, account: Account, algo: AlgoOrder) -> AlgoOrder:
        with self.lock:
            if not algo.is_open:
                raise errors.unknown_order()
            algo.status = "CANCELED"
            algo.updated_ms = self.clock.now_ms()
            return algo

    def cancel_all_algos(self, account: Account, spec: MarketSpec) -> list[AlgoOrder]:
        with self.lock:
            algos = account.open_algos(spec.symbol_id)
            for algo in algos:
                self.cancel_algo(account, algo)
            return algos

    def _futures_on_price(self, account: Account, spec: MarketSpec) -> None:
        price = self.mark(spec)
        for order in sorted(account.open_orders("futures", spec.symbol_id), key=lambda o: o.order_id):
            if order.is_open and order.type == "LIMIT" and _marketable(order.side, order.price, price):
                self._fill_futures(account, spec, order, order.price, maker=True)
        algos = sorted(account.open_algos(spec.symbol_id), key=lambda a: a.algo_id)
        for algo in algos:
            if (
                algo.order_type != "TRAILING_STOP_MARKET"
                and algo.is_open
                and _conditional_hit(algo.order_type, algo.side, algo.trigger_price, price)
            ):
                self._trigger_algo(account, spec, algo)
        for algo in algos:
            if algo.order_type == "TRAILING_STOP_MARKET" and algo.is_open and self._trail(algo, price):
                self._trigger_algo(account, spec, algo)

    @staticmethod
    def _trail(algo: AlgoOrder, price: Decimal) -> bool:
        """Track the best price since activation; True once the price retraces ``callbackRate`` %."""
        if not algo.trailing_active:
            if algo.activate_price is not None and _trailing_activated(algo.side, algo.activate_price, price):
                algo.trailing_active = True
                algo.trailing_extreme = price
            return False
        assert algo.trailing_extreme is not None
        assert algo.callback_rate is not None
        rate = algo.callback_rate / 100
        if algo.side == "SELL":
            algo.trailing_extreme = max(algo.trailing_extreme, price)
            return price <= algo.trailing_extreme * (ONE - rate)
        algo.trailing_extreme = min(algo.trailing_extreme, price)
        return price >= algo.trailing_extreme * (ONE + rate)

    def _trigger_algo(self, account: Account, spec: MarketSpec, algo: AlgoOrder) -> None:
        """Turn a fired conditional order into a regular one (``actualOrderId``) that fills as such."""
        now = self.clock.now_ms()
        algo.trigger_ms = algo.updated_ms = now
        position = account.position(spec.symbol_id).amount
        reducible = _reducible(position, algo.side)
        if algo.close_position:
            quantity = reducible
        elif algo.reduce_only:
            assert algo.quantity is not None
            quantity = min(algo.quantity, reducible)
        else:
            assert algo.quantity is not None
            quantity = algo.quantity
        if not quantity:
            algo.status = "REJECTED"  # the matching engine refuses a reduce-only order with nothing to reduce
            return
        is_market = algo.order_type in FUTURES_MARKET_LIKE
        order = Order(
            order_id=0,
            client_order_id=algo.client_algo_id,
            kind="futures",
            symbol=spec.symbol_id,
            side=algo.side,
            type="MARKET" if is_market else "LIMIT",
            orig_type=algo.order_type,
            time_in_force="GTC" if is_market else algo.time_in_force,
            quantity=quantity,
            price=ZERO if is_market else algo.price,
            stop_price=algo.trigger_price,
            reduce_only=algo.reduce_only,
            close_position=algo.close_position,
            created_ms=now,
            updated_ms=now,
            algo_id=algo.algo_id,
            stp_mode=algo.stp_mode,
        )
        try:
            if not (algo.reduce_only or algo.close_position):
                reference = self.mark(spec) if is_market else algo.price
                self._check_margin(account, spec, algo.side, quantity, reference)
            algo.status = "TRIGGERED"
            self._submit_futures(account, spec, order)
        except errors.BinanceError:
            algo.status = "REJECTED"
            return
        algo.actual_order_id = order.order_id
        if not order.is_open:
            algo.status = "FINISHED"

    # -- futures: account settings & figures -------------------------------------------------------

    def max_notional(self, spec: MarketSpec, leverage: int) -> Decimal:
        """Largest position notional allowed at ``leverage`` (cap of the last bracket allowing it)."""
        allowed = [b for b in spec.brackets if b.initial_leverage >= leverage]
        return allowed[-1].notional_cap if allowed else ZERO

    def set_leverage(self, account: Account, spec: MarketSpec, leverage: int) -> SymbolSettings:
        with self.lock:
            position = account.position(spec.symbol_id)
            notional = abs(position.amount) * self.mark(spec)
            if leverage < 1 or leverage > spec.bracket_for(notional).initial_leverage:
                raise errors.leverage_not_valid(str(leverage))
            settings = account.settings_for(spec.symbol_id)
            settings.leverage = leverage
            return settings

    def set_margin_type(self, account: Account, spec: MarketSpec, margin_type: str) -> None:
        with self.lock:
            settings = account.settings_for(spec.symbol_id)
            if settings.margin_type == margin_type:
                raise errors.no_need_to_change_margin_type()
            if account.position(spec.symbol_id).amount:
                raise errors.margin_type_position()
            if account.open_orders("futures", spec.symbol_id) or account.open_algos(spec.symbol_id):
                raise errors.margin_type_open_orders()
            settings.margin_type = margin_type

    def position_metrics(self, account: Account, spec: MarketSpec) -> PositionMetrics:
        with self.lock:
            position = account.position(spec.symbol_id)
            settings = account.settings_for(spec.symbol_id)
            mark = self.mark(spec)
            amount = position.amount
            notional = amount * mark
            size = abs(amount)
            bracket: Bracket = spec.bracket_for(abs(notional))
            maint = max(ZERO, abs(notional) * bracket.maint_margin_ratio - bracket.cum) if amount else ZERO
            isolated = settings.margin_type == "ISOLATED"
            isolated_wallet = size * position.entry_price / settings.leverage if isolated and amount else ZERO
            order_margin = sum(
                (
                    (o.quantity - o.executed_qty) * o.price / settings.leverage
                    for o in account.open_orders("futures", spec.symbol_id)
                    if o.type == "LIMIT" and not o.reduce_only
                ),
                ZERO,
            )
            liquidation = ZERO
            break_even = ZERO
            if amount:
                # Binance's one-way formula with this position as the only one: the wallet (cross) or
                # the isolated margin is what stands between the entry and the liquidation.
                wallet = isolated_wallet if isolated else account.futures_wallet.get(spec.quote, ZERO)
                direction = ONE if amount > 0 else -ONE
                ratio = bracket.maint_margin_ratio
                liquidation = max(
                    ZERO,
                    (wallet + bracket.cum - direction * size * position.entry_price)
                    / (size * ratio - direction * size),
                )
                break_even = position.entry_price * (ONE + direction * spec.taker_fee)
            return PositionMetrics(
                spec=spec,
                amount=amount,
                entry_price=position.entry_price,
                mark_price=mark,
                notional=notional,
                unrealized_pnl=(mark - position.entry_price) * amount if amount else ZERO,
                initial_margin=abs(notional) / settings.leverage,
                maint_margin=maint,
                open_order_margin=order_margin,
                isolated_wallet=isolated_wallet,
                liquidation_price=liquidation,
                break_even_price=break_even,
                leverage=settings.leverage,
                margin_type=settings.margin_type,
                updated_ms=position.updated_ms,
            )

    def futures_summary(self, account: Account, asset: str = "USDT") -> FuturesSummary:
        with self.lock:
            metrics = [self.position_metrics(account, spec) for spec in self._futures_specs(asset)]
            return FuturesSummary(
                wallet=account.futures_wallet.get(asset, ZERO),
                unrealized_pnl=sum((m.unrealized_pnl for m in metrics), ZERO),
                position_margin=sum((m.initial_margin for m in metrics), ZERO),
                order_margin=sum((m.open_order_margin for m in metrics), ZERO),
                maint_margin=sum((m.maint_margin for m in metrics), ZERO),
            )

    def _futures_specs(self, margin_asset: str | None = None) -> Iterable[MarketSpec]:
        return [s for s in self.markets.of_kind("futures") if margin_asset is None or s.quote == margin_asset]


def _trailing_activated(side: Side, activation: Decimal, price: Decimal) -> bool:
    # A sell trail protects a long: it starts once the price has risen to the activation price.
    return price >= activation if side == "SELL" else price <= activation
