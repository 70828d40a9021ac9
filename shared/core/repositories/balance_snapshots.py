"""Daily balance snapshots of exchange keys.

| item             | PK           | SK               | notes                                 |
|------------------|--------------|------------------|---------------------------------------|
| balance snapshot | KEY#<keyId>  | SNAPSHOT#<date>  | one per key per day, newest first     |

The latest value is also kept on the key item itself (``ExchangeKeyRepository.record_snapshot`` writes
both), so the total balance is one Query of the user's keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from core.models.exchange import BalanceSnapshot, ExchangeKey
from core.repositories.table import MainTableModel, query_page

KEY_PREFIX = "KEY#"
SNAPSHOT_PREFIX = "SNAPSHOT#"


class BalanceSnapshotItem(MainTableModel):
    user_id = UnicodeAttribute()
    total_usd = NumberAttribute()
    taken_at = UnicodeAttribute()


@dataclass(frozen=True)
class SnapshotPage:
    snapshots: list[BalanceSnapshot]
    next_start_key: dict[str, dict[str, str]] | None  # DynamoDB's typed form, e.g. {"PK": {"S": "..."}}


class BalanceSnapshotRepository:
    def page(
        self, key_id: str, start: str | None, limit: int, start_key: dict[str, dict[str, str]] | None
    ) -> SnapshotPage:
        """The key's snapshots newest first, from ``start`` (a date) on when given."""
        condition = (
            BalanceSnapshotItem.sk.between(f"{SNAPSHOT_PREFIX}{start}", f"{SNAPSHOT_PREFIX}~")
            if start
            else BalanceSnapshotItem.sk.startswith(SNAPSHOT_PREFIX)
        )
        page, next_key = query_page(BalanceSnapshotItem, f"{KEY_PREFIX}{key_id}", condition, limit, start_key)
        snapshots = [
            BalanceSnapshot(
                key_id=key_id, date=item.sk.removeprefix(SNAPSHOT_PREFIX), total_usd=item.total_usd
            )
            for item in page
        ]
        return SnapshotPage(snapshots, next_key)

    def save(self, key: ExchangeKey, snapshot: BalanceSnapshot, now: str) -> None:
        """One snapshot per key per day: a second run the same day overwrites it with the same key."""
        BalanceSnapshotItem(
            pk=f"{KEY_PREFIX}{key.id}",
            sk=f"{SNAPSHOT_PREFIX}{snapshot.date}",
            user_id=key.user_id,
            total_usd=snapshot.total_usd,
            taken_at=now,
        ).save()
