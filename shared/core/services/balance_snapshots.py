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
from core.models.exchange import BalanceSnapshot, ExchangeId, ExchangeKey, KeyStatus
from core.observability import logger
from core.ports import ExchangeConnector, SecretCipher
from core.repositories.exchange_keys import ExchangeKeyRepository
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


def take_daily_snapshots(
    keys: ExchangeKeyRepository,
    connector: ExchangeConnector,
    cipher: SecretCipher,
    date: str,
    concurrency: int,
    time_left_ms: Callable[[], int],
    reserve_ms: int = 30_000,
) -> SnapshotReport:
    report = SnapshotReport(date=date)
    prices = connector.market_data(ExchangeId.BINANCE).usd_prices()

    def snapshot(key: ExchangeKey, ciphertext: bytes) -> None:
        if time_left_ms() < reserve_ms:
            report.count("not_reached")
            return
        try:
            secret = cipher.decrypt(key.user_id, key.id, ciphertext)
            balance = connector.account(key.exchange_id, key.trade_type, key.api_key, secret).balance()
            total = usd_value(balance.total, prices)
            keys.record_snapshot(key, BalanceSnapshot(key_id=key.id, date=date, total_usd=total), iso_now())
            report.count("snapshotted")
        except ExchangeAuthorizationFailed:
            keys.mark_status(key, KeyStatus.UNAUTHORIZED, iso_now())
            report.count("unauthorized")
        except Exception as error:  # one key's failure must not stop the others; it is retried next run
            logger.warning("snapshot failed", extra={"key_id": key.id, "error_type": type(error).__name__})
            keys.mark_status(key, KeyStatus.FAILED, iso_now())
            report.count("failed")

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for key, ciphertext in keys.active_keys():
            if key.balance_date == date:
                report.count("skipped")
                continue
            pool.submit(snapshot, key, ciphertext)
    logger.info("daily balance snapshots", extra=report.as_dict())
    return report
