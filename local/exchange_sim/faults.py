"""Fault injection: latency, error answers and hangs for the requests that match a filter.

A fault set applies to the requests that arrive after ``FaultInjector.configure``. Hangs wait on an
``Event`` rather than sleeping, so that clearing the faults (or stopping the server) releases every
request still hanging and a test never waits for the full hang time. A hang ends by dropping the
connection without an answer: the client has normally given up by then (ccxt raises RequestTimeout),
and an answer arriving later would only model a network that Binance does not have.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Any

# Binance-shaped bodies for the statuses a test is likely to inject.
_DEFAULT_BODIES: dict[int, dict[str, Any]] = {
    418: {"code": -1003, "msg": "Way too much request weight used; IP banned until 1700000000000."},
    429: {
        "code": -1003,
        "msg": "Too much request weight used; current limit is 6000 request weight per 1 MINUTE.",
    },
    401: {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."},
}
_INTERNAL_ERROR = {"code": -1001, "msg": "Internal error; unable to process your request. Please try again."}
_UNKNOWN_ERROR = {"code": -1000, "msg": "An unknown error occured while processing the request."}

_CAMEL_CASE = {
    "latencyMs": "latency_ms",
    "errorRate": "error_rate",
    "afterAccept": "after_accept",
    "retryAfter": "retry_after",
}
# Binance sends Retry-After with every 429 and 418: a short back-off, or the length of an IP ban.
_DEFAULT_RETRY_AFTER = {429: 1, 418: 120}
# How long an injected hang holds a request (released early when the faults change or the server stops).
HANG_SECONDS = 30.0


@dataclass(frozen=True)
class FaultConfig:
    latency_ms: int = 0
    error_rate: float = 0.0
    status: int = 503
    timeout: bool = False
    match: str | None = None
    count: int | None = None
    after_accept: bool = False
    # Body of injected errors: None for Binance's usual body for ``status``, a dict for another JSON
    # body, a str for a raw (e.g. HTML) body such as a load balancer would send.
    body: dict[str, Any] | str | None = None
    # Retry-After (seconds) of injected 429/418 answers; None for Binance's usual (1 s, a 120 s ban).
    retry_after: int | None = None

    @classmethod
    def from_kwargs(cls, faults: dict[str, Any]) -> FaultConfig:
        """Accept the snake_case keyword names and the camelCase JSON keys of the local gateway."""
        normalised = {_CAMEL_CASE.get(key, key): value for key, value in faults.items()}
        config = cls(**normalised)  # TypeError on an unknown key, which is what a typo deserves
        if not 0.0 <= config.error_rate <= 1.0:
            raise ValueError("error_rate must be between 0 and 1")
        if config.latency_ms < 0 or (config.count is not None and config.count < 0):
            raise ValueError("latency_ms and count must not be negative")
        if not 100 <= config.status <= 599:
            raise ValueError("status must be an HTTP status code")
        return config

    @property
    def active(self) -> bool:
        return bool(self.latency_ms or self.error_rate or self.timeout)

    def error_headers(self) -> dict[str, str]:
        retry_after = (
            self.retry_after if self.retry_after is not None else _DEFAULT_RETRY_AFTER.get(self.status)
        )
        return {"Retry-After": str(retry_after)} if self.status in _DEFAULT_RETRY_AFTER else {}

    def error_body(self) -> dict[str, Any] | str:
        if self.body is not None:
            return self.body
        if self.status in _DEFAULT_BODIES:
            return _DEFAULT_BODIES[self.status]
        return _INTERNAL_ERROR if self.status >= 500 else _UNKNOWN_ERROR


@dataclass(frozen=True)
class FaultDecision:
    """What to do with one request."""

    latency_s: float = 0.0
    error: bool = False
    hang: bool = False
    after_accept: bool = False
    status: int = 503
    body: dict[str, Any] | str | None = None
    headers: dict[str, str] | None = None
    hang_seconds: float = 0.0
    release: threading.Event | None = None

    def wait(self, seconds: float) -> None:
        """Sleep, but wake up as soon as the faults are cleared or the server stops."""
        if seconds > 0 and self.release is not None:
            self.release.wait(seconds)

    def hang_now(self) -> None:
        self.wait(self.hang_seconds)


NO_FAULT = FaultDecision()


class FaultInjector:
    """Thread-safe holder of the current fault set; ``decide`` is called once per request."""

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._config = FaultConfig()
        self._remaining: int | None = None
        self._release = threading.Event()
        self._random = random.Random(seed)

    def configure(self, **faults: Any) -> FaultConfig:
        config = FaultConfig.from_kwargs(faults)
        with self._lock:
            # Wake everything that hangs under the previous fault set before installing the new one.
            self._release.set()
            self._release = threading.Event()
            self._config = config
            self._remaining = config.count
        return config

    def release_all(self) -> None:
        with self._lock:
            self._release.set()

    @property
    def config(self) -> FaultConfig:
        with self._lock:
            return self._config

    def decide(self, request_line: str, order_type: str | None) -> FaultDecision:
        """``request_line`` is "METHOD /path"; ``match`` also looks at the order ``type`` parameter."""
        with self._lock:
            config = self._config
            if not config.active:
                return NO_FAULT
            if (
                config.match is not None
                and config.match not in request_line
                and (order_type is None or config.match not in order_type)
            ):
                return NO_FAULT
            if self._remaining is not None:
                if self._remaining <= 0:
                    return NO_FAULT
                self._remaining -= 1
                if self._remaining == 0:
                    # Later requests are clean, but requests already hanging keep hanging.
                    self._config = FaultConfig()
            error = config.error_rate > 0 and self._random.random() < config.error_rate
            return FaultDecision(
                latency_s=config.latency_ms / 1000,
                error=error and not config.timeout,
                hang=config.timeout,
                after_accept=config.after_accept,
                status=config.status,
                body=config.error_body(),
                headers=config.error_headers(),
                hang_seconds=HANG_SECONDS,
                release=self._release,
            )
