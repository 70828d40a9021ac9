"""Trading over HTTP on the local stack: the reference's example order, read back everywhere."""

from __future__ import annotations

from tests.support import KEYS_PATH, REFERENCE_ORDER, SYMBOL, exchange_key_body, simulator_account


def test_trade_the_reference_example_and_read_it_back(stack):
    # Given a BASIC user with a key on a funded simulator account, the market at 19200
    token, _ = stack.token("trader@example.com", plan="BASIC")
    stack.post("/_local/exchange/price", json={"symbol": "BTC/USDT", "price": 19200})
    key = stack.post(
        KEYS_PATH,
        token,
        json=exchange_key_body(simulator_account(stack, {"USDT": 2000})),
    ).json()["id"]

    # When leverage and margin type are set; Then each is a 204
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

    # When the reference order is placed; Then the entry, its two take profits and its stop are placed
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

    # When the price crosses the first take profit; Then every read route shows the half-closed trade
    stack.post("/_local/exchange/price", json={"symbol": "BTC/USDT", "price": 19260})
    position = stack.get(f"/v1/priv/exchange/position/{key}", token, params=SYMBOL).json()
    assert (position["contracts"], position["leverage"], position["side"]) == (0.025, 10, "long")
    assert len(stack.get(f"/v1/priv/exchange/order/{key}/list", token, params=SYMBOL).json()) == 2
    assert len(stack.get(f"/v1/priv/exchange/order/{key}/history", token, params=SYMBOL).json()) >= 2
    assert len(stack.get(f"/v1/priv/exchange/trade/{key}/history", token, params=SYMBOL).json()) == 2
    history = stack.get("/v1/priv/account/trade/manual/history", token).json()
    assert history["items"][0]["takeProfit"] == [19250, 19300]
    assert history["items"][0]["orderId"] == placed.json()[0]["id"]

    # When the position is closed; Then no position and no open order remain
    cancelled = stack.delete(f"/v1/priv/exchange/position/{key}", token, json=SYMBOL)
    assert cancelled.status_code == 204
    assert stack.get(f"/v1/priv/exchange/position/{key}", token, params=SYMBOL).json() is None
    assert stack.get(f"/v1/priv/exchange/order/{key}/list", token, params=SYMBOL).json() == []
