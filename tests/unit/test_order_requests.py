"""What an order costs in exchange requests, and how the adapter paces them, without a network.

The order engine with the in-memory exchange: the clear is skipped only when nothing is on the symbol,
a fresh trade sends each order once without looking it up, a resumed one looks first. The adapter's
limits with a scripted client: 429/418 are waited out for their Retry-After (bounded) and sent again,
nothing else is; the weight headers hold the next call back when the minute's weight is nearly spent.
One client per key, rebuilt when its secret changes; a SPOT client loads only the spot markets.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import ExchangeBadRequest, ServiceUnavailableError
from core.models.exchange import TradeType
from core.models.trading import AccountSnapshot, OrderKind, TradeState
from core.services.order_engine import OrderEngine, TradeOwner
from core.services.order_planner import ClientOrderIds
from tests.unit.fakes import REFERENCE, CountedMetrics, FakeExchange, MemoryTrades, RecordedEvents

OWNER = TradeOwner("user", "key")
IDLE = AccountSnapshot(equity_usdt=10_000.0, busy_symbols=frozenset(), read_at_ms=0)


class CountingExchange(FakeExchange):
    """The in-memory exchange, with look-ups counted too."""

    def find_order(self, symbol, client_order_id, conditional):
        self.calls.append(f"find:{client_order_id}")
        return super().find_order(symbol, client_order_id, conditional)


class Saga:
    def __init__(self) -> None:
        self.trades, self.events, self.metrics = MemoryTrades(), RecordedEvents(), CountedMetrics()
        self.engine = OrderEngine(self.trades, self.events, self.metrics, sleep=lambda _: None)

    def place(self, exchange, trade_id="abc", snapshot=None, request=REFERENCE, idempotent=False):
        ids = (
            ClientOrderIds.for_request("user", "key", trade_id)
            if idempotent
            else ClientOrderIds(trade_id, idempotent=False)
        )
        return self.engine.place(exchange, OWNER, request, ids, snapshot=snapshot), ids


def _requests(exchange: FakeExchange) -> list[str]:
    return [call.split(":")[0] for call in exchange.calls]


# ---------------------------------------------------------------- the clear and the order path
@pytest.mark.parametrize("take_profits", [1, 2, 3])
def test_a_fresh_order_on_an_idle_symbol_costs_one_account_read_and_its_orders(take_profits):
    # Given a flat symbol with no trade of ours; When an order with k take-profits is placed
    exchange, saga = CountingExchange(), Saga()
    request = REFERENCE.model_copy(
        update={"take_profit_prices": [19250 + 10 * i for i in range(take_profits)]}
    )
    saga.place(exchange, request=request)
    # Then: the account read, the entry, the stop and each take-profit, nothing looked up, nothing cancelled
    assert _requests(exchange) == ["account", "place", "place", *["place"] * take_profits]
    assert len(exchange.calls) == take_profits + 3  # + the mark price read: k + 4 exchange requests


def test_a_snapshot_handed_in_spares_the_account_read():
    exchange, saga = CountingExchange(), Saga()
    saga.place(exchange, snapshot=IDLE)
    assert "account" not in exchange.calls
    assert _requests(exchange) == ["place"] * 4


def test_a_position_held_outside_our_records_is_cleared_first():
    # Given a position our records know nothing of (the account read lists the symbol)
    exchange, saga = CountingExchange(), Saga()
    exchange.position_size = 0.2
    saga.place(exchange)
    # Then the full clear runs before the entry, and only the new position is left
    assert exchange.calls[:4] == ["account", "cancel_entries", "close", "cancel_exits"]
    assert exchange.position_size == pytest.approx(0.05)


def test_our_own_leftover_exits_are_cancelled_even_when_the_account_read_shows_nothing():
    # Given our earlier trade whose position went away while its stop and take-profits stayed on the book:
    # conditional orders alone do not make Binance's account read list the symbol
    exchange, saga = CountingExchange(), Saga()
    saga.place(exchange, trade_id="first")
    exchange.position_size = 0.0
    left = [o for o in exchange.orders.values() if o.is_open]
    assert left
    assert all(o.conditional for o in left)
    exchange.calls.clear()
    # When a new order arrives, even with an (old) snapshot that says the symbol is idle
    saga.place(exchange, trade_id="second", snapshot=IDLE)
    # Then our record of the first trade makes the clear run, without reading the account: no old exit
    # is left next to the new position
    assert exchange.calls[:3] == ["cancel_entries", "close", "cancel_exits"]
    assert "account" not in exchange.calls
    new_exits = {o.client_order_id for o in exchange.orders.values() if o.is_open}
    assert new_exits == {"msecondt1", "msecondt2", "mseconds"}
    assert saga.trades.records["first"].state is TradeState.CLOSED


def test_an_unfinished_trade_of_ours_makes_the_clear_run():
    exchange, saga = CountingExchange(), Saga()
    crashing = CountingExchange(crash_on=OrderKind.STOP_LIMIT)

    def unreachable(symbol, client_order_id, entries=None):
        raise ServiceUnavailableError

    crashing.flatten = unreachable  # type: ignore[method-assign]
    with pytest.raises(ExchangeBadRequest):
        saga.place(crashing, trade_id="broken")  # its compensation could not reach the exchange
    assert saga.trades.records["broken"].state.unfinished
    saga.place(exchange, trade_id="next", snapshot=IDLE)
    assert exchange.calls[:3] == ["cancel_entries", "close", "cancel_exits"]


def test_a_resumed_trade_looks_its_orders_up_before_sending_any():
    # Given a first attempt that died right after its entry was accepted
    exchange, saga = CountingExchange(), Saga()
    ids = ClientOrderIds.for_request("user", "key", "crash")
    dying = CountingExchange()

    def place(symbol, spec):
        order = exchange.place(symbol, spec)
        if spec.kind is OrderKind.MARKET:
            raise SystemExit("killed")
        return order

    dying.place = place  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        saga.engine.place(dying, OWNER, REFERENCE, ids)
    exchange.calls.clear()
    # When the same request comes again
    saga.engine.place(exchange, OWNER, REFERENCE, ids)
    # Then every order is looked up before it is sent, and the entry is not sent again
    finds = [c for c in exchange.calls if c.startswith("find")]
    assert finds[0] == f"find:{ids.entry}"
    assert exchange.calls.count("place:market") == 0
    assert exchange.calls.index(f"find:{ids.stop}") < exchange.calls.index("place:stop_limit")
    assert saga.trades.records[ids.trade_id].state is TradeState.OPEN


def test_a_stop_retried_after_an_unknown_outcome_is_found_not_placed_twice():
    # Given an exchange that accepts the stop but loses the answer (a 503 after accepting)
    exchange, saga = CountingExchange(), Saga()
    original = exchange.place
    lost = []

    def place(symbol, spec):
        order = original(symbol, spec)
        if spec.kind is OrderKind.STOP_LIMIT and not lost:
            lost.append(order)
            raise ServiceUnavailableError
        return order

    exchange.place = place  # type: ignore[method-assign]
    saga.place(exchange)
    # Then the retry looked for it first and found it: one stop on the book
    stops = [o for o in exchange.orders.values() if o.type == "stop_limit"]
    assert len(stops) == 1
    assert exchange.calls.count("place:stop_limit") == 1
    assert saga.trades.records["abc"].state is TradeState.OPEN


# ---------------------------------------------------------------- the adapter's limits
class ScriptedClient:
    """A ccxt-like client: each request answers the next scripted (status, headers)."""

    id = "binanceusdm"

    def __init__(self, answers: list[tuple[int, dict[str, str]]]) -> None:
        self.answers = list(answers)
        self.sent: list[dict[str, Any]] = []

    def on_rest_response(self, code, reason, url, method, headers, body, request_headers, request_body):
        return body

    def fetch2(self, path, api="public", method="GET", params=None, config=None):
        from adapters.exchange.ccxt_loader import ccxt_errors

        errors = ccxt_errors()
        self.sent.append(dict(params or {}))
        status, headers = self.answers.pop(0)
        self.on_rest_response(
            status, "", f"https://fapi.binance.com/fapi/v1/{path}", method, headers, "", {}, None
        )
        if status in (418, 429):
            raise errors.DDoSProtection(f"{status}")
        if status >= 500:
            raise errors.ExchangeNotAvailable(f"{status}")
        return {"status": status}


@pytest.fixture
def gate():
    from adapters.exchange.limits import WeightGate

    slept: list[float] = []
    clock = [600.0]  # the start of a minute
    gate = WeightGate(clock=lambda: clock[0], sleep=slept.append)
    gate.slept = slept  # type: ignore[attr-defined]
    gate.clock = clock  # type: ignore[attr-defined]
    return gate


def _limited(client: ScriptedClient, gate: Any, retries: int = 2, max_wait: float = 5.0) -> ScriptedClient:
    from adapters.exchange.limits import respect_limits

    respect_limits(client, retries, max_wait, gate)
    return client


def test_a_429_is_waited_out_for_its_retry_after_and_sent_again_unchanged(gate):
    client = _limited(ScriptedClient([(429, {"Retry-After": "0.5"}), (200, {})]), gate)
    answer = client.fetch2("account", "fapiPrivateV3", "GET", {"symbol": "BTCUSDT"})
    assert answer == {"status": 200}
    assert gate.slept == [0.5]
    assert client.sent == [{"symbol": "BTCUSDT"}] * 2


def test_a_new_order_answered_429_is_never_sent_again_by_the_limiter(gate):
    """A client order id is unique only among open orders: a filled entry sent twice fills twice. The
    order path looks the order up before anything is sent again."""
    from adapters.exchange.ccxt_loader import ccxt_errors

    for path in ("order", "algoOrder", "batchOrders"):
        client = _limited(ScriptedClient([(429, {"Retry-After": "0.5"}), (200, {})]), gate)
        with pytest.raises(ccxt_errors().DDoSProtection):
            client.fetch2(path, "fapiPrivate", "POST", {"newClientOrderId": "mabce"})
        assert len(client.sent) == 1, path


def test_a_retry_after_longer_than_the_bound_is_not_waited_for(gate):
    from adapters.exchange.ccxt_loader import ccxt_errors

    client = _limited(ScriptedClient([(418, {"Retry-After": "120"}), (200, {})]), gate)
    with pytest.raises(ccxt_errors().DDoSProtection):
        client.fetch2("account", "fapiPrivateV3", "GET", {})
    assert gate.slept == []
    assert len(client.sent) == 1


def test_throttling_that_lasts_ends_after_the_bounded_retries(gate):
    from adapters.exchange.ccxt_loader import ccxt_errors

    client = _limited(ScriptedClient([(429, {"Retry-After": "1"})] * 5), gate, retries=2)
    with pytest.raises(ccxt_errors().DDoSProtection):
        client.fetch2("account", "fapiPrivateV3", "GET", {})
    assert len(client.sent) == 3
    assert gate.slept == [1.0, 1.0]


def test_a_5xx_is_not_repeated_by_the_limiter(gate):
    from adapters.exchange.ccxt_loader import ccxt_errors

    client = _limited(ScriptedClient([(503, {}), (200, {})]), gate)
    with pytest.raises(ccxt_errors().ExchangeNotAvailable):
        client.fetch2("order", "fapiPrivate", "POST", {})
    assert len(client.sent) == 1  # an order's unknown outcome is the order path's to resolve


def test_a_nearly_spent_minute_holds_the_next_call_until_the_minute_turns(gate):
    client = _limited(ScriptedClient([(200, {"X-MBX-USED-WEIGHT-1M": "2300"}), (200, {})]), gate)
    gate.clock[0] = 657.0
    client.fetch2("premiumIndex", "fapiPublic", "GET", {})
    assert gate.slept == []
    client.fetch2("premiumIndex", "fapiPublic", "GET", {})
    assert gate.slept == [pytest.approx(3.0)]  # 2300 of 2400 used: wait for the minute rather than a 429


def test_a_minute_turning_too_late_leaves_it_to_binance(gate):
    client = _limited(ScriptedClient([(200, {"X-MBX-USED-WEIGHT-1M": "2300"}), (200, {})]), gate)
    gate.clock[0] = 615.0
    client.fetch2("premiumIndex", "fapiPublic", "GET", {})
    client.fetch2("premiumIndex", "fapiPublic", "GET", {})
    assert gate.slept == []  # 45 s is longer than a request may wait: Binance answers 429 if it must


def test_the_weight_of_one_family_does_not_hold_another(gate):
    client = _limited(ScriptedClient([(200, {"X-MBX-USED-WEIGHT-1M": "2399"}), (200, {})]), gate)
    client.fetch2("premiumIndex", "fapiPublic", "GET", {})
    client.fetch2("ticker/24hr", "public", "GET", {})  # spot: a limit of its own
    assert gate.slept == []


def test_little_weight_used_sends_at_once(gate):
    client = _limited(ScriptedClient([(200, {"X-MBX-USED-WEIGHT-1M": "40"})] * 3), gate)
    for _ in range(3):
        client.fetch2("premiumIndex", "fapiPublic", "GET", {})
    assert gate.slept == []


# ---------------------------------------------------------------- one client per key, markets once
class _PublicClient:
    markets: dict[str, Any] = {}
    currencies: dict[str, Any] = {}
    options: dict[str, Any] = {"timeDifference": 7}


@pytest.fixture
def clients(monkeypatch):
    from adapters.exchange import binance

    cache = binance._MarketCache()
    monkeypatch.setattr(cache, "public_client", lambda trade_type: _PublicClient())
    return cache


def test_a_key_keeps_one_client_while_its_secret_stays_the_same(clients):
    first = clients.keyed_client(TradeType.FUTURES, "api-key", "secret-1")
    assert clients.keyed_client(TradeType.FUTURES, "api-key", "secret-1") is first
    assert first.options["timeDifference"] == 7


def test_a_changed_secret_builds_a_new_client(clients):
    first = clients.keyed_client(TradeType.FUTURES, "api-key", "secret-1")
    second = clients.keyed_client(TradeType.FUTURES, "api-key", "secret-2")
    assert second is not first
    assert second.secret == "secret-2"
    assert clients.keyed_client(TradeType.FUTURES, "api-key", "secret-2") is second


def test_the_least_recently_used_clients_leave_beyond_the_bound(clients, monkeypatch):
    from adapters.exchange import binance

    monkeypatch.setattr(binance, "KEYED_CLIENTS", 2)
    a = clients.keyed_client(TradeType.FUTURES, "a", "s")
    clients.keyed_client(TradeType.FUTURES, "b", "s")
    clients.keyed_client(TradeType.FUTURES, "a", "s")  # a used again: b is now the oldest
    clients.keyed_client(TradeType.FUTURES, "c", "s")
    assert clients.keyed_client(TradeType.FUTURES, "a", "s") is a
    assert len(clients._keyed) == 2


def test_the_held_client_never_shows_the_secret_in_the_cache(clients):
    clients.keyed_client(TradeType.FUTURES, "api-key", "very-secret")
    fingerprint, _ = clients._keyed[(TradeType.FUTURES, "api-key")]
    assert b"very-secret" not in fingerprint


def test_each_market_type_loads_only_its_own_markets_and_ccxt_does_not_throttle():
    from adapters.exchange.binance import new_client
    from core.config import Settings

    spot = new_client(TradeType.SPOT, Settings())
    futures = new_client(TradeType.FUTURES, Settings())
    assert spot.options["fetchMarkets"]["types"] == ["spot"]
    assert futures.options["fetchMarkets"]["types"] == ["linear"]
    assert spot.enableRateLimit is False
    assert futures.enableRateLimit is False


def test_take_profits_go_out_together_and_one_failing_undoes_them_all():
    # Given an exchange that refuses the second take-profit only
    exchange, saga = CountingExchange(), Saga()
    original = exchange.place

    def place(symbol, spec):
        if spec.client_order_id.endswith("t2"):
            raise ExchangeBadRequest("refused")
        return original(symbol, spec)

    exchange.place = place  # type: ignore[method-assign]
    # When the order is placed
    with pytest.raises(ExchangeBadRequest):
        saga.place(exchange)
    # Then the first take-profit was placed beside it, and the compensation removed everything
    assert "mabct1" in exchange.orders
    assert exchange.position_size == 0
    assert all(not o.is_open for o in exchange.orders.values())
    record = saga.trades.records["abc"]
    assert record.state is TradeState.COMPENSATED
    steps = [entry.step for entry in record.journal]
    assert steps.index("send take_profit_2") < steps.index("compensate")


def test_every_take_profit_is_recorded_before_any_is_sent():
    exchange, saga = CountingExchange(), Saga()
    saved_before_sends: list[list[str]] = []
    original = exchange.place

    def place(symbol, spec):
        if spec.kind is OrderKind.TAKE_PROFIT:
            saved_before_sends.append([e.step for e in saga.trades.records["abc"].journal])
        return original(symbol, spec)

    exchange.place = place  # type: ignore[method-assign]
    saga.place(exchange)
    for steps in saved_before_sends:
        assert {"send take_profit_1", "send take_profit_2"} <= set(steps)
