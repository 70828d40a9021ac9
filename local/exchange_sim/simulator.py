"""The Python-facing control surface of the simulator: accounts, prices, faults and request weight.

Tests and the local gateway drive the simulated market through this object while ccxt talks to the
same state over HTTP (``server.start_simulator``). Amounts may be given as int, float or str; they
are converted to ``Decimal`` through ``str`` so ``0.1`` means exactly 0.1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, cast

from local.exchange_sim.engine import Clock, Engine
from local.exchange_sim.faults import FaultConfig, FaultInjector
from local.exchange_sim.market import DEFAULT_MARKETS, DEFAULT_PRICES, MarketRegistry, MarketSpec, to_decimal
from local.exchange_sim.request_log import LoggedRequest, RequestLog
from local.exchange_sim.weights import ApiFamily, WeightCounter

# The weight-limit keys ``set_faults`` accepts (camelCase as sent to /_local/exchange/faults).
_WEIGHT_LIMIT_KEYS: dict[str, ApiFamily] = {
    "weightLimitFutures": "futures",
    "weight_limit_futures": "futures",
    "weightLimitSpot": "spot",
    "weight_limit_spot": "spot",
}


class BinanceSimulator:
    """A simulated Binance (spot + USD-M futures) with its accounts, market prices and faults."""

    def __init__(
        self,
        markets: Iterable[MarketSpec] = DEFAULT_MARKETS,
        prices: Mapping[str, float | str | Decimal] | None = None,
        *,
        fault_seed: int | None = None,
        weight_clock: Callable[[], float] | None = None,
    ) -> None:
        initial = dict(DEFAULT_PRICES)
        for pair, price in (prices or {}).items():
            initial[pair] = to_decimal(price)
        self.clock = Clock()
        self.engine = Engine(MarketRegistry(markets), initial, self.clock)
        self.faults = FaultInjector(seed=fault_seed)
        # Request weight per caller IP; ``weight_clock`` (seconds) lets a test make a minute pass.
        self.weights = WeightCounter() if weight_clock is None else WeightCounter(weight_clock)
        # Every request received (``request_log``): benchmarks count round trips here.
        self.requests = RequestLog()

    def create_account(
        self, balances: Mapping[str, float] | None = None, permissions: Mapping[str, Any] | None = None
    ) -> dict[str, str]:
        """Open an account; ``balances`` (default ``{"USDT": 10000}``) seed its spot *and* futures wallets.

        ``permissions`` uses the keys of ``GET /sapi/v1/account/apiRestrictions`` (``enableFutures``,
        ``enableSpotAndMarginTrading``, ``enableReading``, ``enableWithdrawals``, ``ipRestrict``, ...).
        """
        account = self.engine.create_account(balances, permissions)
        return {"apiKey": account.api_key, "apiSecretKey": account.secret}

    def set_price(self, symbol: str, price: float | str | Decimal) -> None:
        """Move the price of a pair ("BTC/USDT"; the swap symbol or "BTCUSDT" work too) and match.

        Resting limit orders the move crosses fill first, then conditional orders whose trigger it
        crosses fire, then trailing stops update (and fire on a large enough retrace).
        """
        self.engine.set_price(self.engine.markets.resolve_pair(symbol), to_decimal(price))

    def set_faults(self, **faults: Any) -> None:
        """Inject faults into the requests that follow; no arguments clears them.

        Keywords (camelCase JSON spellings accepted): ``latency_ms``, ``error_rate``, ``status``,
        ``timeout``, ``match`` (substring of "METHOD /path" or of the order ``type``), ``count`` (only the
        next N matching requests), ``after_accept`` (process the request first, then hang with
        ``timeout`` or answer the injected error with ``error_rate``), ``body`` (override the error
        body: dict for JSON, str for raw text), ``retry_after`` (the Retry-After seconds of injected 429/418
        answers; Binance's usual 1 s and 120 s ban by default); a hang lasts at most 30 s.

        ``weightLimitFutures`` / ``weightLimitSpot`` (or snake_case) replace the per-IP request weight
        limits (Binance's 2400 and 6000 per minute); a call without them restores those defaults.
        """
        limits: dict[ApiFamily, int] = {}
        for key in [k for k in faults if k in _WEIGHT_LIMIT_KEYS]:
            limits[_WEIGHT_LIMIT_KEYS[key]] = faults.pop(key)
        FaultConfig.from_kwargs(dict(faults))  # refuse a bad fault set before changing anything
        self.weights.set_limits(limits)
        self.faults.configure(**faults)

    def used_weight(self, ip: str = "127.0.0.1", api: str = "futures") -> int:
        """Request weight ``ip`` used in the last minute on ``api``: "futures", "spot", "sapi", "inverse"."""
        if api not in ("futures", "spot", "sapi", "inverse"):
            raise ValueError(f"unknown api {api!r}")
        return self.weights.used(ip, cast(ApiFamily, api))

    def used_weights(self) -> dict[str, dict[str, int]]:
        """Every caller IP's used weight of the last minute: ``{ip: {api: weight}}``."""
        return self.weights.snapshot()

    def received(self) -> list[LoggedRequest]:
        """Every request received since the last ``clear_received``, oldest first."""
        return self.requests.entries()

    def clear_received(self) -> None:
        self.requests.clear()

    def reset_weights(self) -> None:
        """Forget all counted request weight (e.g. between benchmark phases)."""
        self.weights.reset()

    def set_clock_offset(self, offset_ms: int) -> None:
        """Shift the server clock (e.g. to exercise ccxt's ``adjustForTimeDifference``)."""
        self.clock.offset_ms = offset_ms
