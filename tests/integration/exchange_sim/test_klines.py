"""Candles from the simulator's recorded prices, read through ccxt's ``fetch_ohlcv``.

The simulator clock is moved with ``set_clock_offset`` so that each price lands in a known minute.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
from ccxt.base.errors import BadRequest

from local.exchange_sim import BinanceSimulator
from local.exchange_sim.candles import MAX_TICKS, RETENTION_MS, PairHistory
from tests.support import BTC, BTC_PERP

MINUTE = 60_000


def _at(sim: BinanceSimulator, time_ms: int) -> None:
    """Put the simulator clock at ``time_ms`` (it keeps running from there)."""
    sim.set_clock_offset(time_ms - int(time.time() * 1000))


@pytest.fixture
def t0(sim: BinanceSimulator) -> int:
    """A minute boundary a few minutes after the simulator started, with a move recorded in it."""
    start = (int(time.time() * 1000) // MINUTE + 3) * MINUTE
    _at(sim, start + 5_000)
    for price in (19500, 18800, 19300):  # up through 19500, down through 18800, back to 19300
        sim.set_price(BTC, price)
    _at(sim, start + MINUTE + 5_000)
    sim.set_price(BTC, 19350)
    _at(sim, start + 3 * MINUTE + 5_000)  # two more minutes without ticks, the last one still open
    return start


def test_one_minute_candles_hold_every_price_of_their_period(usdm: Any, t0: int) -> None:
    candles = usdm.fetch_ohlcv(BTC_PERP, "1m", t0 - MINUTE, 5)

    assert candles == [
        [t0 - MINUTE, 19200, 19200, 19200, 19200, 0],  # before the move: flat at the initial price
        [t0, 19200, 19500, 18800, 19300, 0],
        [t0 + MINUTE, 19300, 19350, 19300, 19350, 0],
        [t0 + 2 * MINUTE, 19350, 19350, 19350, 19350, 0],  # no ticks: the previous close carried
        [t0 + 3 * MINUTE, 19350, 19350, 19350, 19350, 0],  # the current, still open candle
    ]
    raw = usdm.fapiPublicGetKlines({"symbol": "BTCUSDT", "interval": "1m", "startTime": t0, "limit": 1})
    assert raw == [
        [
            t0,
            "19200.00",
            "19500.00",
            "18800.00",
            "19300.00",
            "0.000",
            t0 + MINUTE - 1,
            "0.00000000",
            0,
            "0.000",
            "0.00000000",
            "0",
        ]
    ]


def test_query_rules_of_binance(usdm: Any, spot: Any, t0: int) -> None:
    # Without startTime: the newest `limit` candles, ending with the current one.
    latest = usdm.fetch_ohlcv(BTC_PERP, "1m", None, 2)
    assert [c[0] for c in latest] == [t0 + 2 * MINUTE, t0 + 3 * MINUTE]
    # startTime inside a minute starts at the next candle; endTime bounds the last candle's open.
    middle = usdm.fetch_ohlcv(BTC_PERP, "1m", t0 + 1, None, {"until": t0 + 2 * MINUTE})
    assert [c[0] for c in middle] == [t0 + MINUTE, t0 + 2 * MINUTE]
    # Longer intervals aggregate the same ticks; spot reads the same shared price.
    five = usdm.fetch_ohlcv(BTC_PERP, "5m", t0 - t0 % (5 * MINUTE), 1)[0]
    same_five = t0 % (5 * MINUTE) <= 3 * MINUTE  # the 19350 minute falls in the same 5m candle
    assert five[1:5] == [19200, 19500, 18800, 19350 if same_five else 19300]
    spot_minute = spot.fetch_ohlcv(BTC, "1m", t0, 1)
    assert spot_minute == [[t0, 19200, 19500, 18800, 19300, 0]]
    hourly = usdm.fetch_ohlcv(BTC_PERP, "1h", t0 - t0 % (60 * MINUTE), 1)[0]
    assert (hourly[2], hourly[3]) == (19500, 18800)
    daily = usdm.fetch_ohlcv(BTC_PERP, "1d", t0 - t0 % (1440 * MINUTE), 1)[0]
    assert (daily[2], daily[3]) == (19500, 18800)


def test_bad_klines_queries(usdm: Any, t0: int) -> None:
    with pytest.raises(BadRequest, match=r'"code":-1120,"msg":"Invalid interval."'):
        usdm.fapiPublicGetKlines({"symbol": "BTCUSDT", "interval": "7m"})
    with pytest.raises(BadRequest, match=r'"code":-1023,"msg":"Start time is greater than end time."'):
        usdm.fapiPublicGetKlines({"symbol": "BTCUSDT", "interval": "1m", "startTime": t0, "endTime": t0 - 1})
    # Nothing before the market existed (the simulator's start), as for a symbol before its listing.
    assert usdm.fetch_ohlcv(BTC_PERP, "1m", None, None, {"until": t0 - 10 * MINUTE}) == []


def test_history_memory_is_bounded() -> None:
    history = PairHistory(Decimal(100), 0)
    for i in range(MAX_TICKS + 5_000):
        history.record(Decimal(101 + i % 7), 1_000 + i)
    assert len(history._times) <= MAX_TICKS + 1_024

    later = PairHistory(Decimal(100), 0)
    later.record(Decimal(150), 30 * MINUTE)
    later.record(Decimal(120), RETENTION_MS + 60 * MINUTE)  # the first two ticks are now over a day old
    for _ in range(2_000):
        later.record(Decimal(120), RETENTION_MS + 61 * MINUTE)
    assert later.price_at(40 * MINUTE) == Decimal(150)  # the last dropped price is kept
    assert later.candle(RETENTION_MS + 60 * MINUTE, MINUTE).open == Decimal(150)
