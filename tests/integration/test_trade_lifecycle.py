"""A trade's whole life through real ccxt into the Binance simulator: what the order path refuses before
touching anything, what it undoes, what a retry answers, and what the trade monitor records and repairs."""

from __future__ import annotations

import pytest

from adapters.exchange.trading import BinanceTradingAccount
from core.models.trading import OrderKind
from tests.support import (
    REFERENCE_ORDER,
    USER_A,
    invoke,
    manual_records,
    open_orders,
    order,
    position,
    trading_key,
)

SCHEDULED = {
    "version": "0",
    "id": "local",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "detail": {},
}


@pytest.fixture
def key(exchange) -> str:
    """A MANUAL FUTURES key of USER_A on a simulator account holding 10000 USDT, the market at 19200."""
    return trading_key(exchange, 10000)


def run_monitor() -> dict:
    return invoke("TradeMonitorFunction", SCHEDULED)


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"amount": 1000000}, "amount"),  # far beyond what the market trades
        ({"amount": "Infinity"}, "amount"),
        ({"amount": True}, "amount"),
        ({"takeProfitPrices": [19250, 1e12]}, "takeProfitPrices[1]"),
        ({"stopTriggerPrice": 1e-9}, "stopTriggerPrice"),
        ({"type": "LIMIT", "price": 30000}, "price"),  # outside the band around the mark price
    ],
)
def test_a_request_the_market_would_refuse_changes_nothing_on_the_exchange(key, change, param):
    # Given a live, protected trade
    assert order(key, REFERENCE_ORDER)[0] == 200
    before = (position(key), sorted(o["id"] for o in open_orders(key)))
    # When a request the market cannot take arrives
    status, body, _ = order(key, {**REFERENCE_ORDER, **change})
    # Then it is a 422 on its field and the trade is untouched: same position, same exits
    assert status == 422
    assert param in [error["param"] for error in body["errors"]]
    assert (position(key), sorted(o["id"] for o in open_orders(key))) == before


def test_a_body_that_is_not_an_object_is_a_400_and_trades_nothing(key):
    status, body, _ = order(key, [REFERENCE_ORDER])
    assert (status, body) == (400, {"message": "request body must be a JSON object"})
    assert position(key) is None


def test_a_25_take_profit_ladder_fits_within_the_conditional_orders_binance_allows(key):
    ladder = [19210 + 10 * index for index in range(25)]
    status, placed, _ = order(key, {**REFERENCE_ORDER, "amount": 0.1, "takeProfitPrices": ladder})
    assert status == 200
    entry, *take_profits, stop = placed
    assert (entry["type"], stop["type"], len(take_profits)) == ("market", "stop", 25)
    assert {(tp["type"], tp["reduceOnly"]) for tp in take_profits} == {("limit", True)}
    assert round(sum(tp["amount"] for tp in take_profits), 3) == 0.1
    assert len(open_orders(key)) == 26
    assert position(key)["contracts"] == 0.1


def test_a_retry_of_a_compensated_order_answers_the_same_433_and_leaves_nothing_behind(key, exchange):
    headers = {"Idempotency-Key": "compensated-once"}
    exchange.set_faults(
        match="STOP",
        error_rate=1.0,
        status=400,
        body={"code": -2021, "msg": "Order would immediately trigger."},
    )
    first = order(key, REFERENCE_ORDER, headers=headers)
    exchange.set_faults()
    again = order(key, REFERENCE_ORDER, headers=headers)
    assert first[:2] == again[:2] == (433, {"error": "exchange bad request (1500)"})
    assert position(key) is None
    assert open_orders(key) == []
    (record,) = manual_records(USER_A)
    assert record["state"] == "COMPENSATED"


def test_a_request_killed_after_its_entry_is_repaired_by_the_monitor(key, monkeypatch, trade_events):
    # Given a request whose process dies right after the exchange accepted its entry
    real_place = BinanceTradingAccount.place

    def dies_after_entry(self, symbol, spec):
        placed = real_place(self, symbol, spec)
        if spec.kind is OrderKind.MARKET:
            raise SystemExit("killed mid-order")
        return placed

    monkeypatch.setattr(BinanceTradingAccount, "place", dies_after_entry)
    with pytest.raises(SystemExit):
        order(key, REFERENCE_ORDER)
    monkeypatch.setattr(BinanceTradingAccount, "place", real_place)
    assert position(key)["contracts"] == 0.05
    assert open_orders(key) == []  # a position without its stop
    # When the trade monitor runs once the record is stale
    monkeypatch.setenv("MONITOR_STALE_AFTER_SECONDS", "0")
    _fresh_settings()
    report = run_monitor()
    # Then the position has its stop and its take-profits, and the repair is on the record and the bus
    assert report["repaired"] == 1
    assert sorted(o["type"] for o in open_orders(key)) == ["stop", "take_profit", "take_profit"]
    (record,) = manual_records(USER_A)
    assert record["state"] == "OPEN"
    assert "repaired" in [step["step"] for step in record["journal"]]
    assert trade_events.types() == ["Trade Repaired", "Order Placed"]


def test_the_monitor_records_a_take_profit_then_the_stop_and_closes_the_trade(key, exchange, trade_events):
    assert order(key, REFERENCE_ORDER)[0] == 200
    # When the price reaches the first take-profit and comes back
    exchange.set_price("BTC/USDT", 19260)
    exchange.set_price("BTC/USDT", 19200)
    first = run_monitor()
    assert (first["take_profits_filled"], first["closed"]) == (1, 0)
    assert position(key)["contracts"] == 0.025
    # When it then falls to the stop (a stop-limit at 19000: it fills at its limit)
    exchange.set_price("BTC/USDT", 19000)
    second = run_monitor()
    assert (second["stops_filled"], second["closed"]) == (1, 1)
    assert position(key) is None
    assert open_orders(key) == []
    (record,) = manual_records(USER_A)
    assert (record["state"], record["close_reason"]) == ("CLOSED", "STOP_LOSS")
    assert record["realized_pnl"] < 0
    assert record["fees"] > 0
    events = trade_events.read()
    assert [event["detail-type"] for event in events] == [
        "Order Placed",
        "Take Profit Filled",
        "Stop Loss Filled",
        "Trade Closed",
    ]
    closed = events[-1]["detail"]
    assert (closed["reason"], closed["tradeId"], closed["userId"]) == (
        "STOP_LOSS",
        record["trade_id"],
        USER_A,
    )
    # And a quiet minute afterwards asks the exchange about nothing
    assert run_monitor()["inspected"] == 0


def _fresh_settings() -> None:
    from core import wiring
    from core.config import get_settings

    get_settings.cache_clear()
    wiring.reset()
