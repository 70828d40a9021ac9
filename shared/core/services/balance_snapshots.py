"""The daily balance snapshot of every active key, in USD, spread over as many invocations as it needs.

The schedule's function only enumerates: it pages through the active-key index (GSI1, one query per shard:
no Scan) and queues one message per key not yet snapshotted that day (``enqueue_daily``). The snapshot
worker takes them in SQS batches (``take``), several keys at once, within its configured share of the
egress IPs' request weight (a ``RollingWeightBudget`` per API family and container; the share is divided
by the worker's maximum concurrency). A key already snapshotted that day is skipped, so a redelivered
message or a second run of the schedule adds nothing.

The same queue and worker keep the fan-out's equity cache warm (``strategies.md`` "Scale": followers are
sized from a cached account read). Every ``EQUITY_REFRESH_MINUTES`` the schedule queues one EQUITY message per
active AUTOMATED FUTURES key (``enqueue_equity_refresh``), and a follow that starts queues its key's at once;
the worker reads the account (``GET /fapi/v3/account``, weight 5, within the same USD-M share) into the
cache. 1,000 automated keys every 10 minutes cost 500 weight a minute, under half the worker's share.

The arithmetic for 10,000 keys (``template.yaml`` sets the shares): a USD-M balance read weighs 5 of an
IP's 2,400 a minute, a spot account read 20 of 6,000. With 1,200 USD-M weight a minute (half of one IP's
minute) the worker reads 240 FUTURES keys a minute; with 3,000 spot weight, 150 SPOT keys a minute. Even
10,000 keys all SPOT take 67 minutes (all FUTURES: 42), well within the day, and leave every egress IP
most of its weight for trading.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.errors import ExchangeAuthorizationFailed
from core.models.exchange import (
    BalanceSnapshot,
    ExchangeKey,
    KeyStatus,
    SnapshotOrder,
    SnapshotPurpose,
    StrategyType,
    TradeType,
)
from core.observability import logger
from core.ports import ExchangeMarketData
from core.repositories.equity_cache import EquityCacheRepository
from core.repositories.exchange_keys import ExchangeKeyRepository
from core.services.key_accounts import KeyAccounts
from core.services.request_weight import RollingWeightBudget
from core.services.valuation import usd_value
from core.timeutil import iso_now

# Request weight of one key's balance read, and of the USD prices (spot ticker/24hr, every symbol).
BALANCE_WEIGHT = {TradeType.FUTURES: 5, TradeType.SPOT: 20}
PRICES_WEIGHT = 80
ACCOUNT_READ_WEIGHT = 5  # USD-M GET /fapi/v3/account: the equity cache's read
QUEUE_BATCH = 100  # keys per send (SQS batches of ten each)


@dataclass
class EnqueueReport:
    date: str
    queued: int = 0
    skipped: int = 0

    def as_dict(self) -> dict[str, object]:
        return {"date": self.date, "queued": self.queued, "skipped": self.skipped}


class SnapshotDeferred(Exception):
    """No weight left in the share (or no time left) for this key now: SQS delivers it again."""


@dataclass(frozen=True)
class SnapshotBudgets:
    """This container's part of the snapshot's weight share, per API family."""

    futures: RollingWeightBudget
    spot: RollingWeightBudget

    def of(self, trade_type: TradeType) -> RollingWeightBudget:
        return self.futures if trade_type is TradeType.FUTURES else self.spot


class SnapshotScheduler:
    """The schedule's part: no exchange, only the active-key index and the snapshot queue."""

    def __init__(self, keys: ExchangeKeyRepository, queue: Callable[[Sequence[str]], None]) -> None:
        self._keys = keys
        self._queue = queue

    def enqueue_daily(self, date: str) -> EnqueueReport:
        """Queues one message per active key not yet snapshotted on ``date``."""
        return self._enqueue(date, "DAILY", lambda key: key.balance_date != date)

    def enqueue_equity_read(self, user_id: str, key_id: str, date: str) -> None:
        """Queues one key's account read (a follow that just started)."""
        self._queue(
            [SnapshotOrder(user_id=user_id, key_id=key_id, date=date, purpose="EQUITY").model_dump_json()]
        )

    def enqueue_equity_refresh(self, date: str) -> EnqueueReport:
        """Queues one account read per active AUTOMATED FUTURES key (the fan-out's equity cache)."""
        return self._enqueue(date, "EQUITY", follows_strategies)

    def _enqueue(
        self, date: str, purpose: SnapshotPurpose, wanted: Callable[[ExchangeKey], bool]
    ) -> EnqueueReport:
        report = EnqueueReport(date=date)
        pending: list[str] = []
        for key, _ in self._keys.active_keys():
            if not wanted(key):
                report.skipped += 1
                continue
            order = SnapshotOrder(user_id=key.user_id, key_id=key.id, date=date, purpose=purpose)
            pending.append(order.model_dump_json())
            if len(pending) >= QUEUE_BATCH:
                self._queue(pending)
                report.queued += len(pending)
                pending = []
        if pending:
            self._queue(pending)
            report.queued += len(pending)
        logger.info("balance reads queued", extra={"purpose": purpose, **report.as_dict()})
        return report


def follows_strategies(key: ExchangeKey) -> bool:
    """A key whose signals are sized from its cached account read."""
    return key.strategy_type is StrategyType.AUTOMATED and key.trade_type is TradeType.FUTURES


class BalanceSnapshotService:
    def __init__(
        self,
        keys: ExchangeKeyRepository,
        accounts: KeyAccounts,
        market: ExchangeMarketData,
        budgets: SnapshotBudgets,
        equity: EquityCacheRepository,
        reserve_ms: int = 10_000,
        on_key_stopped: Callable[[str, str], None] = lambda user_id, key_id: None,
    ) -> None:
        self._on_key_stopped = on_key_stopped  # a key Binance refuses is deactivated: its follows stop
        self._keys = keys
        self._accounts = accounts
        self._market = market
        self._budgets = budgets
        self._equity = equity
        self._reserve_ms = reserve_ms
        self._prices: tuple[str, dict[str, float]] | None = None
        self._prices_lock = threading.Lock()

    # ------------------------------------------------------------ the worker: one key
    def take(self, order: SnapshotOrder, time_left_ms: Callable[[], int]) -> str:
        """Takes one key's snapshot: "snapshotted", "skipped" (done already, or no longer active) or
        "unauthorized" (Binance refuses the key: it is deactivated and its follows stop). Any other failure
        marks the key FAILED and raises, so that SQS retries it (then its dead-letter queue)."""
        found = self._keys.get_with_secret(order.user_id, order.key_id)
        if found is None:
            return "skipped"
        key, ciphertext = found
        if order.purpose == "EQUITY":
            return self._refresh_equity(key, ciphertext, time_left_ms)
        if not key.active or key.balance_date == order.date:
            return "skipped"
        wait_seconds = (time_left_ms() - self._reserve_ms) / 1000
        prices = self._usd_prices(order.date, wait_seconds)
        if not self._budgets.of(key.trade_type).take(BALANCE_WEIGHT[key.trade_type], wait_seconds):
            raise SnapshotDeferred(key.id)
        try:
            balance = self._accounts.open(key, ciphertext).balance()
            total = usd_value(balance.total, prices)
            self._keys.record_snapshot(
                key, BalanceSnapshot(key_id=key.id, date=order.date, total_usd=total), iso_now()
            )
            return "snapshotted"
        except ExchangeAuthorizationFailed:
            self._keys.mark_status(key, KeyStatus.UNAUTHORIZED, iso_now())
            self._on_key_stopped(key.user_id, key.id)
            return "unauthorized"
        except Exception as error:  # retried by SQS; the key shows FAILED until a retry succeeds
            logger.warning("snapshot failed", extra={"key_id": key.id, "error_type": type(error).__name__})
            self._mark_failed(key)
            raise

    def _refresh_equity(self, key: ExchangeKey, ciphertext: bytes, time_left_ms: Callable[[], int]) -> str:
        """One account read into the equity cache: "refreshed", or "skipped" for a key that no longer follows."""
        if not key.active or not follows_strategies(key):
            return "skipped"
        if not self._budgets.futures.take(ACCOUNT_READ_WEIGHT, (time_left_ms() - self._reserve_ms) / 1000):
            raise SnapshotDeferred(key.id)
        try:
            read = self._accounts.open_trading(key, ciphertext).account_snapshot()
        except ExchangeAuthorizationFailed:
            self._keys.mark_status(key, KeyStatus.UNAUTHORIZED, iso_now())
            self._on_key_stopped(key.user_id, key.id)
            return "unauthorized"
        self._equity.save(key.user_id, key.id, read)
        return "refreshed"

    def _mark_failed(self, key: ExchangeKey) -> None:
        try:
            self._keys.mark_status(key, KeyStatus.FAILED, iso_now())
        except Exception as error:  # the original failure is what SQS must see
            logger.warning("could not mark the key failed", extra={"error_type": type(error).__name__})

    def _usd_prices(self, date: str, wait_seconds: float) -> dict[str, float]:
        """The USD prices of the day's snapshots: read once per container and day (one spot request)."""
        with self._prices_lock:
            if self._prices is None or self._prices[0] != date:
                if not self._budgets.spot.take(PRICES_WEIGHT, wait_seconds):
                    raise SnapshotDeferred("usd prices")
                self._prices = (date, self._market.usd_prices())
            return self._prices[1]
