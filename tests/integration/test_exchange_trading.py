"""ExchangeExpressJSv1 and manual history through real ccxt into the Binance simulator, against moto."""

from __future__ import annotations

import pytest

from core.models.exchange import KeyStatus
from core.models.trading import OrderKind, OrderSpec, Side
from core.repositories.exchange_keys import ExchangeKeyRepository
from tests.support import (
    PROFESSIONAL,
    REFERENCE_ORDER,
    SYMBOL,
    USER_A,
    USER_B,
    add_key,
    call,
    give_plan,
    manual_records,
    open_orders,
    order,
    position,
    trading_key,
)


@pytest.fixture(autouse=True)
def own_minute(exchange):
    """Each test is its own minute of request weight: the session's simulator counts every request per IP as
    Binance does, and this module (the fault matrix most) sends in seconds what real use sends in minutes."""
    yield
    exchange.reset_weights()


@pytest.fixture
def key(exchange) -> str:
    """A MANUAL FUTURES key of USER_A on a simulator account holding 5000 USDT, the market at 19200."""
    return trading_key(exchange, 5000)


def test_the_reference_order_places_entry_ladder_and_stop(key):
    status, placed, _ = order(key, REFERENCE_ORDER)
    assert status == 200
    entry, first_tp, second_tp, stop = placed
    assert (entry["type"], entry["side"], entry["status"], entry["filled"], entry["reduceOnly"]) == (
        "market",
        "buy",
        "closed",
        0.05,
        False,
    )
    assert [
        (tp["type"], tp["side"], tp["amount"], tp["price"], tp["stopPrice"], tp["reduceOnly"])
        for tp in (first_tp, second_tp)
    ] == [
        ("take_profit", "sell", 0.025, 19250, 19250, True),
        ("take_profit", "sell", 0.025, 19300, 19300, True),
    ]
    assert (stop["type"], stop["amount"], stop["price"], stop["stopPrice"], stop["reduceOnly"]) == (
        "stop",
        0.05,
        19000,
        19000,
        True,
    )
    assert set(entry) >= {
        "id",
        "clientOrderId",
        "symbol",
        "timeInForce",
        "postOnly",
        "cost",
        "average",
        "remaining",
        "trades",
        "fees",
    }
    assert entry["symbol"] == "BTC/USDT"
    assert position(key)["contracts"] == 0.05
    assert len(open_orders(key)) == 3


def test_moving_the_price_fills_the_first_take_profit_then_cancel_leaves_nothing(key, exchange):
    # Given the reference trade; When the price crosses its first take profit
    order(key, REFERENCE_ORDER)
    exchange.set_price("BTC/USDT", 19260)
    # Then half the position is closed, the stop and the second take profit remain, with fees on the fills
    assert position(key)["contracts"] == 0.025
    assert sorted(o["type"] for o in open_orders(key)) == ["stop", "take_profit"]
    trades = call("GET", f"/v1/priv/exchange/trade/{key}/history", user=USER_A, query=SYMBOL)[1]
    assert [(t["side"], t["amount"]) for t in trades] == [("sell", 0.025), ("buy", 0.05)]
    assert trades[0]["fee"]["currency"] == "USDT"
    assert trades[0]["fee"]["cost"] > 0

    # When the position is cancelled; Then neither it nor any exit remains
    status, body, _ = call("DELETE", f"/v1/priv/exchange/position/{key}", user=USER_A, body=SYMBOL)
    assert (status, body) == (204, None)
    assert position(key) is None
    assert open_orders(key) == []
    history = call("GET", f"/v1/priv/exchange/order/{key}/history", user=USER_A, query=SYMBOL)[1]
    assert history[0]["reduceOnly"] is True  # the closing order, newest first


def test_a_new_order_first_clears_the_symbol(key):
    # Given the reference trade; When a plain sell follows on the same symbol
    order(key, REFERENCE_ORDER)
    status, placed, _ = order(key, {"symbol": "BTC/USDT", "type": "MARKET", "side": "SELL", "amount": 0.01})
    assert status == 200
    assert len(placed) == 1
    # Then the old position and its exits are gone: only the new short is left
    assert position(key)["side"] == "short"
    assert position(key)["contracts"] == 0.01
    assert open_orders(key) == []


def test_a_resting_limit_entry_carries_its_exits(key, exchange):
    # When a limit entry below the market is placed; Then it rests and there is no position yet
    status, placed, _ = order(key, {**REFERENCE_ORDER, "type": "LIMIT", "price": 19100})
    assert status == 200
    assert placed[0]["status"] == "open"
    assert position(key) is None
    exchange.set_price("BTC/USDT", 19090)  # the entry fills; the stop at 19000 is not reached
    assert position(key)["contracts"] == 0.05
    exchange.set_price("BTC/USDT", 18990)  # the stop triggers: a limit sell at 19000 now rests
    assert position(key)["contracts"] == 0.05
    exchange.set_price("BTC/USDT", 19005)  # and fills when the market comes back to it
    assert position(key) is None


def test_a_trailing_stop_entry_is_placed_and_recorded_with_its_trigger_and_callback(key):
    status, placed, _ = order(
        key,
        {
            "symbol": "BTC/USDT",
            "type": "TRAILING_STOP",
            "side": "BUY",
            "amount": 0.05,
            "price": 19100,
            "callbackRate": 1,
        },
    )
    assert status == 200
    assert placed[0]["type"] == "trailing_stop_market"
    _, history, _ = call("GET", "/v1/priv/account/trade/manual/history", user=USER_A)
    assert (history["items"][0]["trailingTriggerPrice"], history["items"][0]["callbackRate"]) == (19100, 1)


def test_validation_errors_of_the_reference_are_reported_together(key):
    status, body, _ = order(
        key,
        {
            "symbol": "BTC/USDT",
            "type": "TRAILING_STOP",
            "side": "BUY",
            "amount": 0.05,
            "price": 19100,
            "callbackRate": 1,
            "stopTriggerPrice": "20000",
            "stopTriggerType": "LIMIT",
        },
    )
    assert status == 422
    assert body == {
        "errors": [
            {
                "value": "20000",
                "msg": "must not use with type traililng stop",
                "param": "stopTriggerPrice",
                "location": "body",
            },
            {
                "value": "LIMIT",
                "msg": "must require stopPrice with type limit",
                "param": "stopTriggerType",
                "location": "body",
            },
        ]
    }


@pytest.mark.parametrize(
    ("body", "param", "msg"),
    [
        ({"type": "LIMIT"}, "price", "must require price with type limit or trailing stop"),
        (
            {"type": "TRAILING_STOP", "price": 19100, "takeProfitPrices": []},
            "callbackRate",
            "must require callbackRate with type trailing stop",
        ),
        (
            {"type": "TRAILING_STOP", "price": 19100, "callbackRate": 1, "takeProfitPrices": [19500]},
            "takeProfitPrices",
            "must not use with type traililng stop",
        ),
        (
            {"type": "TRAILING_STOP", "price": 19100, "callbackRate": 6},
            "callbackRate",
            "must be less than or equal to 5",
        ),
        (
            {"type": "TRAILING_STOP", "price": 19100, "callbackRate": 0.05},
            "callbackRate",
            "must be greater than or equal to 0.1",
        ),
        (
            {"takeProfitPrices": [19300 + i for i in range(26)]},
            "takeProfitPrices",
            "must contain at most 25 items",
        ),
        ({"type": "STOP"}, "type", "must be one of [LIMIT, MARKET, TRAILING_STOP]"),
        ({"side": "HOLD"}, "side", "must be one of [BUY, SELL]"),
        ({"symbol": "BTCUSDT"}, "symbol", "must be valid exchange symbol"),
        ({"amount": -1}, "amount", "must be greater than 0"),
        ({"amount": "a lot"}, "amount", "must be a number"),
        ({"amount": 0.0001}, "amount", "must be at least 0.001"),
        ({"amount": 0.002}, "amount", "order value must be at least 100 USDT"),
        ({"takeProfitPrices": [19100]}, "takeProfitPrices[0]", "must be above the entry price"),
        ({"stopTriggerPrice": 19500}, "stopTriggerPrice", "must be below the entry price"),
        (
            {"amount": 0.006, "takeProfitPrices": [19300 + i for i in range(7)]},
            "takeProfitPrices",
            "each take profit needs at least 0.001",
        ),
    ],
)
def test_each_invalid_order_is_422_before_anything_is_sent(key, body, param, msg):
    status, answer, _ = order(
        key, {"symbol": "BTC/USDT", "type": "MARKET", "side": "BUY", "amount": 0.05, **body}
    )
    assert status == 422, answer
    assert (param, msg) in {(error["param"], error["msg"]) for error in answer["errors"]}
    assert position(key) is None
    assert open_orders(key) == []


def test_take_profit_amounts_split_on_the_step_with_the_remainder_last(key):
    _, placed, _ = order(
        key,
        {
            "symbol": "BTC/USDT",
            "type": "MARKET",
            "side": "BUY",
            "amount": 0.01,
            "takeProfitPrices": [19300, 19400, 19500],
        },
    )
    assert [o["amount"] for o in placed[1:]] == [0.003, 0.003, 0.004]


def test_the_stop_failing_closes_the_position_and_cancels_the_take_profits(key, exchange):
    # Given an exchange that refuses every stop; When the reference order is placed
    exchange.set_faults(
        match="STOP", error_rate=1.0, status=400, body={"code": -1013, "msg": "Filter failure: PRICE_FILTER"}
    )
    status, body, _ = order(key, REFERENCE_ORDER)
    assert (status, body) == (433, {"error": "exchange bad request (1500)"})
    # Then the entry was undone and the record says so
    exchange.set_faults()
    assert position(key) is None
    assert open_orders(key) == []
    (record,) = manual_records(USER_A)
    assert record["state"] == "COMPENSATED"
    assert [step["step"] for step in record["journal"]][-2:] == ["compensate", "compensated"]
    assert [o["role"] for o in record["orders"]] == ["entry"]


def test_an_idempotent_retry_returns_the_first_answer_and_places_nothing_twice(key):
    # When the same request is sent twice with one Idempotency-Key
    headers = {"Idempotency-Key": "order-2022-10-11-001"}
    first = order(key, REFERENCE_ORDER, headers=headers)
    again = order(key, REFERENCE_ORDER, headers=headers)
    # Then both get the first answer and the exchange holds one entry and its three exits
    assert first[0] == again[0] == 200
    assert first[1] == again[1]
    history = call("GET", f"/v1/priv/exchange/order/{key}/history", user=USER_A, query=SYMBOL)[1]
    assert [o["side"] for o in history if not o["reduceOnly"]] == ["buy"]
    assert len(open_orders(key)) == 3
    # When the key is reused for a different request; Then it is a 422 on the header
    reused = order(key, {**REFERENCE_ORDER, "amount": 0.06}, headers=headers)
    assert reused[0] == 422
    assert reused[1]["errors"][0]["param"] == "Idempotency-Key"


def test_an_entry_that_times_out_after_the_exchange_accepted_it_is_found_not_placed_again(key, exchange):
    # Given an exchange that takes the next order, then times out before answering
    exchange.set_faults(match="POST /fapi/v1/order", timeout=True, after_accept=True, count=1)
    # When the reference order is placed
    status, placed, _ = order(key, REFERENCE_ORDER, headers={"Idempotency-Key": "slow-entry"})
    exchange.set_faults()
    # Then the accepted entry is found and used: one entry, one position
    assert status == 200
    assert placed[0]["filled"] == 0.05
    history = call("GET", f"/v1/priv/exchange/order/{key}/history", user=USER_A, query=SYMBOL)[1]
    assert len([o for o in history if o["side"] == "buy"]) == 1  # exactly one entry on the exchange
    assert position(key)["contracts"] == 0.05


def test_only_active_manual_futures_keys_can_trade_on_any_trading_route(exchange, key):
    # Given a SPOT key and an AUTOMATED key besides the MANUAL FUTURES one
    spot = add_key(USER_A, exchange.create_account(balances={"USDT": 100}), tradeType="SPOT")[1]["id"]
    automated = add_key(USER_A, exchange.create_account(balances={"USDT": 100}), strategyType="AUTOMATED")[1][
        "id"
    ]
    # Then neither can place a manual order nor use a futures route
    assert order(automated, REFERENCE_ORDER)[1] == {"error": "exchange API key type is invalid (1106)"}
    assert order(spot, REFERENCE_ORDER)[1] == {"error": "exchange API key type is unsupported (1115)"}
    for method, path, body in [
        ("GET", f"/v1/priv/exchange/position/{spot}", None),
        ("PUT", f"/v1/priv/exchange/order/{spot}/leverage", {"symbol": "BTC/USDT", "leverage": 10}),
        ("PUT", f"/v1/priv/exchange/order/{spot}/margin", {"symbol": "BTC/USDT", "type": "ISOLATED"}),
        ("DELETE", f"/v1/priv/exchange/position/{spot}", SYMBOL),
    ]:
        answer = call(method, path, user=USER_A, body=body, query=SYMBOL if method == "GET" else None)
        assert answer[:2] == (433, {"error": "exchange API key type is invalid (1106)"}), path
    # When the MANUAL FUTURES key becomes unauthorized; Then it is inactive on every route
    repository = ExchangeKeyRepository()
    repository.mark_status(repository.get(USER_A, key), KeyStatus.UNAUTHORIZED, "now")
    assert order(key, REFERENCE_ORDER)[1] == {"error": "exchange API key is inactive (1110)"}
    assert call(
        "PUT",
        f"/v1/priv/exchange/order/{key}/leverage",
        user=USER_A,
        body={"symbol": "BTC/USDT", "leverage": 5},
    )[1] == {"error": "exchange API key is inactive (1110)"}


def test_another_users_key_is_404_and_an_invalid_id_is_422(key):
    for method, path, body, query in [
        ("GET", f"/v1/priv/exchange/order/{key}/list", None, SYMBOL),
        ("GET", f"/v1/priv/exchange/order/{key}/history", None, SYMBOL),
        ("GET", f"/v1/priv/exchange/trade/{key}/history", None, SYMBOL),
        ("GET", f"/v1/priv/exchange/position/{key}", None, SYMBOL),
        ("POST", f"/v1/priv/exchange/order/{key}", REFERENCE_ORDER, None),
        ("DELETE", f"/v1/priv/exchange/position/{key}", SYMBOL, None),
        ("PUT", f"/v1/priv/exchange/order/{key}/leverage", {"symbol": "BTC/USDT", "leverage": 5}, None),
        ("PUT", f"/v1/priv/exchange/order/{key}/margin", {"symbol": "BTC/USDT", "type": "CROSSED"}, None),
    ]:
        assert call(method, path, user=USER_B, body=body, query=query)[:2] == (
            404,
            {"message": "route not found"},
        ), path
        invalid = path.replace(key, "invaliduuid")
        status, answer, _ = call(method, invalid, user=USER_A, body=body, query=query)
        assert (status, answer["errors"][0]) == (
            422,
            {"value": "invaliduuid", "msg": "must be UUID", "param": "id", "location": "params"},
        )


def test_symbol_is_required_and_unknown_symbols_are_1300(key):
    status, body, _ = call("GET", f"/v1/priv/exchange/order/{key}/list", user=USER_A)
    assert (status, body["errors"][0]["param"], body["errors"][0]["location"]) == (422, "symbol", "query")
    assert call("GET", f"/v1/priv/exchange/order/{key}/list", user=USER_A, query={"symbol": "XYZ/USDT"})[
        :2
    ] == (
        433,
        {"error": "invalid exchange symbol (1300)"},
    )


def test_leverage_and_margin_type_are_validated_and_apply_to_the_next_position(key):
    path = f"/v1/priv/exchange/order/{key}"
    assert call("PUT", f"{path}/leverage", user=USER_A, body={"symbol": "BTC/USDT", "leverage": 10})[:2] == (
        204,
        None,
    )
    assert call("PUT", f"{path}/leverage", user=USER_A, body={"symbol": "BNB/USDT", "leverage": 100})[:2] == (
        433,
        {"error": "exchange bad request (1500)"},
    )
    status, body, _ = call(
        "PUT", f"{path}/leverage", user=USER_A, body={"symbol": "BTC/USDT", "leverage": 126}
    )
    assert (status, body["errors"][0]["param"]) == (422, "leverage")
    for _ in range(2):  # setting the current type again is not an error
        assert call("PUT", f"{path}/margin", user=USER_A, body={"symbol": "BTC/USDT", "type": "ISOLATED"})[
            :2
        ] == (204, None)
    # When an order follows; Then its position has that leverage and margin type
    order(key, REFERENCE_ORDER)
    assert position(key)["leverage"] == 10
    assert position(key)["marginMode"] == "isolated"


def test_manual_history_is_newest_first_paged_and_private(key):
    # Given three manual orders
    for amount in (0.01, 0.02, 0.03):
        assert order(key, {"symbol": "BTC/USDT", "type": "MARKET", "side": "BUY", "amount": amount})[0] == 200
    # When the history is read two at a time; Then the newest come first, uncached
    status, first, headers = call(
        "GET", "/v1/priv/account/trade/manual/history", user=USER_A, query={"limit": "2"}
    )
    assert status == 200
    assert headers["Cache-Control"] == ["no-store"]
    assert [item["amount"] for item in first["items"]] == [0.03, 0.02]
    assert set(first["items"][0]) == {
        "orderId",
        "price",
        "amount",
        "cost",
        "stop",
        "stopType",
        "takeProfit",
        "trailingTriggerPrice",
        "callbackRate",
        "riskProfilePercent",
        "createdAt",
    }
    _, second, _ = call(
        "GET",
        "/v1/priv/account/trade/manual/history",
        user=USER_A,
        query={"limit": "2", "nextToken": first["nextToken"]},
    )
    assert [item["amount"] for item in second["items"]] == [0.01]
    assert second["nextToken"] is None
    # And another user sees none of it, nor can use USER_A's page token
    assert call("GET", "/v1/priv/account/trade/manual/history", user=USER_B)[1] == {
        "items": [],
        "nextToken": None,
    }
    status, body, _ = call(
        "GET", "/v1/priv/account/trade/manual/history", user=USER_B, query={"nextToken": first["nextToken"]}
    )
    assert (status, body["errors"][0]["param"]) == (422, "nextToken")


# ---------------------------------------------------------------- exchange round trips (issue 12)
def _received(exchange) -> list[tuple[str, str]]:
    return [(entry.method, entry.path) for entry in exchange.received()]


def test_a_warm_order_sends_its_orders_an_account_read_and_a_price_read_only(key, exchange):
    # Given a warm container (markets, the key's client and its leverage brackets loaded by a read)
    assert position(key) is None
    exchange.clear_received()
    # When the reference order (two take-profits) is placed on the idle symbol
    status, _, _ = order(key, REFERENCE_ORDER)
    assert status == 200
    # Then the simulator saw k + 4 requests: no clearing, no look-up, no market or bracket read; the two
    # reads go side by side (either may arrive first), then the sends one by one
    received = _received(exchange)
    assert set(received[:2]) == {("GET", "/fapi/v1/premiumIndex"), ("GET", "/fapi/v3/account")}
    assert received[2:] == [
        ("POST", "/fapi/v1/order"),
        ("POST", "/fapi/v1/algoOrder"),
        ("POST", "/fapi/v1/algoOrder"),
        ("POST", "/fapi/v1/algoOrder"),
    ]


def test_one_client_per_key_reads_the_leverage_brackets_once(key, exchange):
    exchange.clear_received()
    order(key, REFERENCE_ORDER)
    position(key)
    call("DELETE", f"/v1/priv/exchange/position/{key}", user=USER_A, body=SYMBOL)
    order(key, REFERENCE_ORDER)
    position(key)
    paths = [path for _, path in _received(exchange)]
    assert paths.count("/fapi/v1/leverageBracket") == 1
    assert paths.count("/fapi/v1/exchangeInfo") <= 1  # once per container (adding the key may have loaded it)
    assert "/api/v3/exchangeInfo" not in paths  # a FUTURES key never loads the spot markets


def test_a_spot_key_loads_only_the_spot_markets(exchange):
    give_plan(USER_A, PROFESSIONAL)
    exchange.clear_received()
    spot = add_key(USER_A, exchange.create_account(balances={"USDT": 100}), tradeType="SPOT")[1]["id"]
    status, _, _ = call("GET", f"/v1/priv/exchange/order/{spot}/list", user=USER_A, query=SYMBOL)
    assert status == 200
    paths = [path for _, path in _received(exchange)]
    assert paths.count("/api/v3/exchangeInfo") == 1
    assert not [p for p in paths if p.startswith(("/fapi", "/dapi"))]


def test_the_account_read_lists_a_symbol_with_a_position_or_an_open_order_but_not_with_algo_orders_alone(
    key, exchange
):
    from adapters.exchange.trading import BinanceTradingAccount
    from core.models.exchange import TradeType

    credentials = exchange.create_account(balances={"USDT": 5000})
    account = BinanceTradingAccount(TradeType.FUTURES, credentials["apiKey"], credentials["apiSecretKey"])
    assert account.account_snapshot().busy_symbols == frozenset()
    assert account.account_snapshot().equity_usdt == 5000
    stop = OrderSpec(
        kind=OrderKind.STOP_MARKET,
        side=Side.SELL,
        amount=0.01,
        client_order_id="algo-only",
        trigger_price=18000,
    )
    account.place("BTC/USDT", stop)
    assert account.account_snapshot().busy_symbols == frozenset()  # conditional orders alone: not listed
    resting = OrderSpec(kind=OrderKind.LIMIT, side=Side.BUY, amount=0.01, client_order_id="rest", price=18500)
    account.place("BTC/USDT", resting)
    assert account.account_snapshot().busy_symbols == frozenset({"BTC/USDT"})


def test_a_spot_account_read_holds_its_usdt_and_the_pairs_of_what_it_holds(exchange):
    from adapters.exchange.trading import BinanceTradingAccount
    from core.models.exchange import TradeType

    credentials = exchange.create_account(balances={"USDT": 700, "BTC": 0.5})
    snapshot = BinanceTradingAccount(
        TradeType.SPOT, credentials["apiKey"], credentials["apiSecretKey"]
    ).account_snapshot()
    assert (snapshot.equity_usdt, snapshot.busy_symbols) == (700, frozenset({"BTC/USDT"}))


@pytest.mark.parametrize("after_accept", [False, True], ids=["refused", "processed-then-429"])
def test_a_429_on_the_entry_is_looked_up_never_sent_blind_again(key, exchange, after_accept):
    # Given an entry answered 429, whether or not the exchange processed it
    exchange.clear_received()
    exchange.set_faults(
        match="POST /fapi/v1/order",
        error_rate=1.0,
        status=429,
        retryAfter=0,
        count=1,
        after_accept=after_accept,
    )
    status, _, _ = order(key, REFERENCE_ORDER, headers={"Idempotency-Key": f"throttled-entry-{after_accept}"})
    exchange.set_faults()
    # Then the entry was sent once: found and protected when it was processed, else nothing is left
    entries = [(m, p) for m, p in _received(exchange) if p == "/fapi/v1/order" and m == "POST"]
    assert len(entries) == 1
    history = call("GET", f"/v1/priv/exchange/order/{key}/history", user=USER_A, query=SYMBOL)[1]
    if after_accept:
        assert status == 200
        assert len([o for o in history if not o["reduceOnly"]]) == 1
        assert position(key)["contracts"] == 0.05
    else:  # throttled, not placed: the exchange is unavailable for now, and nothing of the trade is left
        assert status == 503
        assert position(key) is None
        assert open_orders(key) == []


def _protected_or_flat(key: str) -> None:
    """The money rule: a position always has its stop on the book, else the symbol is flat and empty."""
    held = position(key)
    left = open_orders(key)
    if held is None:
        assert left == []
    else:
        stops = [o for o in left if o["type"] == "stop" and o["amount"] == held["contracts"]]
        assert len(stops) == 1, left
    history = call("GET", f"/v1/priv/exchange/order/{key}/history", user=USER_A, query=SYMBOL)[1]
    assert len([o for o in history if not o["reduceOnly"]]) <= 1  # never two entries


STEPS = [
    "GET /fapi/v3/account",
    "GET /fapi/v1/premiumIndex",
    "POST /fapi/v1/order",
    "POST /fapi/v1/algoOrder",
]
FAULTS = {
    "503": {"error_rate": 1.0, "status": 503},
    "429": {"error_rate": 1.0, "status": 429, "retryAfter": 0},
    "418 ban": {"error_rate": 1.0, "status": 418},
    "accepted, then 503": {"error_rate": 1.0, "status": 503, "after_accept": True, "count": 1},
    "accepted, then timeout": {"timeout": True, "after_accept": True, "count": 1},
}


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
@pytest.mark.parametrize("step", STEPS)
def test_a_fault_at_any_step_leaves_the_position_protected_or_flat_and_a_retry_never_doubles(
    key, exchange, step, fault
):
    headers = {"Idempotency-Key": f"fault-{step}-{fault}"}
    # When the exchange fails at one step of the reference order
    exchange.set_faults(match=step, **FAULTS[fault])
    first = order(key, REFERENCE_ORDER, headers=headers)
    exchange.set_faults()
    # Then the position has its stop or the symbol is flat with no orders, and the answer says which: an
    # order the exchange took before failing is finished (200); an exit that could not be placed closed the
    # position (433, 1500); otherwise the exchange was unavailable before the entry was placed (503)
    accepted = fault.startswith("accepted") and step.startswith("POST")
    refused = 433 if step == "POST /fapi/v1/algoOrder" else 503
    assert first[0] == (200 if accepted else refused), first
    _protected_or_flat(key)
    # When the client retries with the same Idempotency-Key; Then still so, and nothing was placed twice:
    # a trade that was cancelled answers as it did, one that never reached the exchange is placed now
    again = order(key, REFERENCE_ORDER, headers=headers)
    assert again[0] == (200 if accepted or step.startswith("GET") else refused), again
    _protected_or_flat(key)
    if first[0] == 200:
        assert again[1] == first[1]


CLEAR_STEPS = [  # our records name our conditional entries: the clear does not look the book up
    "DELETE /fapi/v1/allOpenOrders",
    "GET /fapi/v2/positionRisk",
    "POST /fapi/v1/order",
    "DELETE /fapi/v1/algoOpenOrders",
]


@pytest.mark.parametrize("fault", ["503", "429"])
@pytest.mark.parametrize("step", CLEAR_STEPS)
def test_a_clear_that_fails_at_any_step_never_leaves_the_earlier_position_without_its_stop(
    key, exchange, step, fault
):
    # Given a live trade, and an exchange that keeps failing one step of the clear a new order starts with
    order(key, REFERENCE_ORDER, headers={"Idempotency-Key": "earlier"})
    headers = {"Idempotency-Key": f"clear-{step}-{fault}"}
    exchange.set_faults(match=step, **FAULTS[fault])
    first = order(key, REFERENCE_ORDER, headers=headers)
    exchange.set_faults()
    # Then nothing of the new trade was placed (503), and the earlier position still has its stop: exits are
    # cancelled only once the position is closed, so at worst its reduce-only exits outlive it
    assert first[0] == 503, first
    held = position(key)
    if held is None:
        assert all(o["reduceOnly"] for o in open_orders(key))
    else:  # the close failed: the earlier trade keeps every exit, its stop and its take-profits
        assert held["contracts"] == 0.05
        assert sorted((o["type"], o["amount"]) for o in open_orders(key)) == [
            ("stop", 0.05),
            ("take_profit", 0.025),
            ("take_profit", 0.025),
        ]
    # When the client retries once the exchange answers; Then the symbol holds the new trade alone, protected
    again = order(key, REFERENCE_ORDER, headers=headers)
    assert again[0] == 200, again
    assert position(key)["contracts"] == 0.05
    assert sorted((o["type"], o["amount"]) for o in open_orders(key)) == [
        ("stop", 0.05),
        ("take_profit", 0.025),
        ("take_profit", 0.025),
    ]
    history = call("GET", f"/v1/priv/exchange/order/{key}/history", user=USER_A, query=SYMBOL)[1]
    assert len([o for o in history if not o["reduceOnly"]]) == 2  # the earlier entry and this one, once


def test_cancelling_a_position_first_cancels_a_resting_trailing_entry_even_when_the_close_fails(
    key, exchange
):
    # Given a trailing-stop entry resting in the conditional book (it takes no exits)
    trailing = {"symbol": "BTC/USDT", "type": "TRAILING_STOP", "side": "BUY", "amount": 0.05}
    status, body, _ = order(key, {**trailing, "price": 19100, "callbackRate": 1})
    assert status == 200, body
    assert [o["reduceOnly"] for o in open_orders(key)] == [False]
    # When the user cancels the symbol while the exchange cannot read the position (this route looks the
    # conditional book up: the position may hold orders our records do not know)
    exchange.set_faults(match="GET /fapi/v2/positionRisk", error_rate=1.0, status=503)
    status, _, _ = call("DELETE", f"/v1/priv/exchange/position/{key}", user=USER_A, body=SYMBOL)
    exchange.set_faults()
    # Then the entry is gone before the close was tried: it cannot open a position nobody protects
    assert status == 503
    assert open_orders(key) == []
    assert position(key) is None


def test_a_new_order_cancels_our_resting_trailing_entry_before_it_can_trigger(key, exchange):
    # Given our trailing-stop entry resting in the conditional book
    trailing = {"symbol": "BTC/USDT", "type": "TRAILING_STOP", "side": "BUY", "amount": 0.05}
    assert order(key, {**trailing, "price": 19100, "callbackRate": 1})[0] == 200
    exchange.clear_received()
    # When a new order replaces it
    assert order(key, REFERENCE_ORDER)[0] == 200
    # Then the trailing entry is gone, by its client id (our record names it: no look-up of the book), and
    # only the new trade's position and exits are left
    paths = [p for _, p in _received(exchange)]
    assert "/fapi/v1/openAlgoOrders" not in paths
    assert position(key)["contracts"] == 0.05
    assert sorted(o["type"] for o in open_orders(key)) == ["stop", "take_profit", "take_profit"]


def test_a_close_position_stop_placed_outside_this_api_stays_until_the_position_is_closed(exchange):
    # Given a position with a stop placed on Binance itself, as its position TP/SL screen does (closePosition)
    from adapters.exchange.trading import BinanceTradingAccount
    from core.models.exchange import TradeType

    exchange.set_price("BTC/USDT", 19200)
    give_plan(USER_A, PROFESSIONAL)
    credentials = exchange.create_account(balances={"USDT": 5000})
    status, created = add_key(USER_A, credentials)
    assert status == 200, created
    key = created["id"]
    assert order(key, {"symbol": "BTC/USDT", "type": "MARKET", "side": "BUY", "amount": 0.05})[0] == 200
    client = BinanceTradingAccount(
        TradeType.FUTURES, credentials["apiKey"], credentials["apiSecretKey"]
    ).client
    client.create_order(
        "BTC/USDT:USDT", "market", "sell", None, None, {"stopLossPrice": 18000, "closePosition": True}
    )
    assert [o["reduceOnly"] for o in open_orders(key)] == [True]
    # When the user cancels the symbol while the exchange cannot read the position
    exchange.set_faults(match="GET /fapi/v2/positionRisk", error_rate=1.0, status=503)
    status, _, _ = call("DELETE", f"/v1/priv/exchange/position/{key}", user=USER_A, body=SYMBOL)
    exchange.set_faults()
    # Then the position still has that stop; once the exchange answers, the cancel leaves nothing
    assert status == 503
    assert position(key)["contracts"] == 0.05
    assert len(open_orders(key)) == 1
    assert call("DELETE", f"/v1/priv/exchange/position/{key}", user=USER_A, body=SYMBOL)[0] == 204
    assert position(key) is None
    assert open_orders(key) == []
