"""Trading over HTTP on the local stack: the reference's example order, read back everywhere."""

from __future__ import annotations

from tests.e2e.test_exchange_accounts import simulator_account
from tests.support import REFERENCE_ORDER, exchange_key_body


def test_trade_the_reference_example_and_read_it_back(stack):
    token, _ = stack.token("trader@example.com", plan="BASIC")
    stack.post("/_local/exchange/price", json={"symbol": "BTC/USDT", "price": 19200})
    key = stack.post(
        "/v1/priv/account/exchange/key",
        token,
        json=exchange_key_body(simulator_account(stack, {"USDT": 2000})),
    ).json()["id"]
    symbol = {"symbol": "BTC/USDT"}

    assert (
        stack.put(
            f"/v1/priv/exchange/order/{key}/leverage", token, json={"symbol": "BTC/USDT", "leverage": 10}
        ).status_code
        == 204
    )
    assert (
        stack.put(
            f"/v1/priv/exchange/order/{key}/margin", token, json={"symbol": "BTC/USDT", "type": "CROSSED"}
        ).status_code
        == 204
    )

    placed = stack.post(
        f"/v1/priv/exchange/order/{key}", token, json=REFERENCE_ORDER, headers={"Idempotency-Key": "e2e-1"}
    )
    assert placed.status_code == 200, placed.text
    assert [(o["type"], o["amount"]) for o in placed.json()] == [
        ("market", 0.05),
        ("take_profit", 0.025),
        ("take_profit", 0.025),
        ("stop", 0.05),
    ]
    assert placed.headers["Cache-Control"] == "no-store"

    stack.post("/_local/exchange/price", json={"symbol": "BTC/USDT", "price": 19260})
    position = stack.get(f"/v1/priv/exchange/position/{key}", token, params=symbol).json()
    assert (position["contracts"], position["leverage"], position["side"]) == (0.025, 10, "long")
    assert len(stack.get(f"/v1/priv/exchange/order/{key}/list", token, params=symbol).json()) == 2
    assert len(stack.get(f"/v1/priv/exchange/order/{key}/history", token, params=symbol).json()) >= 2
    assert len(stack.get(f"/v1/priv/exchange/trade/{key}/history", token, params=symbol).json()) == 2
    history = stack.get("/v1/priv/account/trade/manual/history", token).json()
    assert history["items"][0]["takeProfit"] == [19250, 19300]
    assert history["items"][0]["orderId"] == placed.json()[0]["id"]

    cancelled = __import__("requests").delete(
        f"{stack.url}/v1/priv/exchange/position/{key}",
        headers={"Authorization": token},
        json=symbol,
        timeout=30,
    )
    assert cancelled.status_code == 204
    assert stack.get(f"/v1/priv/exchange/position/{key}", token, params=symbol).json() is None
    assert stack.get(f"/v1/priv/exchange/order/{key}/list", token, params=symbol).json() == []
