"""The local stack for the scale benchmarks, started in this process so a benchmark can read the simulator's
request-weight counter directly and seed thousands of keys through the repositories against its moto.

Everything else is as ``python -m local run`` wires it: the gateway on a free port, the template's queues,
mappings and worker processes, ccxt against the Binance simulator.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}.items():
    os.environ.setdefault(_name, _value)
# The stack's state file is this run's own: a developer's running `make run` keeps its own.
os.environ.setdefault("LOCAL_STATE_FILE", str(Path(tempfile.mkdtemp(prefix="bench-")) / "stack.json"))
os.environ.pop("AWS_ENDPOINT_URL", None)

PROFESSIONAL = "d6e3155b-caed-449c-b95b-857f1b765040"  # 5 keys, 10000 USD, automation allowed
MODERATE = "3dc38f3d-4b4e-43b3-a102-e250b7cd3551"  # 2 % risk


@dataclass
class MachineCpu:
    """The CPU time every process of this machine spent while the block ran (Linux's /proc/stat): how much
    of the machine a figure used, so that a wall time bound by this machine's cores reads as such."""

    cores: int = field(default_factory=lambda: os.cpu_count() or 1)
    busy_seconds: float = 0.0
    wall_seconds: float = 0.0
    _start: tuple[float, float] = (0.0, 0.0)

    @staticmethod
    def _busy() -> float:
        with open("/proc/stat") as stat:
            ticks = [int(value) for value in stat.readline().split()[1:]]
        idle = ticks[3] + ticks[4]  # idle and iowait
        return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")

    @property
    def share(self) -> float:
        """The busy share of all the machine's cores, 0 to 1."""
        return self.busy_seconds / (self.wall_seconds * self.cores) if self.wall_seconds else 0.0

    def __enter__(self) -> MachineCpu:
        self._start = (self._busy(), time.monotonic())
        return self

    def __exit__(self, *_: object) -> None:
        self.busy_seconds = self._busy() - self._start[0]
        self.wall_seconds = time.monotonic() - self._start[1]


@dataclass
class WeightWatch:
    """Samples the simulator's per-IP used weight (its rolling minute) and remembers the peak."""

    simulator: Any
    interval: float = 0.2
    peak: int = 0
    peak_ip: str = ""
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self) -> None:
        for ip, families in self.simulator.used_weights().items():
            used = families.get("futures", 0)
            if used > self.peak:
                self.peak, self.peak_ip = used, ip

    def __enter__(self) -> WeightWatch:
        def run() -> None:
            while not self._stop.wait(self.interval):
                self.sample()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()


@dataclass
class BenchStack:
    stack: Any  # local.stack.LocalStack
    url: str

    @property
    def simulator(self) -> Any:
        return self.stack.exchange.simulator

    def post(self, path: str, body: Any = None, timeout: float = 600) -> requests.Response:
        return requests.post(f"{self.url}{path}", json=body, timeout=timeout)

    def throttled(self) -> int:
        """How many exchange requests the simulator answered 429 or 418 (request weight) so far."""
        return sum(1 for r in self.simulator.received() if r.status in (418, 429))

    def set_function_environment(self, function: str, **variables: str) -> None:
        """Before its first invocation: the function's workers start with these variables."""
        self.stack.pools[function].spec.environment.update(variables)


@contextmanager
def local_stack(parameters: dict[str, str] | None = None) -> Iterator[BenchStack]:
    from local.dev_routes import (
        register_notification_routes,
        register_simulator_routes,
        register_strategy_routes,
    )
    from local.gateway import Gateway, serve
    from local.stack import LocalStack
    from local.template import load_template

    stack = LocalStack(load_template(parameter_overrides=parameters))
    server = None
    try:
        stack.start()  # inside: a start that fails half-way stops what it started
        # This process seeds through the repositories: the functions' KMS key and exchange endpoint.
        from core.config import get_settings

        environment = stack.pools["StrategyFanOutFunction"].spec.environment
        for name in ("EXCHANGE_SECRETS_KEY_ID", "EXCHANGE_ENDPOINT"):
            os.environ[name] = environment[name]
        get_settings.cache_clear()
        gateway = Gateway(stack)
        register_simulator_routes(gateway)
        register_strategy_routes(gateway)
        register_notification_routes(gateway)
        server = serve(gateway, "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}"
        stack.connect_webhooks(url)
        yield BenchStack(stack, url)
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        stack.stop()


# ---------------------------------------------------------------- seeding through the repositories
@dataclass(frozen=True)
class SeededKey:
    user_id: str
    key_id: str
    follow_id: str | None
    usdt: float


def seed_keys(
    bench: BenchStack,
    count: int,
    *,
    usdt: Callable[[int], float],
    trade_type: str = "FUTURES",
    strategy_id: str | None = None,
    automated: bool = False,
    equity_cached: bool = False,
    threads: int = 8,
) -> list[SeededKey]:
    """``count`` users on PROFESSIONAL, each with one key on a new simulator account holding ``usdt(i)`` USDT,
    written as the API writes them (the key with its claim and counter, KMS-encrypted secret); with
    ``strategy_id`` the key follows it (MODERATE profile); with ``equity_cached`` its account read is in the
    equity cache, fresh, as the fan-out's previous read would have left it."""
    from core.models.exchange import ExchangeId, ExchangeKey, KeyLimits, KeyStatus, StrategyType, TradeType
    from core.models.follows import Follow
    from core.models.trading import AccountSnapshot
    from core.repositories.catalog import CatalogRepository
    from core.repositories.equity_cache import EquityCacheRepository
    from core.repositories.exchange_keys import ExchangeKeyRepository
    from core.repositories.follows import FollowRepository
    from core.secret_cipher import KmsSecretCipher
    from core.timeutil import iso_now
    from local.plans import assign_plan

    plan = CatalogRepository().get_plan(PROFESSIONAL)
    assert plan is not None
    strategy = CatalogRepository().get_strategy(strategy_id) if strategy_id else None
    keys, follows, cache, cipher = (
        ExchangeKeyRepository(),
        FollowRepository(),
        EquityCacheRepository(),
        KmsSecretCipher(),
    )

    def one(index: int) -> SeededKey:
        user_id, key_id, now = str(uuid.uuid4()), str(uuid.uuid4()), iso_now()
        balance = usdt(index)
        account = bench.simulator.create_account(balances={"USDT": balance})
        assign_plan(user_id, plan)
        key = ExchangeKey(
            id=key_id,
            user_id=user_id,
            exchange_id=ExchangeId.BINANCE,
            trade_type=TradeType(trade_type),
            strategy_type=StrategyType.AUTOMATED if automated else StrategyType.MANUAL,
            active=True,
            name=f"bench-{index}",
            api_key=account["apiKey"],
            status=KeyStatus.AUTHORIZED,
            created_at=now,
            updated_at=now,
            balance_usd=None,
        )
        keys.create(key, cipher.encrypt(user_id, key_id, account["apiSecretKey"]), KeyLimits(5, 1e12))
        follow_id = None
        if strategy is not None:
            follow_id = str(uuid.uuid4())
            follows.create(
                Follow(
                    id=follow_id,
                    user_id=user_id,
                    key_id=key_id,
                    exchange_id=strategy.exchange_id,
                    symbol=strategy.symbol,
                    strategy_id=strategy.id,
                    risk_profile_id=MODERATE,
                    active=True,
                    created_at=now,
                    updated_at=now,
                )
            )
        if equity_cached:
            cache.save(user_id, key_id, AccountSnapshot(balance, frozenset(), int(time.time() * 1000)))
        return SeededKey(user_id, key_id, follow_id, balance)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(one, range(count)))


def signal_secret(bench: BenchStack, strategy_id: str) -> str:
    return requests.get(f"{bench.url}/_local/strategies/{strategy_id}/secret", timeout=30).json()["secret"]


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
