"""Binance's request limits, read from Binance's own answers instead of ccxt's client-side limiter.

ccxt's ``enableRateLimit`` sleeps before every call to keep under a rate it assumes: about a second of
sleeping for one order with its exits, while the exchange answers in milliseconds. The clients are built
with it off, and ``respect_limits`` installs instead:

- **the weight headers**: each answer's ``X-MBX-USED-WEIGHT-1M`` (``X-SAPI-USED-IP-WEIGHT-1M`` on sapi) is
  remembered per API family for the whole container (the limit is the egress IP's, shared by every key);
  once it reaches ``WEIGHT_HEADROOM`` of the family's limit, the next call on that family waits for the
  minute to turn when that is at most ``retry_after_max_seconds`` away (a longer wait is left to
  Binance's own answer: a 429 if the weight is really spent);
- **429 and 418**: a request that places nothing (a read, a cancel, leverage, margin type) is sent again
  after the answer's ``Retry-After`` (at most ``retry_after_max_seconds``, at most ``retries`` times), else
  the error goes to the caller (503). A new order is never sent again here: Binance says a 429 was refused
  before processing, but a client order id is only unique among *open* orders, so a filled entry sent
  twice would be filled twice. Its error goes to the order path, which looks the order up by its client
  order id before anything is sent again (``BinanceTradingAccount.place``). Any other failure is not
  repeated here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from adapters.exchange.ccxt_loader import ccxt_errors

# Binance's per-IP request weight per minute, by API family (exchangeInfo's REQUEST_WEIGHT rate limits).
WEIGHT_LIMITS = {"fapi": 2400, "dapi": 2400, "api": 6000, "sapi": 12000}
WEIGHT_HEADROOM = 0.95
_WEIGHT_HEADERS = ("x-mbx-used-weight-1m", "x-sapi-used-ip-weight-1m")
_THROTTLED = (418, 429)
DEFAULT_RETRY_AFTER_SECONDS = 1.0


def family_of(api: Any) -> str:
    """The API family of a ccxt ``api`` argument: ``fapiPrivateV3`` is fapi, ``private`` is api ..."""
    name = api[0] if isinstance(api, list | tuple) and api else api
    name = str(name or "")
    for family in ("fapi", "dapi", "sapi"):
        if name.startswith(family):
            return family
    return "api"


@dataclass
class _Seen:
    used: int
    minute: int  # the wall-clock minute the answer came in (Binance counts per minute)


class WeightGate:
    """The used weight Binance last reported per family, shared by every client of the container."""

    def __init__(
        self, clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._seen: dict[str, _Seen] = {}
        self._lock = threading.Lock()

    def observe(self, family: str, headers: Any) -> None:
        lowered = {str(k).lower(): v for k, v in (headers or {}).items()}
        for name in _WEIGHT_HEADERS:
            value = lowered.get(name)
            if value is not None:
                try:
                    used = int(value)
                except ValueError:
                    return
                with self._lock:
                    self._seen[family] = _Seen(used, int(self._clock() // 60))
                return

    def wait_time(self, family: str) -> float:
        """Seconds to wait before a call on ``family``: until the minute turns when nearly spent, else 0."""
        with self._lock:
            seen = self._seen.get(family)
        now = self._clock()
        if seen is None or seen.minute != int(now // 60):
            return 0.0
        if seen.used < WEIGHT_HEADROOM * WEIGHT_LIMITS.get(family, WEIGHT_LIMITS["api"]):
            return 0.0
        return (seen.minute + 1) * 60 - now

    def pause(self, seconds: float) -> None:
        if seconds > 0:
            self._sleep(seconds)

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


_GATE = WeightGate()


def weight_gate() -> WeightGate:
    return _GATE


class _LastAnswer(threading.local):
    status: int | None = None
    retry_after: float | None = None


def _retry_after(headers: Any) -> float | None:
    value = next((v for k, v in (headers or {}).items() if str(k).lower() == "retry-after"), None)
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def respect_limits(
    client: Any, retries: int, retry_after_max_seconds: float, gate: WeightGate | None = None
) -> None:
    """Installs the weight-header and Retry-After handling on one ccxt client (its instance only)."""
    gate = gate or weight_gate()
    errors = ccxt_errors()
    last = _LastAnswer()
    send = client.fetch2
    on_response = client.on_rest_response

    def on_rest_response(code: Any, reason: Any, url: Any, method: Any, headers: Any, *rest: Any) -> Any:
        last.status = int(code) if code is not None else None
        last.retry_after = _retry_after(headers)
        gate.observe(family_of_url(url), headers)
        return on_response(code, reason, url, method, headers, *rest)

    def fetch2(
        path: Any, api: Any = "public", method: str = "GET", params: Any = None, config: Any = None
    ) -> Any:
        family = family_of(api)
        resendable = not places_orders(method, path)
        for attempt in range(retries + 1):
            wait = gate.wait_time(family)
            if wait <= retry_after_max_seconds:
                gate.pause(wait)
            last.status = None
            try:
                return send(path, api, method, params if params is not None else {}, config or {})
            except errors.DDoSProtection:
                if not resendable or last.status not in _THROTTLED or attempt == retries:
                    raise
                delay = last.retry_after if last.retry_after is not None else DEFAULT_RETRY_AFTER_SECONDS
                if delay > retry_after_max_seconds:
                    raise  # an IP ban or a long wait: the caller answers 503 rather than hold the request
                gate.pause(delay)
        raise AssertionError("unreachable")

    client.on_rest_response = on_rest_response
    client.fetch2 = fetch2


def places_orders(method: Any, path: Any) -> bool:
    """Whether a request creates orders (``POST order``, ``algoOrder``, ``batchOrders``, spot ``order``)."""
    return str(method).upper() == "POST" and "order" in str(path).lower()


def family_of_url(url: Any) -> str:
    """The API family of a request URL: ``/fapi/v1/order`` is fapi, ``/api/v3/account`` is api ..."""
    path = urlsplit(str(url or "")).path
    for family in ("fapi", "dapi", "sapi"):
        if f"/{family}/" in path:
            return family
    return "api"
