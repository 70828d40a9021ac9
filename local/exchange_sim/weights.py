"""Request weight per caller IP, as Binance counts it: the endpoint table and the rolling counter.

Every request adds its endpoint's weight to a one-minute rolling counter of the caller's IP, one
counter per API family (futures ``/fapi``, spot ``/api``, ``/sapi`` and COIN-M ``/dapi`` are limited
separately on Binance). Each answer carries the family's used-weight headers; a request that takes a
counter over its limit is answered 429 with Binance's -1003 body and ``Retry-After`` instead of being
processed (it still counts, as on Binance: a client that keeps polling stays throttled).

Only the simulator's routes are listed (anything else weighs 1). Weights are those of Binance's REST documentation (USD-M futures "Weight" lines; spot
``/api/v3`` weights after the 2023 rescale to a 6000 limit). ``ENDPOINT_WEIGHTS`` is the one table;
an entry is an int, a ``(with symbol, without symbol)`` pair, or a function of the parameters.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

ApiFamily = Literal["futures", "spot", "sapi", "inverse"]
Weight = int | tuple[int, int] | Callable[[Mapping[str, str]], int]

DEFAULT_LIMITS: Mapping[ApiFamily, int] = {"futures": 2400, "spot": 6000, "sapi": 12000, "inverse": 2400}
WINDOW_SECONDS = 60.0


def _by_limit(steps: tuple[tuple[int, int], ...], default_limit: int) -> Callable[[Mapping[str, str]], int]:
    """Weight by the ``limit`` parameter: the first (upper bound, weight) whose bound is not below it."""

    def weight(params: Mapping[str, str]) -> int:
        try:
            limit = int(params.get("limit") or default_limit)
        except ValueError:
            limit = default_limit
        for bound, value in steps:
            if limit <= bound:
                return value
        return steps[-1][1]

    return weight


# USD-M klines: [1,100) 1, [100,500) 2, [500,1000] 5, > 1000 10. Spot klines: 2 whatever the limit.
_FUTURES_KLINES = _by_limit(((99, 1), (499, 2), (1000, 5), (1500, 10)), 500)


def _spot_ticker_24hr(params: Mapping[str, str]) -> int:
    """Spot ticker/24hr: 2 with ``symbol``; with ``symbols`` 2 for 1-20, 40 for 21-100, 80 above; 80 for all."""
    if params.get("symbol"):
        return 2
    raw = params.get("symbols")
    if not raw:
        return 80
    count = raw.count(",") + 1
    return 2 if count <= 20 else 40 if count <= 100 else 80


ENDPOINT_WEIGHTS: Mapping[tuple[str, str], Weight] = {
    # -- USD-M futures -----------------------------------------------------------------------------
    ("GET", "/fapi/v1/time"): 1,
    ("GET", "/fapi/v1/exchangeInfo"): 1,
    ("GET", "/fapi/v1/klines"): _FUTURES_KLINES,
    ("GET", "/fapi/v1/ticker/24hr"): (1, 40),
    ("GET", "/fapi/v1/premiumIndex"): (1, 10),
    ("GET", "/fapi/v3/account"): 5,
    ("GET", "/fapi/v2/positionRisk"): 5,
    ("GET", "/fapi/v1/leverageBracket"): 1,
    ("POST", "/fapi/v1/leverage"): 1,
    ("POST", "/fapi/v1/marginType"): 1,
    # New orders weigh 0 on the IP limit (they count on the per-account order limits instead).
    ("POST", "/fapi/v1/order"): 0,
    ("POST", "/fapi/v1/algoOrder"): 0,
    ("GET", "/fapi/v1/order"): 1,
    ("DELETE", "/fapi/v1/order"): 1,
    ("DELETE", "/fapi/v1/allOpenOrders"): 1,
    ("GET", "/fapi/v1/openOrders"): (1, 40),
    ("GET", "/fapi/v1/allOrders"): 5,
    ("GET", "/fapi/v1/userTrades"): 5,
    ("GET", "/fapi/v1/algoOrder"): 1,
    ("DELETE", "/fapi/v1/algoOrder"): 1,
    ("DELETE", "/fapi/v1/algoOpenOrders"): 1,
    ("GET", "/fapi/v1/openAlgoOrders"): (1, 40),
    ("GET", "/fapi/v1/allAlgoOrders"): 5,
    # -- spot ----------------------------------------------------------------------------------------
    ("GET", "/api/v3/time"): 1,
    ("GET", "/api/v3/exchangeInfo"): 20,
    ("GET", "/api/v3/klines"): 2,
    ("GET", "/api/v3/ticker/24hr"): _spot_ticker_24hr,
    ("GET", "/api/v3/account"): 20,
    ("POST", "/api/v3/order"): 1,
    ("GET", "/api/v3/order"): 4,
    ("DELETE", "/api/v3/order"): 1,
    ("DELETE", "/api/v3/openOrders"): 1,
    ("GET", "/api/v3/openOrders"): (6, 80),
    ("GET", "/api/v3/allOrders"): 20,
    ("GET", "/api/v3/myTrades"): 20,
    # -- sapi, COIN-M --------------------------------------------------------------------------------
    ("GET", "/sapi/v1/account/apiRestrictions"): 1,
    ("GET", "/sapi/v1/margin/allPairs"): 1,
    ("GET", "/sapi/v1/margin/isolated/allPairs"): 10,
    ("GET", "/dapi/v1/exchangeInfo"): 1,
}
_UNLISTED_WEIGHT = 1


def family_of(path: str) -> ApiFamily:
    if path.startswith("/fapi/"):
        return "futures"
    if path.startswith("/sapi/"):
        return "sapi"
    if path.startswith("/dapi/"):
        return "inverse"
    return "spot"


def request_weight(method: str, path: str, params: Mapping[str, str]) -> int:
    weight = ENDPOINT_WEIGHTS.get((method, path), _UNLISTED_WEIGHT)
    if isinstance(weight, tuple):
        with_symbol, without = weight
        return with_symbol if params.get("symbol") else without
    if callable(weight):
        return weight(params)
    return weight


@dataclass(frozen=True)
class WeightDecision:
    """The outcome of counting one request: the used weight to report and whether it is refused."""

    family: ApiFamily
    used: int
    limit: int
    retry_after_s: int = 0

    @property
    def refused(self) -> bool:
        return self.used > self.limit

    def headers(self) -> dict[str, str]:
        if self.family == "sapi":
            return {"X-SAPI-USED-IP-WEIGHT-1M": str(self.used)}
        if self.family == "spot":
            return {"X-MBX-USED-WEIGHT": str(self.used), "X-MBX-USED-WEIGHT-1M": str(self.used)}
        return {"X-MBX-USED-WEIGHT-1M": str(self.used)}


class WeightCounter:
    """Rolling one-minute request weight per (IP, API family). Thread-safe.

    ``now`` (seconds, monotonic by default) is injectable so a test can let a minute pass at once.
    """

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._now = now
        self._entries: dict[tuple[str, ApiFamily], deque[tuple[float, int]]] = {}
        self._totals: dict[tuple[str, ApiFamily], int] = {}
        self._limits: dict[ApiFamily, int] = dict(DEFAULT_LIMITS)

    def set_limits(self, limits: Mapping[ApiFamily, int] | None = None) -> None:
        """Replace the limits; families left out get Binance's defaults back."""
        merged = dict(DEFAULT_LIMITS)
        for family, value in (limits or {}).items():
            if family not in DEFAULT_LIMITS:
                raise ValueError(f"unknown API family {family!r}")
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError("a weight limit must be a positive integer")
            merged[family] = value
        with self._lock:
            self._limits = merged

    def limit(self, family: ApiFamily) -> int:
        with self._lock:
            return self._limits[family]

    def add(self, ip: str, method: str, path: str, params: Mapping[str, str]) -> WeightDecision:
        family = family_of(path)
        weight = request_weight(method, path, params)
        with self._lock:
            now = self._now()
            key = (ip, family)
            entries = self._entries.setdefault(key, deque())
            used = self._expire(key, entries, now) + weight
            if weight:
                entries.append((now, weight))
            self._totals[key] = used
            limit = self._limits[family]
            retry = self._retry_after(entries, used, limit, now) if used > limit else 0
            return WeightDecision(family, used, limit, retry)

    def used(self, ip: str, family: ApiFamily = "futures") -> int:
        with self._lock:
            key = (ip, family)
            entries = self._entries.get(key)
            return 0 if entries is None else self._expire(key, entries, self._now())

    def snapshot(self) -> dict[str, dict[str, int]]:
        """Used weight of every IP seen: ``{ip: {family: weight}}`` (families with weight only)."""
        with self._lock:
            now = self._now()
            result: dict[str, dict[str, int]] = {}
            for key, entries in self._entries.items():
                used = self._expire(key, entries, now)
                if used:
                    result.setdefault(key[0], {})[key[1]] = used
            return result

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()
            self._totals.clear()

    def _expire(self, key: tuple[str, ApiFamily], entries: deque[tuple[float, int]], now: float) -> int:
        total = self._totals.get(key, 0)
        while entries and entries[0][0] <= now - WINDOW_SECONDS:
            total -= entries.popleft()[1]
        self._totals[key] = total
        return total

    @staticmethod
    def _retry_after(entries: deque[tuple[float, int]], used: int, limit: int, now: float) -> int:
        """Seconds until enough of the window has expired to bring the used weight back to the limit."""
        excess = used - limit
        for at, weight in entries:
            excess -= weight
            if excess <= 0:
                return max(1, math.ceil(at + WINDOW_SECONDS - now))
        return int(WINDOW_SECONDS)
