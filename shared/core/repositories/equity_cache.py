"""The equity cache: each key's latest account read (USDT wallet balance, busy symbols), for the fan-out.

| item          | PK          | SK              |
|---------------|-------------|-----------------|
| account read  | USER#<sub>  | EQUITY#<keyId>  |

Reading 1,000 followers' accounts at a signal costs 5,000 request weight (``GET /fapi/v3/account``
weighs 5), more than one egress IP's minute; a follower is therefore sized from the last read of its
account when that read is recent enough (``strategies.md`` "Scale"). Every account read the fan-out
makes is written here; a write never replaces a newer read with an older one.
"""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute
from pynamodb.exceptions import PutError

from core.models.trading import AccountSnapshot
from core.repositories.table import ItemRead, MainTableModel, condition_failed, user_partition

EQUITY_PREFIX = "EQUITY#"


class EquityItem(MainTableModel):
    equity_usdt = NumberAttribute()
    busy_symbols = JSONAttribute(default=list)  # the API symbols, e.g. ["BTC/USDT"]
    read_at_ms = NumberAttribute()


def _snapshot(item: EquityItem) -> AccountSnapshot:
    return AccountSnapshot(
        equity_usdt=float(item.equity_usdt),
        busy_symbols=frozenset(item.busy_symbols or []),
        read_at_ms=int(item.read_at_ms),
    )


class EquityCacheRepository:
    def get(self, user_id: str, key_id: str) -> AccountSnapshot | None:
        try:
            item = EquityItem.get(user_partition(user_id), f"{EQUITY_PREFIX}{key_id}")
        except EquityItem.DoesNotExist:
            return None
        return _snapshot(item)

    def read(self, user_id: str, key_id: str) -> ItemRead[AccountSnapshot]:
        """``get`` as one read of several (``read_items``)."""
        return ItemRead(EquityItem, user_partition(user_id), f"{EQUITY_PREFIX}{key_id}", _snapshot)

    def save(self, user_id: str, key_id: str, snapshot: AccountSnapshot) -> None:
        item = EquityItem(
            pk=user_partition(user_id),
            sk=f"{EQUITY_PREFIX}{key_id}",
            equity_usdt=snapshot.equity_usdt,
            busy_symbols=sorted(snapshot.busy_symbols),
            read_at_ms=snapshot.read_at_ms,
        )
        try:
            item.save(
                condition=EquityItem.pk.does_not_exist() | (EquityItem.read_at_ms < snapshot.read_at_ms)
            )
        except PutError as error:
            if not condition_failed(error):  # else a newer read is there already
                raise

    def forget(self, user_id: str, key_id: str) -> None:
        EquityItem(pk=user_partition(user_id), sk=f"{EQUITY_PREFIX}{key_id}").delete()
