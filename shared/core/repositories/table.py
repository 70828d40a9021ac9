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
