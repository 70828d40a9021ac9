"""In-memory stand-ins for the order path's ports: an exchange account, the trade records, events, metrics."""

from __future__ import annotations

from decimal import Decimal

from core.errors import ExchangeBadRequest
from core.models.trading import (
    AccountSnapshot,
    EntryType,
    ExchangeFill,
    ExchangeOrder,
    ExchangePosition,
    MarketRules,
    OrderKind,
    OrderRequest,
    OrderSpec,
    PriceRange,
    Side,
    StopTriggerType,
    TradeRecord,
)
from core.repositories.trade_history import TradeAlreadyStarted

RULES = MarketRules(
    amount_step=Decimal("0.001"),
    price_step=Decimal("0.1"),
    min_amount=Decimal("0.001"),
    max_amount=Decimal("1000"),
    max_market_amount=Decimal("120"),
    min_cost=Decimal("100"),
    min_price=Decimal("556.8"),
    max_price=Decimal("4529764"),
    band_up=Decimal("1.05"),
    band_down=Decimal("0.95"),
    max_conditional_orders=10,
    max_open_orders=200,
)
MARK = 19200.0
# The API reference's example manual order, as the order path receives it.
REFERENCE = OrderRequest(
    symbol="BTC/USDT",
    type=EntryType.MARKET,
    side=Side.BUY,
    amount=0.05,
    take_profit_prices=[19250, 19300],
    stop_trigger_price=19000,
    stop_trigger_type=StopTriggerType.LIMIT,
    stop_price=19000,
)


class FakeExchange:
    """One account on one symbol: orders by client id, a position, fills; ``move`` triggers exits."""

    def __init__(self, failing: set[OrderKind] | None = None, crash_on: OrderKind | None = None) -> None:
        self.orders: dict[str, ExchangeOrder] = {}
        self.specs: dict[str, OrderSpec] = {}
        self.calls: list[str] = []
        self.failing = failing or set()
        self.crash_on = crash_on  # raises a non-exchange error, as a library bug or bad data would
        self.position_size = 0.0
        self.price = MARK
        self.fill_log: list[ExchangeFill] = []
        self.unreachable = False

    # ---- the port
    def rules(self, symbol):
        return RULES

    def account_snapshot(self):
        """The symbol is busy while it holds a position or an open regular order (as Binance lists it)."""
        self._check()
        self.calls.append("account")
        plain_open = any(o.status == "open" and not o.conditional for o in self.orders.values())
        busy = frozenset({"BTC/USDT"}) if self.position_size or plain_open else frozenset()
        return AccountSnapshot(equity_usdt=10_000.0, busy_symbols=busy, read_at_ms=0)

    def mark_price(self, symbol):
        return self.price

    def _check(self):
        if self.unreachable:
            from core.errors import ServiceUnavailableError

            raise ServiceUnavailableError

    def cancel_all_orders(self, symbol):
        self._check()
        self.calls.append("cancel_all")
        for order in self.orders.values():
            if order.status == "open":
                order.status = "canceled"

    def cancel_order(self, symbol, client_order_id, conditional):
        self._check()
        self.calls.append(f"cancel:{client_order_id}")
        order = self.orders.get(client_order_id)
        if order is not None and order.status == "open":
            order.status = "canceled"

    def flatten(self, symbol, client_order_id, entries=None):
        """As the adapter: what could add to the position goes (the named entries, else every open order that
        does not only reduce), the position is closed, then its exits."""
        self._check()
        self.calls.append("cancel_entries")
        named = None if entries is None else {entry.client_order_id for entry in entries}
        for client_id, order in self.orders.items():
            if order.status == "open" and (
                client_id in named if named is not None else not order.reduce_only
            ):
                order.status = "canceled"
        closed = self.close_position(symbol, client_order_id)
        self._check()
        self.calls.append("cancel_exits")
        for order in self.orders.values():
            if order.status == "open":
                order.status = "canceled"
        return closed

    def close_position(self, symbol, client_order_id):
        self._check()
        self.calls.append("close")
        if not self.position_size:
            return None
        side = "sell" if self.position_size > 0 else "buy"
        amount = abs(self.position_size)
        self._fill(client_order_id, side, amount, self.price)
        self.position_size = 0.0
        return ExchangeOrder(
            id=f"close-{client_order_id}",
            symbol=symbol,
            side=side,
            amount=amount,
            status="closed",
            average=self.price,
        )

    def find_order(self, symbol, client_order_id, conditional):
        self._check()
        return self.orders.get(client_order_id)

    def position(self, symbol):
        self._check()
        if not self.position_size:
            return None
        return ExchangePosition(
            symbol=symbol,
            side="long" if self.position_size > 0 else "short",
            contracts=abs(self.position_size),
        )

    def fills(self, symbol, since_ms=None):
        return list(self.fill_log)

    def open_orders(self, symbol):
        return [order for order in self.orders.values() if order.status == "open"]

    def place(self, symbol, spec: OrderSpec):
        self._check()
        self.calls.append(f"place:{spec.kind.value}")
        if spec.kind is self.crash_on:
            raise OverflowError("cannot convert float infinity to integer")
        if spec.kind in self.failing:
            raise ExchangeBadRequest("refused")
        order = ExchangeOrder(
            id=str(len(self.orders) + 1),
            client_order_id=spec.client_order_id,
            symbol=symbol,
            type=spec.kind.value,
            side=spec.side.value.lower(),
            amount=spec.amount,
            price=spec.price,
            stop_price=spec.trigger_price,
            reduce_only=spec.reduce_only,
            status="open",
            conditional=spec.kind.conditional,
        )
        self.orders[spec.client_order_id] = order
        self.specs[spec.client_order_id] = spec
        if spec.kind is OrderKind.MARKET:
            self._execute(order, spec, self.price)
        return order

    # ---- the market
    def _fill(self, order_id, side, amount, price):
        self.fill_log.append(
            ExchangeFill(
                id=str(len(self.fill_log) + 1),
                order_id=order_id,
                symbol="BTC/USDT",
                side=side,
                price=price,
                amount=amount,
            )
        )

    def _execute(self, order: ExchangeOrder, spec: OrderSpec, price: float) -> None:
        signed = spec.amount if spec.side.value == "BUY" else -spec.amount
        if spec.reduce_only:
            if not self.position_size:
                order.status = "expired"
                return
            signed = max(min(signed, abs(self.position_size)), -abs(self.position_size))
        self.position_size = round(self.position_size + signed, 8)
        order.status, order.filled, order.average = "closed", abs(signed), price
        self._fill(order.id, order.side, abs(signed), price)

    def move(self, price: float) -> None:
        """The market trades at ``price``: exits whose trigger or limit it reaches fill."""
        self.price = price
        for client_id, order in list(self.orders.items()):
            spec = self.specs[client_id]
            if order.status != "open" or not spec.reduce_only:
                continue
            level = spec.trigger_price or spec.price
            selling = spec.side.value == "SELL"
            stop = spec.kind in (OrderKind.STOP_MARKET, OrderKind.STOP_LIMIT)
            hit = (price <= level) if (selling == stop) else (price >= level)
            if hit:
                self._execute(order, spec, level)


class FakeMarketData:
    """Candles from the prices the market took, each at the time ``clock`` said."""

    def __init__(self, exchange: FakeExchange, clock: list[int]) -> None:
        self.exchange = exchange
        self.clock = clock
        self.ticks: list[tuple[int, float]] = [(0, MARK)]
        self.reads = 0

    def see(self, price: float) -> None:
        self.ticks.append((self.clock[0], price))

    def price_range(self, symbol, trade_type, since_ms):
        self.reads += 1
        before = [price for at, price in self.ticks if at < since_ms][-1:]  # where the market stood
        prices = before + [price for at, price in self.ticks if at >= since_ms]
        return PriceRange(low=min(prices), high=max(prices), until_ms=self.clock[0] + 60_000)


class MemoryTrades:
    def __init__(self) -> None:
        self.records: dict[str, TradeRecord] = {}
        self.saved: list[TradeRecord] = []

    def start(self, record):
        if record.trade_id in self.records:
            raise TradeAlreadyStarted(record.trade_id)
        self.save(record)

    def save(self, record):
        self.records[record.trade_id] = record.model_copy(deep=True)
        self.saved.append(record.model_copy(deep=True))

    def get(self, user_id, trade_id):
        found = self.records.get(trade_id)
        return found.model_copy(deep=True) if found else None

    def open_trades(self):
        return [r.model_copy(deep=True) for r in self.records.values() if not r.state.finished]

    def open_on(self, key_id, symbol):
        return [r for r in self.open_trades() if r.key_id == key_id and r.symbol == symbol]


class MemoryCursors:
    def __init__(self) -> None:
        self.values: dict[tuple[str, str], int] = {}

    def since(self, market, symbol):
        return self.values.get((market, symbol))

    def advance(self, market, symbol, since_ms):
        self.values[(market, symbol)] = since_ms


class RecordedEvents:
    def __init__(self) -> None:
        self.published: list[tuple[str, dict]] = []

    def publish(self, detail_type, detail):
        self.published.append((detail_type, detail))

    def types(self) -> list[str]:
        return [detail_type for detail_type, _ in self.published]


class CountedMetrics:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def count(self, name, value=1):
        self.counts[name] = self.counts.get(name, 0) + value


class FixedAccounts:
    """``KeyAccounts`` for one account."""

    def __init__(self, exchange: FakeExchange) -> None:
        self.exchange = exchange

    def trading(self, user_id, key_id, *rules):
        return None, self.exchange
