"""Automated strategies over HTTP against the local stack: users follow a strategy, its signal reaches every
follower through the real route, queue and worker, sized to each one's risk."""

from __future__ import annotations

import time

import pytest
import requests

from tests.support import exchange_key_body

pytestmark = pytest.mark.e2e
STRATEGY = "b762dad3-b720-4ddd-a515-32ae48e39f94"  # STRATEGY #2: this file's own, apart from other tests
PROFILES = {
    "CONSERVATIVE": "ab00673a-cd19-44d4-a7c4-05c63e309663",
    "MODERATE": "3dc38f3d-4b4e-43b3-a102-e250b7cd3551",
    "AGGRESSIVE": "9234a512-48d0-4fa9-8b77-fdaec0fd3e00",
}
SYMBOL = {"symbol": "BTC/USDT"}
# With 5x leverage no follower's size is capped by its margin (amount x entry <= equity x leverage x 0.95).
SIGNAL = {
    "side": "BUY",
    "type": "MARKET",
    "takeProfitPrices": [19400, 19600],
    "stopTriggerPrice": 19000,
    "leverage": 5,
}


def fire(stack, body: dict) -> requests.Response:
    """The dev route waits until every follower is processed: give it the time a cold worker needs."""
    return requests.post(f"{stack.url}/_local/strategies/{STRATEGY}/signal", json=body, timeout=150)


def follower(stack, usdt: float, profile: str) -> dict:
    token, sub = stack.token(f"follower-{time.time_ns()}@example.com", plan="PROFESSIONAL")
    account = stack.post("/_local/exchange/accounts", json={"balances": {"USDT": usdt}}).json()
    body = exchange_key_body(account, strategyType="AUTOMATED")
    key = stack.post("/v1/priv/account/exchange/key", token, json=body)
    assert key.status_code == 200, key.text
    follow = stack.post(
        f"/v1/priv/strategy/follow/exchange/key/{key.json()['id']}",
        token,
        json={"strategyAutomatedId": STRATEGY, "strategyRiskProfileId": PROFILES[profile]},
    )
    assert follow.status_code == 200, follow.text
    return {"token": token, "sub": sub, "key": key.json()["id"]}


def test_a_signal_reaches_every_follower_once_and_close_leaves_them_flat(stack):
    assert (
        stack.post("/_local/exchange/price", json={"symbol": "BTC/USDT", "price": 19200}).status_code == 204
    )
    # Given three followers with different profiles and balances, and a fourth too small to trade
    users = [
        follower(stack, 5000, "CONSERVATIVE"),
        follower(stack, 8000, "MODERATE"),
        follower(stack, 10000, "AGGRESSIVE"),
        follower(stack, 40, "MODERATE"),
    ]
    # When the strategy fires through the dev route (secret, timestamp and signalId filled in)
    fired = stack.post(
        f"/_local/strategies/{STRATEGY}/signal", json={**SIGNAL, "signalId": f"e2e-{time.time_ns()}"}
    )
    assert fired.status_code == 200, fired.text
    result = fired.json()
    assert (result["status"], result["body"]["followers"]) == (202, 4)
    by_key = {order["keyId"]: order for order in result["orders"]}
    # Then three are placed, sized to their risk (equity x risk / |entry - stop|), and protected; the fourth
    # is skipped. The simulated market moves on its own, so the entry is read back from each position.
    assert [by_key[u["key"]]["outcome"] for u in users] == ["PLACED", "PLACED", "PLACED", "SKIPPED"]
    for user, risk_usd in zip(users[:3], (5000 * 0.015, 8000 * 0.02, 10000 * 0.03), strict=True):
        position = stack.get(f"/v1/priv/exchange/position/{user['key']}", user["token"], params=SYMBOL).json()
        assert position["contracts"] == by_key[user["key"]]["amount"]
        expected = risk_usd / abs(position["entryPrice"] - SIGNAL["stopTriggerPrice"])
        assert expected * 0.97 - 0.001 <= position["contracts"] <= expected * 1.03
    for user in users[:3]:
        exits = stack.get(f"/v1/priv/exchange/order/{user['key']}/list", user["token"], params=SYMBOL).json()
        assert sorted(order["type"] for order in exits) == ["stop_market", "take_profit", "take_profit"]
        history = stack.get("/v1/priv/account/trade/strategy/history", user["token"]).json()
        assert [item["StrategyAutomatedTrigger"]["tradeSide"] for item in history["items"]] == ["BUY"]
    # A duplicate signal places nothing
    again = fire(stack, {**SIGNAL, "signalId": "dup"}).json()
    twice = fire(stack, {**SIGNAL, "signalId": "dup"}).json()
    assert (again["status"], twice["status"]) == (202, 200)
    assert twice["body"] == again["body"]
    # A CLOSE leaves every follower flat with no orders
    closed = fire(stack, {"action": "CLOSE"}).json()
    assert closed["status"] == 202
    for user in users:
        assert (
            stack.get(f"/v1/priv/exchange/position/{user['key']}", user["token"], params=SYMBOL).json()
            is None
        )
        assert (
            stack.get(f"/v1/priv/exchange/order/{user['key']}/list", user["token"], params=SYMBOL).json()
            == []
        )
    # And the strategy's own record shows the trades it made
    trades = stack.get(f"/v1/pub/strategy/{STRATEGY}/trades").json()
    assert [trade["reason"] for trade in trades["items"]][:1] == ["SIGNAL"]


def test_the_signal_secret_is_the_operators_alone(stack):
    secret = stack.get(f"/_local/strategies/{STRATEGY}/secret").json()["secret"]
    assert len(secret) >= 32
    wrong = stack.post(f"/v1/hook/strategy/{STRATEGY}/signal", json={**SIGNAL, "secret": secret + "x"})
    assert (wrong.status_code, wrong.json()) == (401, {"message": "Unauthorized"})


def _next_minute() -> None:
    time.sleep(60.5 - time.time() % 60)


def test_a_take_profit_then_the_stop_close_the_strategy_trade_and_move_its_statistics(stack):
    strategy = "fa142ba2-9a7f-48ab-b182-4e47a1f242b6"  # STRATEGY #3, without followers
    before = stack.get(f"/v1/pub/strategy/{strategy}/performance", params={"limit": "1"}).json()
    assert (
        stack.post("/_local/exchange/price", json={"symbol": "BTC/USDT", "price": 19200}).status_code == 204
    )
    fired = requests.post(
        f"{stack.url}/_local/strategies/{strategy}/signal", json={**SIGNAL, "leverage": 1}, timeout=150
    ).json()
    assert fired["status"] == 202
    # When the market reaches the first take-profit in one minute and the stop in the next
    stack.post("/_local/exchange/price", json={"symbol": "BTC/USDT", "price": 19450})
    _next_minute()
    stack.post("/_local/exchange/price", json={"symbol": "BTC/USDT", "price": 18990})
    _next_minute()
    report = stack.post("/_local/jobs/trade-monitor").json()
    assert report["strategy_trades_closed"] >= 1
    # Then the strategy's trade is closed half at the take-profit and half at the stop, and counted
    trade = stack.get(f"/v1/pub/strategy/{strategy}/trades", params={"limit": "1"}).json()["items"][0]
    assert [(e["price"], e["part"], e["reason"]) for e in trade["exits"]] == [
        (19400.0, 0.5, "TAKE_PROFIT"),
        (19000.0, 0.5, "STOP_LOSS"),
    ]
    after = stack.get(f"/v1/pub/strategy/{strategy}/performance", params={"limit": "1"}).json()
    assert after["trades"] == before["trades"] + 1
    assert after["long"] == before["long"] + 1
    history = stack.get(f"/v1/pub/strategy/{strategy}/history", params={"limit": "2"}).json()["items"]
    assert sum(day["trades"] for day in history) >= 1
