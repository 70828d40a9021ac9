"""The daily balance snapshot of every active key, in USD.

Keys are read with bounded concurrency: every function that calls Binance shares its egress IPs and
so one request-weight budget. The run stops starting new keys when the Lambda is close to its time
limit; keys already snapshotted today are skipped, so running again (or twice) finishes the day
without duplicates.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from threading import Lock

from core.errors import ExchangeAuthorizationFailed
from core.models.exchange import BalanceSnapshot, ExchangeKey, KeyStatus
from core.observability import logger
from core.ports import ExchangeMarketData
from core.repositories.exchange_keys import ExchangeKeyRepository
from core.services.key_accounts import KeyAccounts
from core.services.valuation import usd_value
from core.timeutil import iso_now


@dataclass
class SnapshotReport:
    date: str
    snapshotted: int = 0
    skipped: int = 0
    unauthorized: int = 0
    failed: int = 0
    not_reached: int = 0
    _lock: Lock = field(default_factory=Lock, repr=False)

    def count(self, outcome: str) -> None:
        with self._lock:
            setattr(self, outcome, getattr(self, outcome) + 1)

    def as_dict(self) -> dict[str, object]:
        return {item.name: getattr(self, item.name) for item in fields(self) if not item.name.startswith("_")}


class BalanceSnapshotService:
    def __init__(
        self,
        keys: ExchangeKeyRepository,
        accounts: KeyAccounts,
        market: ExchangeMarketData,
        concurrency: int,
        reserve_ms: int = 30_000,
        on_key_stopped: Callable[[str, str], None] = lambda user_id, key_id: None,
    ) -> None:
        self._on_key_stopped = on_key_stopped  # a key Binance refuses is deactivated: its follows stop
        self._keys = keys
        self._accounts = accounts
        self._market = market
        self._concurrency = max(1, concurrency)
        self._reserve_ms = reserve_ms

    def take_daily(self, date: str, time_left_ms: Callable[[], int]) -> SnapshotReport:
        """Snapshots every active key not yet snapshotted on ``date``, until the time left runs short."""
        report = SnapshotReport(date=date)
        prices = self._market.usd_prices()
        keys = self._keys

        def snapshot(key: ExchangeKey, ciphertext: bytes) -> None:
            if time_left_ms() < self._reserve_ms:
                report.count("not_reached")
                return
            try:
                balance = self._accounts.open(key, ciphertext).balance()
                total = usd_value(balance.total, prices)
                keys.record_snapshot(
                    key, BalanceSnapshot(key_id=key.id, date=date, total_usd=total), iso_now()
                )
                report.count("snapshotted")
            except ExchangeAuthorizationFailed:
                keys.mark_status(key, KeyStatus.UNAUTHORIZED, iso_now())
                self._on_key_stopped(key.user_id, key.id)
                report.count("unauthorized")
            except Exception as error:  # one key's failure must not stop the others; it is retried next run
                logger.warning(
                    "snapshot failed", extra={"key_id": key.id, "error_type": type(error).__name__}
                )
                keys.mark_status(key, KeyStatus.FAILED, iso_now())
                report.count("failed")

        with ThreadPoolExecutor(max_workers=self._concurrency) as pool:
            for key, ciphertext in keys.active_keys():
                if key.balance_date == date:
                    report.count("skipped")
                    continue
                pool.submit(snapshot, key, ciphertext)
        logger.info("daily balance snapshots", extra=report.as_dict())
        return report
