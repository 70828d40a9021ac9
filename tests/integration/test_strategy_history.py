"""GET /v1/priv/account/trade/strategy/history: the orders followed strategies placed for the caller."""

from __future__ import annotations

from typing import Any

import pytest

from core.models.trading import (
    EntryType,
    OrderRequest,
    Origin,
    Side,
    StopTriggerType,
    TradeRecord,
    TradeState,
)
from tests.support import PROFESSIONAL, USER_A, USER_B, add_key, call, give_plan

HISTORY = "/v1/priv/account/trade/strategy/history"
STRATEGY_1 = "b9f67eb2-1d6e-4a47-a735-d0d9039c9b08"  # "STRATEGY #1", BINANCE BTC/USDT
KEY = "63d3aa7c-3fb0-4a4e-9249-4e1fee947de2"


def strategy_record(created_at: str, order_id: str | None = "3237790823", **fields: Any) -> TradeRecord:
    """A strategy trade as the fan-out records it (the reference's first example item)."""
    values: dict[str, Any] = {
        "user_id": USER_A,
        "key_id": KEY,
        "trade_id": f"t{created_at}",
        "origin": Origin.STRATEGY,
        "strategy_id": STRATEGY_1,
        "symbol": "BTC/USDT",
        "side": Side.SELL,
        "entry_type": EntryType.MARKET,
        "order_id": order_id,
        "price": 19580.1,
        "amount": 0.121,
        "cost": 2369.1921,
        "stop": 19650,
        "stop_type": "MARKET",
        "take_profit": [19400, 19500],
        "leverage": 7,
        "risk_profile_percent": 2,
        "created_at": created_at,
        "state": TradeState.OPEN,
        **fields,
    }
    return TradeRecord(**values)


def history(user: str = USER_A, **query: str) -> tuple[int, Any]:
    status, body, _ = call("GET", HISTORY, user=user, query=query or None)
    return status, body


@pytest.fixture
def trades(aws):
    from core.repositories.trade_history import TradeRepository

    return TradeRepository()


def test_an_order_reads_as_the_reference_shows_it(trades):
    trades.start(strategy_record("2022-10-14T14:03:45.064Z"))
    status, body = history()
    assert status == 200
    assert body == {
        "items": [
            {
                "orderId": "3237790823",
                "price": 19580.1,
                "amount": 0.121,
                "cost": 2369.1921,
                "stop": 19650,
                "stopType": "MARKET",
                "takeProfit": [19400, 19500],
                "trailingTriggerPrice": None,
                "leverage": 7,
                "callbackRate": None,
                "riskProfilePercent": 2,
                "createdAt": "2022-10-14T14:03:45.064Z",
                "StrategyAutomatedTrigger": {
                    "StrategyAutomated": {
                        "name": "STRATEGY #1",
                        "exchangeId": "BINANCE",
                        "symbol": "BTC/USDT",
                    },
                    "tradeSide": "SELL",
                },
            }
        ],
        "nextToken": None,
    }
    assert list(body["items"][0]) == [
        "orderId",
        "price",
        "amount",
        "cost",
        "stop",
        "stopType",
        "takeProfit",
        "trailingTriggerPrice",
        "leverage",
        "callbackRate",
        "riskProfilePercent",
        "createdAt",
        "StrategyAutomatedTrigger",
    ]


def test_newest_first_only_placed_strategy_orders_of_the_caller(trades):
    # Given strategy orders, one refused before its entry, a manual order, and another user's order
    trades.start(strategy_record("2022-10-14T00:33:35.359Z", order_id="3237478932"))
    trades.start(strategy_record("2022-10-14T14:03:45.064Z"))
    trades.start(strategy_record("2022-10-14T15:00:00.000Z", order_id=None, state=TradeState.FAILED))
    trades.start(strategy_record("2022-10-14T16:00:00.000Z", origin=Origin.MANUAL, strategy_id=None))
    trades.start(strategy_record("2022-10-14T17:00:00.000Z", user_id=USER_B))
    # Then the caller sees their two placed strategy orders, newest first
    status, body = history()
    assert status == 200
    assert [item["orderId"] for item in body["items"]] == ["3237790823", "3237478932"]
    assert history(USER_B)[1]["items"][0]["createdAt"] == "2022-10-14T17:00:00.000Z"


def test_pages_follow_next_token_and_start_bounds_the_range(trades):
    days = [f"2022-10-{day:02d}T12:00:00.000Z" for day in range(1, 8)]
    for day in days:
        trades.start(strategy_record(day, order_id=day[:10]))
    seen: list[str] = []
    status, page = history(limit="3")
    while True:
        assert status == 200
        seen += [item["orderId"] for item in page["items"]]
        if page["nextToken"] is None:
            break
        status, page = history(limit="3", nextToken=page["nextToken"])
    assert seen == [day[:10] for day in reversed(days)]
    assert [item["orderId"] for item in history(start="2022-10-05")[1]["items"]] == [
        "2022-10-07",
        "2022-10-06",
        "2022-10-05",
    ]


def test_a_token_of_another_list_or_user_is_a_422(trades):
    for day in ("2022-10-01T00:00:00.000Z", "2022-10-02T00:00:00.000Z"):
        trades.start(strategy_record(day))
    token = history(limit="1")[1]["nextToken"]
    assert token
    status, body = history(USER_B, limit="1", nextToken=token)
    assert (status, body["errors"][0]["param"]) == (422, "nextToken")
    status, _, _ = call(
        "GET", "/v1/priv/account/trade/manual/history", user=USER_A, query={"nextToken": token}
    )
    assert status == 422


@pytest.mark.parametrize(
    ("query", "param"),
    [({"limit": "0"}, "limit"), ({"limit": "1001"}, "limit"), ({"start": "14-10-2022"}, "start")],
)
def test_bad_queries_are_422s(aws, query, param):
    status, body = history(**query)
    assert status == 422
    assert [error["param"] for error in body["errors"]] == [param]
    assert body["errors"][0]["location"] == "query"


def test_an_order_the_engine_placed_for_a_strategy_appears_with_its_strategy(exchange):
    from core import wiring
    from core.services.order_engine import TradeOwner
    from core.services.order_planner import ClientOrderIds

    # Given a follower's key and a strategy order placed through the one order engine
    exchange.set_price("BTC/USDT", 19200)
    give_plan(USER_A, PROFESSIONAL)
    status, key = add_key(USER_A, exchange.create_account(balances={"USDT": 10000}), strategyType="AUTOMATED")
    assert status == 200, key
    _, account = wiring.key_accounts().trading(USER_A, key["id"])
    request = OrderRequest(
        symbol="BTC/USDT",
        type=EntryType.MARKET,
        side=Side.BUY,
        amount=0.05,
        take_profit_prices=[19250, 19300],
        stop_trigger_price=19000,
        stop_trigger_type=StopTriggerType.MARKET,
        risk_profile_percent=2,
    )
    placed = wiring.order_engine().place(
        account,
        TradeOwner(USER_A, key["id"], Origin.STRATEGY, STRATEGY_1),
        request,
        ClientOrderIds.of_trade("trigger1follow1", Origin.STRATEGY),
    )
    # When the follower reads the automated history
    status, body = history()
    # Then the order is there, named by its strategy and side; the manual history does not show it
    assert status == 200
    (item,) = body["items"]
    assert item["orderId"] == placed.record.order_id
    assert (item["amount"], item["takeProfit"], item["stop"], item["riskProfilePercent"]) == (
        0.05,
        [19250, 19300],
        19000,
        2,
    )
    assert item["StrategyAutomatedTrigger"] == {
        "StrategyAutomated": {"name": "STRATEGY #1", "exchangeId": "BINANCE", "symbol": "BTC/USDT"},
        "tradeSide": "BUY",
    }
    assert call("GET", "/v1/priv/account/trade/manual/history", user=USER_A)[1]["items"] == []
