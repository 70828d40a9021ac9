"""What Binance USD-M refuses (order counts, price bands, triggers) and request weight per caller IP.

Seen through the real ccxt, as in ``test_binance_simulator.py``: the codes and messages are Binance's
own, so ccxt raises the class it would raise against fapi.binance.com.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from ccxt.base.errors import (
    BadRequest,
    DDoSProtection,
    InvalidOrder,
    OperationRejected,
    OrderImmediatelyFillable,
)

from local.exchange_sim import BinanceSimulator, RunningSimulator, start_simulator
from tests.support import BTC, BTC_PERP, TRIGGER, ClientFactory

ETH_PERP = "ETH/USDT:USDT"


def stop_market(client: Any, trigger: float, symbol: str = BTC_PERP, amount: float = 0.05) -> dict[str, Any]:
    return client.create_order(
        symbol, "market", "sell", amount, None, {"stopLossPrice": trigger, "reduceOnly": True}
    )


# -- order counts ---------------------------------------------------------------------------------------


def test_conditional_orders_per_symbol_stop_at_max_num_algo_orders(usdm: Any) -> None:
    filters = {f["filterType"]: f for f in usdm.market(BTC_PERP)["info"]["filters"]}
    assert filters["MAX_NUM_ALGO_ORDERS"]["limit"] == 10
    usdm.create_order(BTC_PERP, "market", "buy", 0.05)
    placed = [stop_market(usdm, 18000 + 10 * i) for i in range(10)]

    with pytest.raises(OperationRejected, match=r'"code":-4045,"msg":"Reach max stop order limit."'):
        stop_market(usdm, 17000)
    assert len(usdm.fetch_open_orders(BTC_PERP, params=TRIGGER)) == 10
    # Per symbol: another market still takes conditional orders; a cancelled one frees a slot.
    usdm.create_order(ETH_PERP, "market", "buy", 0.1)
    stop_market(usdm, 1200, ETH_PERP, 0.1)
    usdm.cancel_order(placed[0]["id"], BTC_PERP, TRIGGER)
    assert stop_market(usdm, 17000)["status"] == "open"


def test_open_orders_per_symbol_stop_at_max_num_orders(usdm: Any) -> None:
    filters = {f["filterType"]: f for f in usdm.market(BTC_PERP)["info"]["filters"]}
    assert filters["MAX_NUM_ORDERS"]["limit"] == 200
    for i in range(200):
        usdm.create_order(BTC_PERP, "limit", "buy", 0.01, 18500 - i)

    with pytest.raises(OperationRejected, match=r'"code":-2025,"msg":"Reach max open order limit."'):
        usdm.create_order(BTC_PERP, "limit", "buy", 0.01, 18000)
    with pytest.raises(OperationRejected, match="-2025"):
        usdm.create_order(BTC_PERP, "market", "buy", 0.01)
    assert len(usdm.fetch_open_orders(BTC_PERP)) == 200
    assert usdm.create_order(ETH_PERP, "limit", "buy", 0.1, 1250)["status"] == "open"


def test_spot_order_counts_per_symbol(spot: Any) -> None:
    filters = {f["filterType"]: f for f in spot.market(BTC)["info"]["filters"]}
    assert (
        filters["MAX_NUM_ORDERS"]["maxNumOrders"],
        filters["MAX_NUM_ALGO_ORDERS"]["maxNumAlgoOrders"],
    ) == (200, 5)
    spot.create_order(BTC, "market", "buy", 0.01)
    for i in range(5):
        spot.create_order(BTC, "limit", "sell", 0.001, 18000 - i, {"stopLossPrice": 18100 - i})

    with pytest.raises(InvalidOrder, match=r'"code":-2010,"msg":"Filter failure: MAX_NUM_ALGO_ORDERS"'):
        spot.create_order(BTC, "limit", "sell", 0.001, 17000, {"stopLossPrice": 17100})
    for i in range(195):  # 5 waiting stops and 195 resting limits: 200 open orders
        spot.create_order(BTC, "limit", "buy", 0.0003, 18000 - i)
    with pytest.raises(InvalidOrder, match=r'"code":-2010,"msg":"Filter failure: MAX_NUM_ORDERS"'):
        spot.create_order(BTC, "limit", "buy", 0.0003, 17000)
    assert spot.create_order("ETH/USDT", "limit", "buy", 0.01, 1200)["status"] == "open"


# -- PERCENT_PRICE and triggers ---------------------------------------------------------------------------


def test_exchange_info_lists_percent_price(usdm: Any) -> None:
    for symbol in (BTC_PERP, ETH_PERP, "BNB/USDT:USDT"):
        filters = {f["filterType"]: f for f in usdm.market(symbol)["info"]["filters"]}
        assert filters["PERCENT_PRICE"] == {
            "filterType": "PERCENT_PRICE",
            "multiplierUp": "1.0500",
            "multiplierDown": "0.9500",
            "multiplierDecimal": "4",
        }


def test_limit_prices_are_banded_around_the_mark_price(sim: BinanceSimulator, usdm: Any) -> None:
    # 19200 * 1.05 = 20160 and 19200 * 0.95 = 18240.
    with pytest.raises(BadRequest, match=r'"code":-4016,"msg":"Limit price can\'t be higher than 20160."'):
        usdm.create_order(BTC_PERP, "limit", "buy", 0.01, 20160.1)
    with pytest.raises(BadRequest, match=r'"code":-4024,"msg":"Limit price can\'t be lower than 18240."'):
        usdm.create_order(BTC_PERP, "limit", "sell", 0.01, 18239.9)
    assert usdm.create_order(BTC_PERP, "limit", "buy", 0.01, 20160)["status"] == "closed"  # marketable
    # One-sided, as Binance has it: a buy far below or a sell far above the market may rest.
    assert usdm.create_order(BTC_PERP, "limit", "buy", 0.01, 15000)["status"] == "open"
    assert usdm.create_order(BTC_PERP, "limit", "sell", 0.01, 25000, {"reduceOnly": True})["status"] == "open"
    with pytest.raises(BadRequest, match="-4024"):  # reduce-only limits too
        usdm.create_order(BTC_PERP, "limit", "sell", 0.01, 18000, {"reduceOnly": True})

    sim.set_price(BTC, 20000)  # the band follows the mark price: now up to 21000

    assert usdm.create_order(BTC_PERP, "limit", "buy", 0.01, 20160.1)["status"] == "closed"
    with pytest.raises(BadRequest, match=r"higher than 21000\."):
        usdm.create_order(BTC_PERP, "limit", "buy", 0.01, 21000.1)


def test_conditional_limit_prices_are_banded_around_the_trigger(usdm: Any) -> None:
    usdm.create_order(BTC_PERP, "market", "buy", 0.05)
    # A sell stop triggering at 19000 may not limit below 19000 * 0.95 = 18050 (-4184).
    with pytest.raises(BadRequest, match=r'"code":-4184,"msg":"Limit price can\'t be lower than 18050."'):
        usdm.create_order(BTC_PERP, "STOP", "sell", 0.05, 18049.9, {"stopPrice": 19000, "reduceOnly": True})
    # A buy take-profit triggering at 18000 may not limit above 18000 * 1.05 = 18900 (-4183).
    with pytest.raises(BadRequest, match=r'"code":-4183,"msg":"Limit price can\'t be higher than 18900."'):
        usdm.create_order(BTC_PERP, "TAKE_PROFIT", "buy", 0.05, 18900.1, {"stopPrice": 18000})
    stop = usdm.create_order(BTC_PERP, "STOP", "sell", 0.05, 18050, {"stopPrice": 19000, "reduceOnly": True})
    assert stop["status"] == "open"


def test_triggers_that_would_fire_at_once_are_refused(usdm: Any) -> None:
    usdm.create_order(BTC_PERP, "market", "buy", 0.05)
    with pytest.raises(
        OrderImmediatelyFillable, match=r'"code":-2021,"msg":"Order would immediately trigger."'
    ):
        stop_market(usdm, 19300)  # a sell stop above the price
    with pytest.raises(OrderImmediatelyFillable, match="-2021"):  # a sell take-profit below the price
        usdm.create_order(
            BTC_PERP, "TAKE_PROFIT_MARKET", "sell", None, None, {"stopPrice": 19100, "closePosition": True}
        )


def test_conditional_ids_never_collide_with_order_ids(usdm: Any) -> None:
    entry = usdm.create_order(BTC_PERP, "market", "buy", 0.05)
    stop = stop_market(usdm, 19000)
    take = usdm.create_order(
        BTC_PERP, "limit", "sell", 0.05, 19500, {"takeProfitPrice": 19500, "reduceOnly": True}
    )

    assert int(entry["id"]) < 1_000_000_000
    assert [int(stop["id"]), int(take["id"])] == [1_000_000_001, 1_000_000_002]
    listed = usdm.fetch_open_orders(BTC_PERP) + usdm.fetch_open_orders(BTC_PERP, params=TRIGGER)
    assert len({o["id"] for o in listed} | {entry["id"]}) == 3


# -- request weight -------------------------------------------------------------------------------------


def _get(url: str, ip: str) -> tuple[int, dict[str, str], Any]:
    assert url.startswith("http://")
    request = urllib.request.Request(url, headers={"X-Forwarded-For": f"{ip}, 10.9.9.9"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
            return answer.status, dict(answer.headers), json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_every_answer_carries_the_used_weight(
    running: RunningSimulator, sim: BinanceSimulator, make_client: ClientFactory, keys: dict[str, str]
) -> None:
    usdm = make_client("usdm", keys, options={}, load_markets=False)
    usdm.headers = {"X-Forwarded-For": "10.0.0.1"}
    usdm.load_markets()  # exchangeInfo: 1
    used = sim.used_weight("10.0.0.1")
    assert int(usdm.last_response_headers["X-MBX-USED-WEIGHT-1M"]) == used

    usdm.fetch_ticker(BTC_PERP)  # ticker/24hr with a symbol: 1
    assert int(usdm.last_response_headers["X-MBX-USED-WEIGHT-1M"]) == used + 1
    usdm.fetch_tickers()  # without: 40
    assert int(usdm.last_response_headers["X-MBX-USED-WEIGHT-1M"]) == used + 41
    usdm.fapiPrivateV2GetPositionRisk()  # positionRisk: 5
    assert int(usdm.last_response_headers["X-MBX-USED-WEIGHT-1M"]) == used + 46
    usdm.create_order(BTC_PERP, "market", "buy", 0.05)  # new orders: 0 on the IP limit
    assert int(usdm.last_response_headers["X-MBX-USED-WEIGHT-1M"]) == used + 46
    assert running.used_weight("10.0.0.1") == used + 46
    assert sim.used_weight("127.0.0.1") == 0  # a client without X-Forwarded-For counts on its peer

    status, headers, _ = _get(f"{running.url}/api/v3/ticker/24hr?symbol=BTCUSDT", "10.0.0.1")
    assert status == 200
    assert headers["X-MBX-USED-WEIGHT"] == headers["X-MBX-USED-WEIGHT-1M"] == "2"  # spot counts apart
    assert sim.used_weights()["10.0.0.1"]["spot"] == 2


def test_over_the_weight_limit_binance_answers_429(running: RunningSimulator, sim: BinanceSimulator) -> None:
    sim.set_faults(weightLimitFutures=100)
    for _ in range(2):
        assert _get(f"{running.url}/fapi/v1/ticker/24hr", "10.0.0.2")[0] == 200  # 40 each

    status, headers, body = _get(f"{running.url}/fapi/v1/ticker/24hr", "10.0.0.2")

    assert status == 429
    assert body == {
        "code": -1003,
        "msg": "Too many requests; current limit of IP(10.0.0.2) is 100 requests per minute. "
        "Please use the websocket for live updates to avoid polling the API.",
    }
    assert headers["X-MBX-USED-WEIGHT-1M"] == "120"
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert _get(f"{running.url}/fapi/v1/ticker/24hr", "10.0.0.3")[0] == 200  # another egress IP
    sim.set_faults()  # {} restores Binance's 2400
    assert _get(f"{running.url}/fapi/v1/ticker/24hr", "10.0.0.2")[0] == 200


def test_spot_weight_limit_and_its_message(running: RunningSimulator, sim: BinanceSimulator) -> None:
    sim.set_faults(weight_limit_spot=30)
    assert _get(f"{running.url}/api/v3/exchangeInfo", "10.0.0.4")[0] == 200  # 20

    status, headers, body = _get(f"{running.url}/api/v3/exchangeInfo", "10.0.0.4")

    assert (status, headers["X-MBX-USED-WEIGHT"]) == (429, "40")
    assert body == {
        "code": -1003,
        "msg": "Too much request weight used; current limit is 30 request weight per 1 MINUTE. "
        "Please use WebSocket Streams for live updates to avoid polling the API.",
    }
    assert _get(f"{running.url}/fapi/v1/time", "10.0.0.4")[0] == 200  # futures has its own limit


def test_ccxt_raises_ddos_protection_when_throttled(
    sim: BinanceSimulator, make_client: ClientFactory, keys: dict[str, str]
) -> None:
    usdm = make_client("usdm", keys)
    sim.set_faults(weightLimitFutures=20)
    sim.reset_weights()  # forget what loading the markets used
    for _ in range(4):
        usdm.fetch_balance()  # account: 5 each, 20 in all
    with pytest.raises(
        DDoSProtection, match=r"current limit of IP\(127\.0\.0\.1\) is 20 requests per minute"
    ):
        usdm.fetch_balance()
    assert usdm.last_response_headers["Retry-After"]


def test_a_bad_fault_set_changes_nothing(running: RunningSimulator, sim: BinanceSimulator) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        sim.set_faults(weightLimitFutures=0)
    with pytest.raises(TypeError):
        sim.set_faults(weightLimitFutures=10, latencyMillis=5)  # a typo in the fault keys
    for _ in range(3):  # 120: still under Binance's 2400, the limit never became 10
        assert _get(f"{running.url}/fapi/v1/ticker/24hr", "10.0.0.6")[0] == 200
    with pytest.raises(ValueError, match="unknown api"):
        sim.used_weight("10.0.0.6", "options")


@pytest.fixture
def clocked() -> Iterator[tuple[RunningSimulator, list[float]]]:
    now = [1000.0]
    server = start_simulator(simulator=BinanceSimulator(weight_clock=lambda: now[0]))
    yield server, now
    server.stop()


def test_the_window_rolls_over_one_minute(clocked: tuple[RunningSimulator, list[float]]) -> None:
    running, now = clocked
    running.simulator.set_faults(weightLimitFutures=80)
    _get(f"{running.url}/fapi/v1/ticker/24hr", "10.0.0.5")
    now[0] += 30
    _get(f"{running.url}/fapi/v1/ticker/24hr", "10.0.0.5")
    status, headers, _ = _get(f"{running.url}/fapi/v1/ticker/24hr", "10.0.0.5")
    assert (status, headers["Retry-After"]) == (429, "30")  # the first 40 leave the window in 30 s

    now[0] += 30.5  # the first request is now more than a minute old
    assert running.used_weight("10.0.0.5") == 80
    now[0] += 30
    assert running.used_weight("10.0.0.5") == 0
    assert _get(f"{running.url}/fapi/v1/ticker/24hr", "10.0.0.5")[0] == 200


# -- what the simulator received, and what the account read lists -----------------------------------


def test_the_request_log_counts_every_request_received_even_the_refused(
    running: RunningSimulator, sim: BinanceSimulator
) -> None:
    sim.clear_received()
    sim.set_faults(error_rate=1.0, status=503, match="premiumIndex")
    assert _get(f"{running.url}/fapi/v1/premiumIndex?symbol=BTCUSDT", "10.0.0.4")[0] == 503
    sim.set_faults()
    assert _get(f"{running.url}/fapi/v1/time", "10.0.0.4")[0] == 200
    assert [(r.method, r.path, r.status) for r in sim.received()] == [
        ("GET", "/fapi/v1/premiumIndex", 503),
        ("GET", "/fapi/v1/time", 200),
    ]
    # the same log over HTTP, for a test in another process (the local stack's simulator)
    status, _, body = _get(f"{running.url}/_sim/requests", "10.0.0.4")
    assert (status, [r["path"] for r in body["requests"]]) == (
        200,
        ["/fapi/v1/premiumIndex", "/fapi/v1/time"],
    )
    deleted = urllib.request.Request(f"{running.url}/_sim/requests", method="DELETE")  # noqa: S310
    with urllib.request.urlopen(deleted, timeout=5) as answer:  # noqa: S310
        assert json.loads(answer.read()) == {"requests": []}
    assert sim.received() == []


def test_injected_throttling_carries_retry_after_as_binance_sends_it(
    running: RunningSimulator, sim: BinanceSimulator
) -> None:
    sim.set_faults(error_rate=1.0, status=429)
    assert _get(f"{running.url}/fapi/v1/time", "10.0.0.5")[1]["Retry-After"] == "1"
    sim.set_faults(error_rate=1.0, status=418)
    assert _get(f"{running.url}/fapi/v1/time", "10.0.0.5")[1]["Retry-After"] == "120"  # an IP ban
    sim.set_faults(errorRate=1.0, status=429, retryAfter=0)
    assert _get(f"{running.url}/fapi/v1/time", "10.0.0.5")[1]["Retry-After"] == "0"
    sim.set_faults(error_rate=1.0, status=503)
    assert "Retry-After" not in _get(f"{running.url}/fapi/v1/time", "10.0.0.5")[1]
    sim.set_faults()


def test_the_account_read_lists_symbols_with_a_position_or_open_orders_not_algo_orders_alone(
    usdm: Any,
) -> None:
    def listed() -> list[str]:
        return sorted(p["symbol"] for p in usdm.fapiPrivateV3GetAccount()["positions"])

    assert listed() == []
    stop_market(usdm, 18000)  # a conditional order alone: Binance keeps it in the algo service
    assert listed() == []
    usdm.create_order(ETH_PERP, "limit", "buy", 0.1, 1000)  # a resting order, no position
    assert listed() == ["ETHUSDT"]
    usdm.create_order(BTC_PERP, "market", "buy", 0.05)
    assert listed() == ["BTCUSDT", "ETHUSDT"]
