"""The record of every manual order: what the user asked, every order sent and every compensation.

| item          | PK          | SK                                        |
|---------------|-------------|-------------------------------------------|
| manual order  | USER#<sub>  | MANUAL_ORDER#<createdAt>#<requestId>      |

Written before the first exchange call and after each step, so even an interrupted request leaves
a trail. The history route lists the records that placed an entry, newest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import JSONAttribute, UnicodeAttribute

from core.models.trading import ManualOrderRecord
from core.repositories.table import MainTableModel, query_page, user_partition

MANUAL_PREFIX = "MANUAL_ORDER#"


class ManualOrderItem(MainTableModel):
    order_id = UnicodeAttribute(null=True)
    outcome = UnicodeAttribute()
    record = JSONAttribute()


@dataclass(frozen=True)
class ManualOrderPage:
    records: list[ManualOrderRecord]
    next_start_key: dict[str, Any] | None


class ManualOrderRepository:
    def save(self, record: ManualOrderRecord) -> None:
        ManualOrderItem(
            pk=user_partition(record.user_id),
            sk=f"{MANUAL_PREFIX}{record.created_at}#{record.request_id}",
            order_id=record.order_id,
            outcome=record.outcome,
            record=record.model_dump(mode="json"),
        ).save()

    def history(
        self, user_id: str, start: str | None, limit: int, start_key: dict[str, Any] | None
    ) -> ManualOrderPage:
        condition = (
            ManualOrderItem.sk.between(f"{MANUAL_PREFIX}{start}", f"{MANUAL_PREFIX}~")
            if start
            else ManualOrderItem.sk.startswith(MANUAL_PREFIX)
        )
        page, next_key = query_page(
            ManualOrderItem,
            user_partition(user_id),
            condition,
            limit,
            start_key,
            filter_condition=ManualOrderItem.order_id.exists(),
        )
        return ManualOrderPage([ManualOrderRecord(**item.record) for item in page], next_key)
