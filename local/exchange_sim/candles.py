"""Recorded price history and the klines (candles) built from it.

Every price a pair takes is recorded with the simulator clock's time, so a candle's open, high, low
and close include every price of its period: a trade monitor that reads one candle range sees that
the market crossed a level even if it came back. A period without ticks carries the previous close
(a flat candle). Memory is bounded: ticks older than ``RETENTION_MS`` (a day) are dropped, as are
the oldest beyond ``MAX_TICKS`` per pair; the last dropped price is kept as the price before the
history, so older candles stay flat at it rather than disappearing.

Klines follow Binance's query rules: with ``startTime`` the first candle is the first one that opens
at or after it, with ``endTime`` the last one opens at or before it, without either the newest
``limit`` candles up to the current (still open) one. Candles never start before the simulator did
(Binance returns nothing before a symbol's listing) nor after the current one.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

RETENTION_MS = 86_400_000
MAX_TICKS = 200_000

INTERVAL_MS: Mapping[str, int] = {
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "6h": 21_600_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": 86_400_000,
}


@dataclass(frozen=True)
class Candle:
    open_time: int
    close_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    ticks: int


class PairHistory:
    """Ticks of one pair in time order. Not locked itself: the engine's lock guards it."""

    def __init__(self, price: Decimal, now_ms: int) -> None:
        self.start_ms = now_ms
        self._before = price  # the price in force before the first retained tick
        self._times: list[int] = [now_ms]
        self._prices: list[Decimal] = [price]

    def record(self, price: Decimal, now_ms: int) -> None:
        # The simulator clock may be shifted backwards by a test; keep the history monotonic.
        now_ms = max(now_ms, self._times[-1]) if self._times else now_ms
        self._times.append(now_ms)
        self._prices.append(price)
        self._prune(now_ms)

    def _prune(self, now_ms: int) -> None:
        cut = bisect_left(self._times, now_ms - RETENTION_MS)
        cut = max(cut, len(self._times) - MAX_TICKS)
        if cut > 0 and (cut >= 1024 or cut * 4 >= len(self._times)):
            # Drop in batches so recording stays O(1) amortised.
            self._before = self._prices[cut - 1]
            del self._times[:cut]
            del self._prices[:cut]

    def price_at(self, time_ms: int) -> Decimal:
        """The price in force at ``time_ms`` (the last tick at or before it)."""
        index = bisect_right(self._times, time_ms)
        return self._prices[index - 1] if index else self._before

    def candle(self, open_time: int, interval_ms: int) -> Candle:
        close_time = open_time + interval_ms - 1
        first = bisect_left(self._times, open_time)
        last = bisect_right(self._times, close_time)
        inside = self._prices[first:last]
        # A period opens at the price in force when it starts; the very first one at the first tick.
        if first:
            opening = self._prices[first - 1]
        elif inside and open_time <= self.start_ms:
            opening = inside[0]
        else:
            opening = self._before
        prices = [opening, *inside]
        return Candle(
            open_time=open_time,
            close_time=close_time,
            open=opening,
            high=max(prices),
            low=min(prices),
            close=prices[-1],
            ticks=len(inside),
        )

    def candles(
        self,
        interval_ms: int,
        now_ms: int,
        start_ms: int | None,
        end_ms: int | None,
        limit: int,
    ) -> list[Candle]:
        first_open = self.start_ms - self.start_ms % interval_ms
        current_open = now_ms - now_ms % interval_ms
        lowest = first_open
        if start_ms is not None:
            aligned = -(-start_ms // interval_ms) * interval_ms  # first candle opening at or after
            lowest = max(lowest, aligned)
        highest = current_open
        if end_ms is not None:
            highest = min(highest, end_ms - end_ms % interval_ms)
        if highest < lowest:
            return []
        count = (highest - lowest) // interval_ms + 1
        if count > limit:
            if start_ms is not None:
                highest = lowest + (limit - 1) * interval_ms
            else:
                lowest = highest - (limit - 1) * interval_ms
        return [self.candle(t, interval_ms) for t in range(lowest, highest + 1, interval_ms)]
