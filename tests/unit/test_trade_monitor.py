"""The trade monitor with an in-memory exchange: fills, closes, repairs, stop moves, and what it costs."""

from __future__ import annotations

import time

import pytest

from core.errors import ExchangeBadRequest
from core.models.trading import EntryType, OrderKind, OrderRequest, Side, TradeState
from core.services.order_engine import OrderEngine, TradeOwner
from core.services.order_planner import ClientOrderIds
from core.services.trade_monitor import TradeMonitor
from tests.unit.fakes import (
    CountedMetrics,
    FakeExchange,
    FakeMarketData,
    FixedAccounts,
    MemoryCursors,
    MemoryTrades,
    RecordedEvents,
)

LADDER = OrderRequest(
    symbol="BTC/USDT",
    type=EntryType.MARKET,
    side=Side.BUY,
    amount=0.05,
    take_profit_prices=[19250, 19300],
    stop_trigger_price=19000,
)


class World:
    """An account with one trade placed through the engine, and a monitor watching it."""

    def __init__(self, request: OrderRequest = LADDER, budget: int = 600) -> None:
        self.exchange = FakeExchange()
        self.clock = [int(time.time() * 1000)]
        self.market = FakeMarketData(self.exchange, self.clock)
        self.trades, self.events, self.metrics = MemoryTrades(), RecordedEvents(), CountedMetrics()
        self.engine = OrderEngine(self.trades, self.events, self.metrics, sleep=lambda _: None)
        self.monitor = TradeMonitor(
            trades=self.trades,
            cursors=MemoryCursors(),
            accounts=FixedAccounts(self.exchange),  # type: ignore[arg-type]
            market=self.market,  # type: ignore[arg-type]
            events=self.events,
            counter=self.metrics,
            weight_budget=budget,
            stale_after_seconds=60,
            now_ms=lambda: self.clock[0],
        )
        self.request = request

    def place(self, trade_id: str = "t1"):
        return self.engine.place(
            self.exchange, TradeOwner("user", "key"), self.request, ClientOrderIds(trade_id, False)
        )

    def move(self, price: float) -> None:
        self.clock[0] += 60_000
        self.exchange.move(price)
        self.market.see(price)

    def record(self, trade_id: str = "t1"):
        return self.trades.records[trade_id]


def test_a_take_profit_fill_then_the_stop_closes_the_trade_with_its_pnl_and_no_orphan_exit():
    world = World()
    world.place()
    world.events.published.clear()
    # When the price reaches the first take-profit
    world.move(19260)
    report = world.monitor.run()
    assert report.take_profits_filled == 1
    assert world.events.types() == ["Take Profit Filled"]
    assert world.events.published[0][1] | {"index": 1, "remaining": 0.025} == world.events.published[0][1]
    # When it then falls through the stop
    world.move(18990)
    world.monitor.run()
    record = world.record()
    assert world.events.types() == ["Take Profit Filled", "Stop Loss Filled", "Trade Closed"]
    assert (record.state, record.close_reason) == (TradeState.CLOSED, "STOP_LOSS")
    # 0.025 sold at 19250 and 0.025 at 19000 against 0.05 bought at 19200
    assert record.realized_pnl == pytest.approx(0.025 * 50 - 0.025 * 200)
    assert record.exit_price == pytest.approx(19125)
    assert world.exchange.orders["mt1t2"].status == "canceled"  # the second take-profit is not left behind


def test_the_whole_ladder_filling_closes_the_trade_as_take_profit():
    world = World()
    world.place()
    world.move(19310)
    world.monitor.run()
    record = world.record()
    assert (record.state, record.close_reason, record.filled_take_profits) == (
        TradeState.CLOSED,
        "TAKE_PROFIT",
        [1, 2],
    )
    assert world.exchange.orders["mt1s"].status == "canceled"


def test_the_stop_moves_to_the_entry_after_the_first_take_profit_and_the_old_one_goes_after():
    world = World(LADDER.model_copy(update={"move_stop_to_entry_after_take_profit": True}))
    world.place()
    world.move(19260)
    report = world.monitor.run()
    record = world.record()
    assert report.stops_moved == 1
    new_stop = record.placed("stop")
    assert new_stop is not None
    assert new_stop.client_order_id == "mt1s2"
    assert new_stop.trigger_price == 19200.0
    calls = world.exchange.calls
    assert calls.index("place:stop_market") < calls.index("cancel:mt1s")  # never without a stop
    assert world.exchange.orders["mt1s"].status == "canceled"
    # And the moved stop closes the rest at break-even
    world.move(19190)
    world.monitor.run()
    assert (world.record().state, world.record().close_reason) == (TradeState.CLOSED, "STOP_LOSS")


def test_a_position_whose_stop_disappeared_gets_it_back_and_the_repair_is_counted():
    world = World()
    world.place()
    world.exchange.orders["mt1s"].status = "canceled"  # someone cancelled it on Binance
    world.move(19260)  # the monitor looks at the trade when a level is crossed
    world.monitor.run()
    record = world.record()
    assert record.placed("stop").client_order_id == "mt1s2"
    assert world.exchange.orders["mt1s2"].status == "open"
    assert world.metrics.counts["Repairs"] == 1
    assert world.events.types()[-1] == "Trade Repaired"


def test_a_record_left_mid_way_by_a_crash_is_finished_once_it_is_stale():
    # Given a request killed right after its entry was accepted
    world = World()
    real_place = world.exchange.place

    def dies_after_entry(symbol, spec):
        order = real_place(symbol, spec)
        if spec.kind is OrderKind.MARKET:
            raise SystemExit("killed")
        return order

    world.exchange.place = dies_after_entry  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        world.place()
    world.exchange.place = real_place  # type: ignore[method-assign]
    assert world.exchange.position_size == 0.05
    assert not world.exchange.open_orders("BTC/USDT")
    # When the monitor runs before the request could have timed out, it waits
    assert world.monitor.run().inspected == 0
    # Then, once the record is stale, the position gets its stop and take-profits
    world.clock[0] += 10**13
    report = world.monitor.run()
    record = world.record()
    assert (report.repaired, record.state) == (1, TradeState.OPEN)
    assert {o.client_order_id for o in world.exchange.open_orders("BTC/USDT")} == {"mt1s", "mt1t1", "mt1t2"}
    assert world.events.types()[-2:] == ["Trade Repaired", "Order Placed"]


def test_quiet_markets_cost_one_candle_read_per_symbol_and_no_account_request():
    world = World()
    world.place()
    world.exchange.calls.clear()
    world.move(19201)
    report = world.monitor.run()
    assert (report.open_trades, report.symbols, report.inspected) == (1, 1, 0)
    assert world.market.reads == 1
    assert world.exchange.calls == []


def test_the_weight_budget_defers_what_it_cannot_pay_for_to_the_next_run():
    # Given a budget that pays for the candles but not for looking at an account
    world = World(budget=5 + 1)
    world.place()
    world.move(19260)
    report = world.monitor.run()
    assert (report.inspected, report.deferred) == (0, 1)
    # Then the fill is not lost: the next run reads the same range again
    world.monitor._weight_budget = 100
    world.move(19255)
    assert world.monitor.run().take_profits_filled == 1


def test_a_compensation_that_failed_is_completed_so_the_433_the_user_got_is_true():
    # Given a stop the exchange refused, and an exchange unreachable while the order was being undone
    world = World()
    world.exchange.failing = {OrderKind.STOP_MARKET}
    real_flatten = world.exchange.flatten

    def unreachable_after_entry(symbol, client_order_id, entries=None):
        if "place:market" in world.exchange.calls:
            from core.errors import ServiceUnavailableError

            raise ServiceUnavailableError
        return real_flatten(symbol, client_order_id, entries)

    world.exchange.flatten = unreachable_after_entry  # type: ignore[method-assign]
    with pytest.raises(ExchangeBadRequest):
        world.place()
    world.exchange.flatten = real_flatten  # type: ignore[method-assign]
    assert world.exchange.position_size == 0.05
    # When the monitor finds the stale record
    world.clock[0] += 10**13
    world.monitor.run()
    # Then the position is closed and nothing of the trade is left on the book
    assert world.exchange.position_size == 0
    assert not world.exchange.open_orders("BTC/USDT")
    assert world.record().state is TradeState.COMPENSATED


def test_a_request_killed_while_clearing_the_symbol_leaves_no_position_without_its_stop():
    # Given a live trade, and a new order whose process dies while closing its position
    world = World()
    world.place("first")
    real_close = world.exchange.close_position

    def dies(symbol, client_order_id):
        raise SystemExit("killed while clearing")

    world.exchange.close_position = dies  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        world.place("second")
    world.exchange.close_position = real_close  # type: ignore[method-assign]
    assert world.exchange.position_size == 0.05
    # the first trade's position keeps its stop and its take-profits: exits go only after the close
    assert sorted(o.type for o in world.exchange.open_orders("BTC/USDT")) == [
        "stop_market",
        "take_profit",
        "take_profit",
    ]
    # When the monitor finds the stale record
    world.clock[0] += 10**13
    world.monitor.run()
    # Then the clearing the user asked for is finished: flat, nothing left on the book
    assert world.exchange.position_size == 0
    assert not world.exchange.open_orders("BTC/USDT")
    assert world.record("second").state is TradeState.FAILED
