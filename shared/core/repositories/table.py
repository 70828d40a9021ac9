"""The single DynamoDB table every repository shares.

Key design (the README lists every access pattern and the key or index that serves it):

| item                  | PK                     | SK                 |
|-----------------------|------------------------|--------------------|
| plan                  | CATALOG#PLAN           | <plan id>          |
| risk profile          | CATALOG#RISK_PROFILE   | <profile id>       |
| strategy              | CATALOG#STRATEGY       | <strategy id>      |
| profile               | USER#<sub>             | PROFILE            |
| current subscription  | USER#<sub>             | SUBSCRIPTION       |

Items a user owns always live under ``USER#<sub>``, so a lookup by another user's id finds nothing.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model

from core.config import get_settings


class _SettingsBoundMeta(type):
    """Resolves the table name from the settings when pynamodb first connects, not at import."""

    @property
    def table_name(cls) -> str:
        return get_settings().table_name


class MainTableMeta(metaclass=_SettingsBoundMeta):
    connect_timeout_seconds = 2
    read_timeout_seconds = 5
    max_retry_attempts = 3


class MainTableModel(Model):
    """Every item of the main table: a partition key and a sort key, named generically for single-table use."""

    class Meta(MainTableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK")


def user_partition(user_id: str) -> str:
    return f"USER#{user_id}"


M = TypeVar("M", bound=MainTableModel)


def query_page(
    model: type[M],
    partition: str,
    condition: Any,
    limit: int,
    start_key: dict[str, Any] | None,
    newest_first: bool = True,
    filter_condition: Any = None,
) -> tuple[list[M], dict[str, Any] | None]:
    """One page of a partition and the start key of the next page, or None when nothing follows.

    Asking for one item more than the page tells whether another page exists, so a client never
    follows a token to an empty page. The start key is DynamoDB's typed form (``{"PK": {"S": ...}}``).
    """
    items = list(
        model.query(
            partition,
            condition,
            filter_condition=filter_condition,
            scan_index_forward=not newest_first,
            limit=limit + 1,
            last_evaluated_key=start_key,
        )
    )
    page = items[:limit]
    next_key = {"PK": {"S": page[-1].pk}, "SK": {"S": page[-1].sk}} if len(items) > limit else None
    return page, next_key
