"""Following a strategy over HTTP on the local stack: follow, list, switch, turn off, and the automated history."""

from __future__ import annotations

from tests.support import exchange_key_body

STRATEGY_1 = "b9f67eb2-1d6e-4a47-a735-d0d9039c9b08"
STRATEGY_2 = "b762dad3-b720-4ddd-a515-32ae48e39f94"
CONSERVATIVE = "ab00673a-cd19-44d4-a7c4-05c63e309663"
MODERATE = "3dc38f3d-4b4e-43b3-a102-e250b7cd3551"


def test_follow_a_strategy_on_an_automated_key_and_change_it(stack):
    # Given a BASIC user with an AUTOMATED key on a funded simulator account
    token, _ = stack.token("follower@example.com", plan="BASIC")
    account = stack.post("/_local/exchange/accounts", json={"balances": {"USDT": 1000}}).json()
    created_key = stack.post(
        "/v1/priv/account/exchange/key", token, json=exchange_key_body(account, strategyType="AUTOMATED")
    )
    assert created_key.status_code == 200, created_key.text
    follows = f"/v1/priv/strategy/follow/exchange/key/{created_key.json()['id']}"

    # When the user follows the reference's strategy with the conservative profile
    followed = stack.post(
        follows, token, json={"strategyAutomatedId": STRATEGY_1, "strategyRiskProfileId": CONSERVATIVE}
    )
    # Then it is active, in the reference's shape, and listed; the same symbol again is 1309
    assert followed.status_code == 200, followed.text
    assert followed.headers["Cache-Control"] == "no-store"
    follow = followed.json()
    assert follow["StrategyAutomated"] == {
        "id": STRATEGY_1,
        "active": True,
        "exchangeId": "BINANCE",
        "symbol": "BTC/USDT",
    }
    assert stack.get(follows, token).json() == {"items": [follow]}
    again = stack.post(
        follows, token, json={"strategyAutomatedId": STRATEGY_2, "strategyRiskProfileId": MODERATE}
    )
    assert (again.status_code, again.json()) == (433, {"error": "exchange symbol already exist (1309)"})

    # When the follow switches strategy and profile, then turns off
    changed = stack.put(
        f"/v1/priv/strategy/follow/{follow['id']}",
        token,
        json={"strategyAutomatedId": STRATEGY_2, "strategyRiskProfileId": MODERATE},
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["StrategyAutomated"]["id"], changed.json()["StrategyRiskProfile"]) == (
        STRATEGY_2,
        {"id": MODERATE, "percentage": 2},
    )
    off = stack.put(f"/v1/priv/strategy/follow/{follow['id']}", token, json={"active": False})
    assert (off.status_code, off.json()["active"]) == (200, False)

    # Then another user sees none of it, and the (still empty) automated history answers
    other, _ = stack.token("someone-else@example.com", plan="BASIC")
    assert stack.get(follows, other).status_code == 404
    history = stack.get("/v1/priv/account/trade/strategy/history", token)
    assert (history.status_code, history.json()) == (200, {"items": [], "nextToken": None})
