"""The Binance simulator as seen through the real ccxt 4.5.90, over HTTP.

Each test gets a fresh simulator (prices BTC 19200, ETH 1300, BNB 280) and an account holding
10000 USDT in its spot and futures wallets. Futures conditional orders go through Binance's algo
endpoints, which ccxt picks whenever a trigger parameter is present (``stopPrice``/``triggerPrice``,
``stopLossPrice``, ``takeProfitPrice``, ``trailingPercent``/``callbackRate``); ccxt lists, fetches and
cancels them when the call carries ``{"trigger": True}``.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from ccxt.base.errors import (
    AuthenticationError,
    BadRequest,
    BadSymbol,
    DDoSProtection,
    ExchangeError,
    ExchangeNotAvailable,
    InsufficientFunds,
    InvalidNonce,
    InvalidOrder,
    MarginModeAlreadySet,
    NetworkError,
    OperationFailed,
    OrderImmediatelyFillable,
    OrderNotFound,
    RequestTimeout,
)
from ccxt.binanceusdm import binanceusdm

from adapters.exchange.endpoints import point_at
from local.exchange_sim import BinanceSimulator, RunningSimulator
from tests.support import BTC, BTC_PERP, TRIGGER, ClientFactory


def position(client: Any, symbol: str = BTC_PERP) -> dict[str, Any] | None:
    positions = client.fetch_positions([symbol], {"useV2": True})  # the project reads v2, as here
    return positions[0] if positions else None


def open_long(client: Any, amount: float = 0.05) -> dict[str, Any]:
    return client.create_order(BTC_PERP, "market", "buy", amount)


# -- markets, market data, balances -----------------------------------------------------------------


def test_markets_carry_binance_filters(make_client: ClientFactory) -> None:
    spot = make_client("spot")
    usdm = make_client("usdm")

    for symbol in ("BTC/USDT", "ETH/USDT", "BNB/USDT"):
        assert spot.market(symbol)["spot"] is True
        assert usdm.market(f"{symbol}:USDT")["linear"] is True
    spot_btc = spot.market(BTC)
    assert spot_btc["precision"]["price"] == 0.01
    assert spot_btc["precision"]["amount"] == 0.00001
    assert spot_btc["limits"]["cost"]["min"] == 5
    assert spot_btc["limits"]["market"]["max"] == 100
    perp_btc = usdm.market(BTC_PERP)
    assert perp_btc["swap"] is True
    assert perp_btc["precision"] == {"amount": 0.001, "price": 0.1, "base": 1e-08, "quote": 1e-08}
    assert perp_btc["limits"]["amount"] == {"min": 0.001, "max": 1000}
    assert perp_btc["limits"]["cost"]["min"] == 100
    filters = {f["filterType"] for f in perp_btc["info"]["filters"]}
    assert {"PRICE_FILTER", "LOT_SIZE", "MARKET_LOT_SIZE", "MIN_NOTIONAL"} <= filters
    assert "TRAILING_STOP_MARKET" in perp_btc["info"]["orderTypes"]


def test_time_and_tickers_follow_the_shared_price(sim: BinanceSimulator, spot: Any, usdm: Any) -> None:
    assert abs(usdm.fetch_time() - time.time() * 1000) < 5000
    assert spot.fetch_ticker(BTC)["last"] == 19200
    assert usdm.fetch_ticker(BTC_PERP)["last"] == 19200

    sim.set_price("ETH/USDT", 1350.5)

    spot_tickers = spot.fetch_tickers(["BTC/USDT", "ETH/USDT"])
    assert spot_tickers["ETH/USDT"]["last"] == 1350.5
    assert spot_tickers["ETH/USDT"]["open"] == 1300
    perp_tickers = usdm.fetch_tickers()
    assert set(perp_tickers) == {"BTC/USDT:USDT", "ETH/USDT:USDT", "BNB/USDT:USDT"}
    assert perp_tickers["ETH/USDT:USDT"]["last"] == 1350.5
    assert perp_tickers["ETH/USDT:USDT"]["high"] == 1350.5
    with pytest.raises(ValueError, match="unknown symbol"):
        sim.set_price("DOGE/USDT", 1)


def test_balances_of_both_wallets(make_client: ClientFactory, sim: BinanceSimulator) -> None:
    keys = sim.create_account({"USDT": 2500, "BTC": 0.5})

    spot = make_client("spot", keys).fetch_balance()
    futures = make_client("usdm", keys).fetch_balance()

    assert spot["USDT"] == {"free": 2500, "used": 0, "total": 2500}
    assert spot["BTC"]["free"] == 0.5
    assert futures["USDT"] == {"free": 2500, "used": 0, "total": 2500}


def test_unknown_symbol_is_bad_symbol(usdm: Any) -> None:
    with pytest.raises(BadSymbol):
        usdm.fapiPublicGetTicker24hr({"symbol": "DOGEUSDT"})


# -- authentication and key permissions -------------------------------------------------------------


def test_wrong_secret_is_an_authentication_error(make_client: ClientFactory, keys: dict[str, str]) -> None:
    client = make_client("usdm", {"apiKey": keys["apiKey"], "apiSecretKey": "not-the-secret"})

    with pytest.raises(AuthenticationError, match="-1022"):
        client.fetch_balance()


def test_unknown_key_is_an_authentication_error(make_client: ClientFactory) -> None:
    unknown = {"apiKey": "unknown-key", "apiSecretKey": "whatever"}

    with pytest.raises(AuthenticationError, match="-2015"):
        make_client("usdm", unknown).fetch_balance()
    # With credentials ccxt.binance already signs a request (margin pairs) while loading markets.
    with pytest.raises(AuthenticationError, match="-2015"):
        make_client("spot", unknown, load_markets=False).fetch_balance()


def test_api_restrictions_and_futures_permission(make_client: ClientFactory, sim: BinanceSimulator) -> None:
    keys = sim.create_account(permissions={"enableFutures": False, "ipRestrict": False})
    spot = make_client("spot", keys)

    restrictions = spot.sapi_get_account_apirestrictions()

    assert restrictions["enableReading"] is True
    assert restrictions["enableSpotAndMarginTrading"] is True
    assert restrictions["enableWithdrawals"] is False
    assert restrictions["enableFutures"] is False
    assert restrictions["ipRestrict"] is False
    assert "tradingAuthorityExpirationTime" in restrictions
    with pytest.raises(AuthenticationError, match="-2015"):
        make_client("usdm", keys).fetch_balance()


def test_spot_trading_permission(make_client: ClientFactory, sim: BinanceSimulator) -> None:
    keys = sim.create_account(permissions={"enableSpotAndMarginTrading": False})
    client = make_client("spot", keys)

    with pytest.raises(AuthenticationError, match="-2015"):
        client.create_order(BTC, "market", "buy", 0.001)
    assert client.fetch_balance()["USDT"]["total"] == 10000
    # Once a /api/v3 private call has succeeded, ccxt reads -2015 as a temporary ban.
    with pytest.raises(DDoSProtection, match="-2015"):
        client.create_order(BTC, "market", "buy", 0.001)


def test_timestamps_outside_the_recv_window_are_refused(
    make_client: ClientFactory, sim: BinanceSimulator
) -> None:
    keys = sim.create_account()
    sim.set_clock_offset(-60_000)  # the server clock a minute behind the client's
    adjusted = make_client("usdm", keys)  # adjustForTimeDifference: learns the offset on load_markets
    naive = make_client("usdm", keys, options={"adjustForTimeDifference": False})

    assert adjusted.fetch_balance()["USDT"]["total"] == 10000
    with pytest.raises(InvalidNonce, match="-1021"):
        naive.fetch_balance()


# -- futures trading ----------------------------------------------------------------------------------


def test_market_buy_opens_a_long_at_the_price(usdm: Any) -> None:
    order = open_long(usdm)

    assert order["status"] == "closed"
    assert order["filled"] == 0.05
    assert order["average"] == 19200
    long = position(usdm)
    assert long is not None
    assert long["side"] == "long"
    assert long["contracts"] == 0.05
    assert long["entryPrice"] == 19200
    assert long["notional"] == 960
    assert long["marginMode"] == "cross"
    balance = usdm.fetch_balance()["USDT"]
    assert balance["used"] == 48  # 960 notional at the default 20x
    assert balance["total"] == pytest.approx(10000 - 0.384)  # taker fee 0.04 %


def test_take_profits_and_stop_limit_manage_the_position(sim: BinanceSimulator, usdm: Any) -> None:
    open_long(usdm)
    # Binance-style parameters, and the unified ccxt spelling of the same kind of order.
    tp1 = usdm.create_order(
        BTC_PERP, "TAKE_PROFIT", "sell", 0.025, 19250, {"stopPrice": 19250, "reduceOnly": True}
    )
    tp2 = usdm.create_order(
        BTC_PERP, "limit", "sell", 0.025, 19500, {"takeProfitPrice": 19500, "reduceOnly": True}
    )
    stop = usdm.create_order(BTC_PERP, "STOP", "sell", 0.05, 19000, {"stopPrice": 19000, "reduceOnly": True})

    conditional = usdm.fetch_open_orders(BTC_PERP, params=TRIGGER)
    assert [(o["id"], o["info"]["orderType"], o["triggerPrice"]) for o in conditional] == [
        (tp1["id"], "TAKE_PROFIT", 19250),
        (tp2["id"], "TAKE_PROFIT", 19500),
        (stop["id"], "STOP", 19000),
    ]
    assert all(o["reduceOnly"] and o["status"] == "open" for o in conditional)
    assert usdm.fetch_open_orders(BTC_PERP) == []  # nothing on the regular book yet

    sim.set_price(BTC, 19260)

    assert position(usdm)["contracts"] == 0.025
    fired = usdm.fetch_order(tp1["id"], BTC_PERP, TRIGGER)
    assert fired["status"] == "closed"
    assert fired["info"]["algoStatus"] == "FINISHED"
    resulting = usdm.fetch_order(fired["info"]["actualOrderId"], BTC_PERP)
    assert (resulting["type"], resulting["side"], resulting["filled"]) == ("limit", "sell", 0.025)
    assert resulting["info"]["origType"] == "TAKE_PROFIT"
    assert [o["id"] for o in usdm.fetch_open_orders(BTC_PERP, params=TRIGGER)] == [tp2["id"], stop["id"]]

    sim.set_price(BTC, 19000)

    assert position(usdm) is None
    stopped = usdm.fetch_order(stop["id"], BTC_PERP, TRIGGER)
    assert stopped["info"]["algoStatus"] == "FINISHED"
    assert float(stopped["info"]["executedQty"]) == 0.025  # the reduce-only 0.05 clamped to what was left
    realized = [float(t["info"]["realizedPnl"]) for t in usdm.fetch_my_trades(BTC_PERP)]
    assert realized == [0, pytest.approx(1.5), pytest.approx(-5)]


def test_stop_market_take_profit_market_and_close_position(sim: BinanceSimulator, usdm: Any) -> None:
    open_long(usdm)
    stop = usdm.create_order(
        BTC_PERP, "market", "sell", 0.05, None, {"stopLossPrice": 18800, "reduceOnly": True}
    )
    take = usdm.create_order(
        BTC_PERP, "TAKE_PROFIT_MARKET", "sell", None, None, {"stopPrice": 19800, "closePosition": True}
    )

    assert stop["info"]["orderType"] == "STOP_MARKET"
    assert take["info"]["orderType"] == "TAKE_PROFIT_MARKET"
    assert take["info"]["closePosition"] is True

    sim.set_price(BTC, 19850)

    assert position(usdm) is None
    trades = usdm.fetch_my_trades(BTC_PERP)
    assert (trades[-1]["side"], trades[-1]["price"], trades[-1]["amount"]) == ("sell", 19850, 0.05)
    # The stop is still waiting; once triggered with nothing left to reduce it is rejected.
    sim.set_price(BTC, 18700)
    assert usdm.fetch_order(stop["id"], BTC_PERP, TRIGGER)["info"]["algoStatus"] == "REJECTED"


def test_trailing_stop_fires_after_the_retrace(sim: BinanceSimulator, usdm: Any) -> None:
    open_long(usdm)
    trailing = usdm.create_order(
        BTC_PERP,
        "market",
        "sell",
        0.05,
        None,
        {"trailingPercent": 1, "trailingTriggerPrice": 19300, "reduceOnly": True},
    )
    assert trailing["info"]["orderType"] == "TRAILING_STOP_MARKET"
    assert trailing["info"]["callbackRate"] == "1"
    assert trailing["info"]["activatePrice"] == "19300.00"

    for price in (19250, 19350, 19600, 19420):  # activates at 19350, peaks at 19600, retrace < 1 %
        sim.set_price(BTC, price)
        assert position(usdm) is not None
    sim.set_price(BTC, 19400)  # 19600 * 0.99 = 19404: the retrace reaches 1 %

    assert position(usdm) is None
    assert usdm.fetch_order(trailing["id"], BTC_PERP, TRIGGER)["status"] == "closed"
    assert usdm.fetch_my_trades(BTC_PERP)[-1]["price"] == 19400


def test_limit_orders_rest_until_the_price_crosses(sim: BinanceSimulator, usdm: Any) -> None:
    order = usdm.create_order(BTC_PERP, "limit", "buy", 0.01, 19000)
    assert order["status"] == "open"
    assert usdm.fetch_balance()["USDT"]["used"] == pytest.approx(9.5)  # open-order margin at 20x

    sim.set_price(BTC, 19100)
    assert usdm.fetch_order(order["id"], BTC_PERP)["status"] == "open"
    sim.set_price(BTC, 18950)

    filled = usdm.fetch_order(order["id"], BTC_PERP)
    assert (filled["status"], filled["average"]) == ("closed", 19000)  # at its limit price, as maker
    assert usdm.fetch_my_trades(BTC_PERP)[0]["takerOrMaker"] == "maker"
    assert [o["id"] for o in usdm.fetch_closed_orders(BTC_PERP)] == [order["id"]]
    assert position(usdm)["entryPrice"] == 19000


def test_cancel_all_leaves_no_regular_or_conditional_order(usdm: Any) -> None:
    open_long(usdm)
    usdm.create_order(BTC_PERP, "limit", "buy", 0.01, 18000)
    usdm.create_order(BTC_PERP, "limit", "sell", 0.01, 20000, {"reduceOnly": True})
    usdm.create_order(BTC_PERP, "market", "sell", 0.05, None, {"stopLossPrice": 18500, "reduceOnly": True})
    usdm.create_order(BTC_PERP, "limit", "sell", 0.05, 19900, {"takeProfitPrice": 19900, "reduceOnly": True})
    assert len(usdm.fetch_open_orders(BTC_PERP)) == 2
    assert len(usdm.fetch_open_orders(BTC_PERP, params=TRIGGER)) == 2

    usdm.cancel_all_orders(BTC_PERP)
    usdm.cancel_all_orders(BTC_PERP, TRIGGER)

    assert usdm.fetch_open_orders(BTC_PERP) == []
    assert usdm.fetch_open_orders(BTC_PERP, params=TRIGGER) == []
    assert {o["status"] for o in usdm.fetch_orders(BTC_PERP, params=TRIGGER)} == {"canceled"}


def test_cancel_single_orders(usdm: Any) -> None:
    open_long(usdm)
    limit = usdm.create_order(BTC_PERP, "limit", "buy", 0.01, 18000)
    stop = usdm.create_order(
        BTC_PERP, "market", "sell", 0.05, None, {"stopLossPrice": 18500, "reduceOnly": True}
    )

    assert usdm.cancel_order(limit["id"], BTC_PERP)["status"] == "canceled"
    usdm.cancel_order(stop["id"], BTC_PERP, TRIGGER)

    assert usdm.fetch_order(stop["id"], BTC_PERP, TRIGGER)["status"] == "canceled"
    with pytest.raises(OrderNotFound):
        usdm.cancel_order(limit["id"], BTC_PERP)
    with pytest.raises(OrderNotFound):
        usdm.fetch_order("999999", BTC_PERP)


def test_reduce_only_market_order_closes_the_position(usdm: Any) -> None:
    open_long(usdm)

    closing = usdm.create_order(BTC_PERP, "market", "sell", 0.05, None, {"reduceOnly": True})

    assert closing["status"] == "closed"
    assert closing["reduceOnly"] is True
    assert position(usdm) is None


def test_reduce_only_with_nothing_to_reduce_is_rejected(usdm: Any) -> None:
    with pytest.raises(InvalidOrder, match="-2022"):
        usdm.create_order(BTC_PERP, "market", "sell", 0.01, None, {"reduceOnly": True})
    open_long(usdm)
    with pytest.raises(InvalidOrder, match="ReduceOnly Order is rejected"):  # a buy would add to the long
        usdm.create_order(BTC_PERP, "market", "buy", 0.01, None, {"reduceOnly": True})


def test_conditional_reduce_only_is_accepted_before_a_position_and_checked_when_it_triggers(
    usdm: Any, sim: Any
) -> None:
    # A stop placed with a resting entry: accepted although there is nothing to reduce yet.
    stop = usdm.create_order(
        BTC_PERP, "market", "sell", 0.05, None, {"stopLossPrice": 19000, "reduceOnly": True}
    )
    assert stop["status"] == "open"
    sim.set_price("BTC/USDT", 18900)  # triggers with nothing to reduce: rejected, no short opened
    assert position(usdm) is None
    assert usdm.fetch_open_orders(BTC_PERP, None, None, {"trigger": True}) == []


def test_order_validation_errors(usdm: Any) -> None:
    with pytest.raises(InsufficientFunds, match="-2019"):
        usdm.create_order(BTC_PERP, "market", "buy", 20)  # 384000 notional needs 19200 at 20x
    with pytest.raises(InvalidOrder, match="-4164"):
        usdm.create_order(BTC_PERP, "market", "buy", 0.001)  # 19.2 notional, minimum 100
    with pytest.raises(OrderImmediatelyFillable, match="-2021"):
        usdm.create_order(BTC_PERP, "market", "buy", 0.01, None, {"stopLossPrice": 19100})
    with pytest.raises(InvalidOrder, match="-4120"):  # conditional types are algo-only since 2025-11
        usdm.fapiPrivatePostOrder(
            {
                "symbol": "BTCUSDT",
                "side": "SELL",
                "type": "STOP_MARKET",
                "quantity": "0.01",
                "stopPrice": "18000",
            }
        )


def test_set_leverage(usdm: Any) -> None:
    answer = usdm.set_leverage(10, BTC_PERP)

    assert answer["leverage"] == 10
    assert answer["maxNotionalValue"] == "230000000"
    open_long(usdm)
    assert usdm.fetch_balance()["USDT"]["used"] == 96
    assert usdm.fetch_positions([BTC_PERP], {"useV2": True})[0]["leverage"] == 10
    with pytest.raises(BadRequest, match="between 1 and 125"):
        usdm.set_leverage(200, BTC_PERP)  # ccxt refuses before sending
    with pytest.raises(BadRequest, match="-4028"):
        usdm.fapiPrivatePostLeverage({"symbol": "BTCUSDT", "leverage": 200})
    with pytest.raises(BadRequest, match="Leverage 100 is not valid"):
        usdm.set_leverage(100, "BNB/USDT:USDT")  # BNB allows 75x at most


def test_set_margin_mode_twice(make_client: ClientFactory, keys: dict[str, str], usdm: Any) -> None:
    assert usdm.set_margin_mode("isolated", BTC_PERP) == {"code": 200, "msg": "success"}
    # Binance answers -4046 "No need to change margin type."; ccxt recognises the message and raises
    # MarginModeAlreadySet (a NoChange), unless its throwMarginModeAlreadySet option (default True)
    # is off, in which case set_margin_mode() returns the error body as its result.
    with pytest.raises(MarginModeAlreadySet, match="-4046"):
        usdm.set_margin_mode("isolated", BTC_PERP)
    lenient = make_client("usdm", keys, options={"setMarginMode": {"throwMarginModeAlreadySet": False}})
    assert lenient.set_margin_mode("isolated", BTC_PERP) == {
        "code": -4046,
        "msg": "No need to change margin type.",
    }

    open_long(usdm)
    isolated = position(usdm)
    assert isolated["marginMode"] == "isolated"
    assert isolated["collateral"] == pytest.approx(48)
    # Isolated: (960 notional - 48 margin) / (0.05 * (1 - 0.4 % maintenance)).
    assert isolated["liquidationPrice"] == pytest.approx(18313.25, abs=0.01)
    with pytest.raises(ExchangeError, match="-4048"):
        usdm.set_margin_mode("cross", BTC_PERP)


def test_my_trades_carry_fees(sim: BinanceSimulator, usdm: Any) -> None:
    open_long(usdm)
    sim.set_price(BTC, 19300)
    usdm.create_order(BTC_PERP, "market", "sell", 0.05, None, {"reduceOnly": True})

    trades = usdm.fetch_my_trades(BTC_PERP)

    assert [(t["side"], t["price"], t["takerOrMaker"]) for t in trades] == [
        ("buy", 19200, "taker"),
        ("sell", 19300, "taker"),
    ]
    assert trades[0]["fee"] == {"currency": "USDT", "cost": pytest.approx(0.384)}
    assert trades[1]["fee"]["cost"] == pytest.approx(0.386)
    assert float(trades[1]["info"]["realizedPnl"]) == pytest.approx(5)
    assert usdm.fetch_balance()["USDT"]["total"] == pytest.approx(10000 + 5 - 0.384 - 0.386)


def test_fetch_orders_by_client_order_id(usdm: Any) -> None:
    usdm.create_order(BTC_PERP, "limit", "buy", 0.01, 18000, {"clientOrderId": "entry-42"})
    open_long(usdm)
    usdm.create_order(
        BTC_PERP,
        "market",
        "sell",
        0.05,
        None,
        {"stopLossPrice": 18500, "reduceOnly": True, "clientOrderId": "sl-42"},
    )

    regular = usdm.fetch_order(None, BTC_PERP, {"clientOrderId": "entry-42"})
    conditional = usdm.fetch_order(None, BTC_PERP, {"clientOrderId": "sl-42", "trigger": True})

    assert (regular["clientOrderId"], regular["price"], regular["status"]) == ("entry-42", 18000, "open")
    assert (conditional["clientOrderId"], conditional["triggerPrice"]) == ("sl-42", 18500)
    with pytest.raises(OrderNotFound):
        usdm.fetch_order(None, BTC_PERP, {"clientOrderId": "nope"})


# -- spot trading -------------------------------------------------------------------------------------


def test_spot_orders_move_balances(sim: BinanceSimulator, spot: Any) -> None:
    bought = spot.create_order(BTC, "market", "buy", 0.01)
    assert (bought["status"], bought["average"], bought["filled"]) == ("closed", 19200, 0.01)
    assert bought["fee"] == {"currency": "BTC", "cost": pytest.approx(0.00001)}  # paid in what was bought

    resting = spot.create_order(BTC, "limit", "sell", 0.005, 19500, {"clientOrderId": "spot-sell-1"})
    balance = spot.fetch_balance()
    assert balance["USDT"]["free"] == pytest.approx(10000 - 192)
    assert balance["BTC"] == {"free": pytest.approx(0.00499), "used": 0.005, "total": pytest.approx(0.00999)}
    assert spot.fetch_order(None, BTC, {"clientOrderId": "spot-sell-1"})["id"] == resting["id"]

    sim.set_price(BTC, 19600)

    assert spot.fetch_order(resting["id"], BTC)["status"] == "closed"
    trades = spot.fetch_my_trades(BTC)
    assert trades[-1]["fee"] == {"currency": "USDT", "cost": pytest.approx(0.0975)}
    assert spot.fetch_balance()["USDT"]["free"] == pytest.approx(10000 - 192 + 97.5 - 0.0975)
    with pytest.raises(InsufficientFunds):
        spot.create_order(BTC, "market", "buy", 1)
    with pytest.raises(OrderNotFound):  # Binance answers -2011 when there is nothing to cancel
        spot.cancel_all_orders(BTC)


def test_spot_stop_orders_wait_for_their_trigger(sim: BinanceSimulator, spot: Any) -> None:
    spot.create_order(BTC, "market", "buy", 0.01)
    stop = spot.create_order(BTC, "limit", "sell", 0.004, 18900, {"stopLossPrice": 19000})
    take = spot.create_order(BTC, "market", "sell", 0.004, None, {"takeProfitPrice": 19500})
    assert [o["info"]["type"] for o in spot.fetch_open_orders(BTC)] == ["STOP_LOSS_LIMIT", "TAKE_PROFIT"]
    assert spot.fetch_balance()["BTC"]["used"] == 0.008

    sim.set_price(BTC, 18950)  # the stop fires; its limit 18900 is marketable at 18950
    sim.set_price(BTC, 19600)  # the take-profit fires as a market order

    assert [spot.fetch_order(o["id"], BTC)["average"] for o in (stop, take)] == [18950, 19600]
    assert spot.fetch_open_orders(BTC) == []


def test_point_at_rewrites_every_api_url(running: RunningSimulator) -> None:
    client, untouched = binanceusdm(), binanceusdm()
    point_at(client, running.url + "/")

    assert client.urls["api"]["fapiPrivateV3"] == running.url + "/fapi/v3"
    assert client.urls["api"]["sapi"] == running.url + "/sapi/v1"
    assert all(url.startswith(running.url + "/") for url in client.urls["api"].values())
    assert untouched.urls["api"]["fapiPrivate"] == "https://fapi.binance.com/fapi/v1"
    # USD-M error classes as against fapi.binance.com, without touching other clients.
    assert "-2019" in client.exceptions["exact"]
    assert "-2019" not in untouched.exceptions["exact"]
    with pytest.raises(ValueError, match="base URL"):
        point_at(client, "127.0.0.1:8080")


# -- fault injection ----------------------------------------------------------------------------------


def test_injected_503_errors(sim: BinanceSimulator, usdm: Any) -> None:
    sim.set_faults(error_rate=1.0, status=503)
    # Binance's 5xx body {"code": -1001, ...} maps to OperationFailed, the parent of NetworkError.
    with pytest.raises(OperationFailed, match="-1001") as raised:
        usdm.fetch_balance()
    assert not isinstance(raised.value, ExchangeError)

    sim.set_faults(error_rate=1.0, status=503, body="<html>503 Service Temporarily Unavailable</html>")
    with pytest.raises(ExchangeNotAvailable):  # no JSON body: ccxt falls back to the HTTP status
        usdm.fetch_balance()

    sim.set_faults()
    assert usdm.fetch_balance()["USDT"]["total"] == 10000


def test_injected_timeout(sim: BinanceSimulator, make_client: ClientFactory, keys: dict[str, str]) -> None:
    client = make_client("usdm", keys, timeout_ms=300)
    sim.set_faults(timeout=True)

    with pytest.raises(RequestTimeout) as raised:
        client.fetch_balance()
    assert isinstance(raised.value, NetworkError)  # what the adapter treats as temporary and retries
    sim.set_faults()
    assert client.fetch_balance()["USDT"]["total"] == 10000


def test_order_accepted_but_answer_lost(
    sim: BinanceSimulator, make_client: ClientFactory, keys: dict[str, str]
) -> None:
    client = make_client("usdm", keys, timeout_ms=300)
    sim.set_faults(timeout=True, after_accept=True, match="POST /fapi/v1/order")

    with pytest.raises(RequestTimeout):
        client.create_order(BTC_PERP, "market", "buy", 0.05, None, {"clientOrderId": "lost-answer-1"})

    sim.set_faults()  # also releases the request still hanging on the server
    placed = client.fetch_order(None, BTC_PERP, {"clientOrderId": "lost-answer-1"})
    assert (placed["status"], placed["filled"]) == ("closed", 0.05)
    assert position(client)["contracts"] == 0.05

    # Same with an error answer instead of silence: Binance's "5xx, execution status unknown".
    sim.set_faults(error_rate=1.0, status=503, after_accept=True, match="POST /fapi/v1/order", count=1)
    with pytest.raises(OperationFailed):
        client.create_order(BTC_PERP, "market", "sell", 0.05, None, {"reduceOnly": True})
    assert position(client) is None


def test_faults_hit_only_matching_requests(sim: BinanceSimulator, usdm: Any) -> None:
    open_long(usdm)
    sim.set_faults(error_rate=1.0, status=502, match="STOP", count=1)

    usdm.create_order(BTC_PERP, "market", "sell", 0.01, None, {"reduceOnly": True})  # type MARKET: untouched
    with pytest.raises(OperationFailed):
        usdm.create_order(
            BTC_PERP, "market", "sell", 0.02, None, {"stopLossPrice": 18000, "reduceOnly": True}
        )
    usdm.create_order(BTC_PERP, "market", "sell", 0.02, None, {"stopLossPrice": 18000, "reduceOnly": True})

    sim.set_faults(errorRate=1.0, status=429, match="openAlgoOrders")  # camelCase keys, as sent as JSON
    assert usdm.fetch_balance()["USDT"]["used"] > 0
    with pytest.raises(NetworkError):  # 429 -> ccxt DDoSProtection
        usdm.fetch_open_orders(BTC_PERP, params=TRIGGER)
    sim.set_faults()
    assert len(usdm.fetch_open_orders(BTC_PERP, params=TRIGGER)) == 1


def test_latency_is_added(sim: BinanceSimulator, usdm: Any) -> None:
    sim.set_faults(latency_ms=150, match="/fapi/v1/ticker")
    started = time.monotonic()
    usdm.fetch_ticker(BTC_PERP)
    assert time.monotonic() - started >= 0.15
    started = time.monotonic()
    usdm.fetch_balance()
    assert time.monotonic() - started < 0.15
