"""Fixtures: a fresh Binance simulator per test, served over HTTP, and real ccxt clients aimed at it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from ccxt.binance import binance
from ccxt.binanceusdm import binanceusdm

from adapters.exchange.endpoints import point_at
from local.exchange_sim import BinanceSimulator, RunningSimulator, start_simulator
from tests.support import ClientFactory


@pytest.fixture
def running() -> Iterator[RunningSimulator]:
    server = start_simulator()
    yield server
    server.stop()


@pytest.fixture
def sim(running: RunningSimulator) -> BinanceSimulator:
    return running.simulator


@pytest.fixture
def keys(sim: BinanceSimulator) -> dict[str, str]:
    return sim.create_account()


@pytest.fixture
def make_client(running: RunningSimulator) -> ClientFactory:
    """Build ``ccxt.binance`` ("spot") or ``ccxt.binanceusdm`` ("usdm") the way the adapter does."""

    def make(
        kind: str = "usdm",
        credentials: dict[str, str] | None = None,
        *,
        timeout_ms: int = 3000,
        options: dict[str, Any] | None = None,
        load_markets: bool = True,
    ) -> Any:
        config: dict[str, Any] = {
            "enableRateLimit": False,
            "timeout": timeout_ms,
            "options": {"fetchCurrencies": False, "adjustForTimeDifference": True, **(options or {})},
        }
        if credentials is not None:
            config.update(apiKey=credentials["apiKey"], secret=credentials["apiSecretKey"])
        client = (binanceusdm if kind == "usdm" else binance)(config)
        point_at(client, running.url)
        if load_markets:
            client.load_markets()
        return client

    return make


@pytest.fixture
def usdm(make_client: ClientFactory, keys: dict[str, str]) -> Any:
    return make_client("usdm", keys)


@pytest.fixture
def spot(make_client: ClientFactory, keys: dict[str, str]) -> Any:
    return make_client("spot", keys)
