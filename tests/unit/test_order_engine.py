"""The order saga with an in-memory exchange: order of placement, compensation for any failure, retries."""

from __future__ import annotations

import pytest

from core.errors import ExchangeBadRequest, FieldValidationError
from core.models.trading import OrderKind, TradeState
from core.services.order_engine import OrderEngine, TradeOwner
from core.services.order_planner import ClientOrderIds
from tests.unit.fakes import REFERENCE, CountedMetrics, FakeExchange, MemoryTrades, RecordedEvents

OWNER = TradeOwner("user", "key")


class Saga:
    def __init__(self) -> None:
        self.trades, self.events, self.metrics = MemoryTrades(), RecordedEvents(), CountedMetrics()
        self.engine = OrderEngine(self.trades, self.events, self.metrics, sleep=lambda _: None)

    def place(self, exchange, request=REFERENCE, ids=None):
        return self.engine.place(exchange, OWNER, request, ids or ClientOrderIds("abc", idempotent=False))

    def record(self, trade_id="abc"):
        return self.trades.records[trade_id]


def test_the_stop_follows_the_entry_and_the_answer_keeps_the_reference_order():
    exchange, saga = FakeExchange(), Saga()
    placed = saga.place(exchange)
    assert exchange.calls == [
        "account",  # the symbol holds nothing and no trade of ours: nothing to clear
        "place:market",
        "place:stop_limit",
        "place:take_profit",
        "place:take_profit",
    ]
    assert [o.client_order_id for o in placed.orders] == ["mabce", "mabct1", "mabct2", "mabcs"]
    assert saga.trades.saved[0].state is TradeState.PENDING
    assert saga.record().state is TradeState.OPEN
    assert saga.events.types() == ["Order Placed"]
    assert saga.events.published[0][1]["origin"] == "MANUAL"
    assert saga.metrics.counts == {"OrdersPlaced": 1}


def test_every_step_is_recorded_before_it_is_sent_and_after_it_returns():
    exchange, saga = FakeExchange(), Saga()
    saga.place(exchange)
    steps = [entry.step for entry in saga.record().journal]
    assert steps[:6] == [
        "planned",
        "clear symbol",
        "symbol already clear",
        "send entry",
        "entry placed",
        "send stop",
    ]
    assert steps[-1] == "open"


def test_a_request_the_market_refuses_leaves_an_existing_position_untouched():
    # Given a position from an earlier trade
    exchange, saga = FakeExchange(), Saga()
    exchange.position_size = 0.2
    # When a request that cannot be placed arrives
    with pytest.raises(FieldValidationError):
        saga.place(exchange, REFERENCE.model_copy(update={"take_profit_prices": [18000]}))
    # Then nothing was sent (the account was only read, beside the price) and the position is still there
    assert exchange.calls == ["account"]
    assert exchange.position_size == 0.2
    assert saga.trades.records == {}


def test_a_refused_stop_cancels_everything_and_closes_the_position():
    exchange, saga = FakeExchange(failing={OrderKind.STOP_LIMIT}), Saga()
    with pytest.raises(ExchangeBadRequest):
        saga.place(exchange)
    assert exchange.calls.count("place:stop_limit") == 1  # a refusal is final; only unavailability is retried
    assert "place:take_profit" not in exchange.calls
    assert exchange.calls[-3:] == ["cancel_entries", "close", "cancel_exits"]
    assert exchange.position_size == 0
    assert saga.record().state is TradeState.COMPENSATED
    assert saga.metrics.counts == {"Compensations": 1}
    assert saga.events.types() == []


def test_any_error_after_the_entry_compensates_not_only_the_exchanges_own():
    # Given a stop whose parameters make the exchange library fail with a plain Python error
    exchange, saga = FakeExchange(crash_on=OrderKind.STOP_LIMIT), Saga()
    # When the order is placed
    with pytest.raises(ExchangeBadRequest):
        saga.place(exchange)
    # Then the entry is undone: no position is left without its stop
    assert exchange.position_size == 0
    assert all(order.status != "open" for order in exchange.orders.values())
    assert saga.record().state is TradeState.COMPENSATED


def test_a_failing_take_profit_is_undone_too():
    exchange, saga = FakeExchange(failing={OrderKind.TAKE_PROFIT}), Saga()
    with pytest.raises(ExchangeBadRequest):
        saga.place(exchange)
    assert exchange.position_size == 0
    assert all(order.status != "open" for order in exchange.orders.values())


def test_a_refused_entry_places_nothing_else():
    exchange, saga = FakeExchange(failing={OrderKind.MARKET}), Saga()
    with pytest.raises(ExchangeBadRequest):
        saga.place(exchange)
    assert [call for call in exchange.calls if call.startswith("place")] == ["place:market"]
    assert saga.record().state is TradeState.FAILED


def test_a_retry_of_a_compensated_request_answers_the_same_433_and_sends_nothing():
    exchange, saga = FakeExchange(failing={OrderKind.STOP_LIMIT}), Saga()
    ids = ClientOrderIds.for_request("user", "key", "retry-me")
    with pytest.raises(ExchangeBadRequest):
        saga.place(exchange, ids=ids)
    exchange.calls.clear()
    exchange.failing.clear()
    with pytest.raises(ExchangeBadRequest):
        saga.place(exchange, ids=ids)
    assert exchange.calls == []


def test_a_retry_after_a_crash_resumes_from_the_exchange_without_clearing_or_placing_twice():
    # Given a first attempt that died right after its entry was accepted
    exchange, saga = FakeExchange(), Saga()
    ids = ClientOrderIds.for_request("user", "key", "crash")
    crashing = FakeExchange(crash_on=OrderKind.STOP_LIMIT)
    crashing.place = _dies_after_entry(exchange)  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        saga.engine.place(crashing, OWNER, REFERENCE, ids)
    assert saga.record(ids.trade_id).state is TradeState.ENTERING  # the entry went out; its answer was lost
    exchange.calls.clear()
    # When the client retries with the same Idempotency-Key
    placed = saga.place(exchange, ids=ids)
    # Then the trade resumes: no clearing, no second entry, the exits placed, a live protected trade
    assert "cancel_entries" not in exchange.calls
    assert exchange.calls.count("place:market") == 0
    assert [o.type for o in placed.orders] == ["market", "take_profit", "take_profit", "stop_limit"]
    assert saga.record(ids.trade_id).state is TradeState.OPEN


def _dies_after_entry(exchange: FakeExchange):
    def place(symbol, spec):
        order = exchange.place(symbol, spec)
        if spec.kind is OrderKind.MARKET:
            raise SystemExit("killed")
        return order

    return place


def test_a_retry_of_an_open_trade_returns_its_orders_and_places_nothing():
    exchange, saga = FakeExchange(), Saga()
    ids = ClientOrderIds.for_request("user", "key", "twice")
    first = saga.place(exchange, ids=ids)
    exchange.calls.clear()
    again = saga.place(exchange, ids=ids)
    assert [o.id for o in again.orders] == [o.id for o in first.orders]
    assert not [call for call in exchange.calls if call.startswith(("place", "cancel", "close"))]


def test_an_unreachable_exchange_during_compensation_leaves_the_record_for_the_monitor():
    class Unreachable(FakeExchange):
        def flatten(self, symbol, client_order_id, entries=None):
            if "place:market" in self.calls:
                from core.errors import ServiceUnavailableError

                raise ServiceUnavailableError
            return super().flatten(symbol, client_order_id, entries)

    saga = Saga()
    with pytest.raises(ExchangeBadRequest):
        saga.place(Unreachable(failing={OrderKind.STOP_LIMIT}))
    record = saga.record()
    assert record.state.unfinished
    assert record.journal[-1].step == "compensation failed"
    assert saga.metrics.counts == {"Compensations": 1, "CompensationsFailed": 1}


def test_a_new_order_on_the_symbol_closes_the_trade_it_replaces():
    exchange, saga = FakeExchange(), Saga()
    saga.place(exchange, ids=ClientOrderIds("first", idempotent=False))
    saga.place(exchange, ids=ClientOrderIds("second", idempotent=False))
    first = saga.record("first")
    assert (first.state, first.close_reason) == (TradeState.CLOSED, "MANUAL")
    assert first.exit_price == 19200.0
    assert saga.events.types() == ["Order Placed", "Trade Closed", "Order Placed"]
