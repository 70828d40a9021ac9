"""Exchange accounts over HTTP: the issue's whole story on the local stack, through real ccxt."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.support import KEYS_PATH, exchange_key_body, simulator_account


def test_a_new_user_adds_a_key_sees_balances_and_history(stack):
    # Given a new BASIC user and an account holding 1500 USDT and 0.01 BTC at 19200
    token, _ = stack.token("exchange-story@example.com", plan="BASIC")
    stack.post("/_local/exchange/price", json={"symbol": "BTC/USDT", "price": 19200})  # other tests move it
    account = simulator_account(stack, {"USDT": 1500, "BTC": 0.01})
    # When they add its key; Then it is authorized and answered without its secret
    created = stack.post(KEYS_PATH, token, json=exchange_key_body(account))
    assert created.status_code == 200, created.text
    key = created.json()
    assert key["apiKeyStatus"] == "AUTHORIZED"
    assert account["apiSecretKey"] not in created.text

    # And its live balance is the account's
    live = stack.get(f"{KEYS_PATH}/{key['id']}/balance", token)
    assert live.status_code == 200
    assert live.json()["total"] == {"USDT": 1500, "BTC": 0.01}
    assert live.headers["Cache-Control"] == "no-store"

    # When the daily snapshot job runs; Then the total and the history show the account in USD
    job = stack.post("/_local/jobs/balance-snapshot")
    assert job.status_code == 200
    assert (
        job.json()["queued"] >= 1
    )  # this key's message (and others'), taken by the worker before the answer
    assert stack.get("/v1/priv/account/exchange/balance", token).json() == {
        "USD": 1692
    }  # 1500 + 0.01 x 19200
    history = stack.get(f"{KEYS_PATH}/{key['id']}/balance/history", token).json()
    assert history == {"items": [{"date": job.json()["date"], "totalUSD": 1692}], "nextToken": None}
    again = stack.post("/_local/jobs/balance-snapshot").json()
    assert again["queued"] == 0  # once per key per day
    assert again["skipped"] >= 1

    assert stack.get("/v1/priv/account/exchange/whitelist/ip", token).json()  # the local stack has a default


def test_documented_errors_are_reachable(stack):
    # Given a BASIC user holding one key
    token, _ = stack.token("exchange-errors@example.com", plan="BASIC")
    good = simulator_account(stack, {"USDT": 100})
    assert stack.post(KEYS_PATH, token, json=exchange_key_body(good)).status_code == 200
    # When each refused kind of key is added; Then each is its documented error
    cases = [
        (exchange_key_body(good), 433, {"error": "exchange API key already exist (1109)"}),
        (
            exchange_key_body({**simulator_account(stack, {"USDT": 100}), "apiSecretKey": "w" * 64}),
            433,
            {"error": "exchange API authorization failed (1103)"},
        ),
        (
            exchange_key_body(simulator_account(stack, {"USDT": 5000})),
            433,
            {"error": "exceed subscription max API balance limit (2129b)"},
        ),
        (
            exchange_key_body(simulator_account(stack, {"USDT": 1}, enableWithdrawals=True)),
            433,
            {"error": "exchange API key must not have withdrawal permission (1116)"},
        ),
        (
            exchange_key_body(simulator_account(stack, {"USDT": 1}, enableFutures=False)),
            433,
            {"error": "exchange API key must have futures permission (1117)"},
        ),
    ]
    for body, status, expected in cases:
        answer = stack.post(KEYS_PATH, token, json=body)
        assert (answer.status_code, answer.json()) == (status, expected)
    assert (
        stack.post(
            KEYS_PATH, token, json=exchange_key_body(simulator_account(stack, {"USDT": 1}), tradeType="SPOT")
        ).status_code
        == 200
    )
    over = stack.post(KEYS_PATH, token, json=exchange_key_body(simulator_account(stack, {"USDT": 1})))
    assert (over.status_code, over.json()) == (
        433,
        {"error": "exceed subscription max API key limit (2129a)"},
    )
    invalid = stack.put(f"{KEYS_PATH}/invalid", token, json={"name": "x"})
    assert invalid.json() == {
        "errors": [{"value": "invalid", "msg": "must be UUID", "param": "id", "location": "params"}]
    }
    other, _ = stack.token("exchange-intruder@example.com", plan="BASIC")
    own_key = stack.get(f"{KEYS_PATH}/list", token).json()["items"][0]["id"]
    assert stack.get(f"{KEYS_PATH}/{own_key}/balance", other).status_code == 404


def test_concurrent_creates_at_the_plan_limit(stack):
    token, _ = stack.token("exchange-race@example.com", plan="BASIC")  # two keys
    accounts = [simulator_account(stack, {"USDT": 10}) for _ in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(
            pool.map(lambda account: stack.post(KEYS_PATH, token, json=exchange_key_body(account)), accounts)
        )
    assert sorted(answer.status_code for answer in answers) == [200, 200, 433, 433]
    assert len(stack.get(f"{KEYS_PATH}/list", token).json()["items"]) == 2


def test_ticker_over_http(stack):
    answer = stack.get("/v1/pub/exchange/ticker", params={"symbol": "BTC/USDT", "type": "FUTURES"})
    assert answer.status_code == 200
    assert answer.json()["symbol"] == "BTC/USDT"
    moved = stack.post("/_local/exchange/price", json={"symbol": "ETH/USDT", "price": 1500.5})
    assert moved.status_code == 204
    assert stack.get("/v1/pub/exchange/ticker", params={"symbol": "ETH/USDT"}).json()["last"] == 1500.5
