"""Where the trade monitor left off: per symbol, the start of the next price range to read.

| item           | PK              | SK               |
|----------------|-----------------|------------------|
| monitor cursor | MONITOR#CURSOR  | <market>#<symbol> |
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute

from core.repositories.table import MainTableModel

PARTITION = "MONITOR#CURSOR"


class MonitorCursorItem(MainTableModel):
    since_ms = NumberAttribute()


class MonitorCursorRepository:
    def since(self, market: str, symbol: str) -> int | None:
        try:
            return int(MonitorCursorItem.get(PARTITION, f"{market}#{symbol}").since_ms)
        except MonitorCursorItem.DoesNotExist:
            return None

    def advance(self, market: str, symbol: str, since_ms: int) -> None:
        MonitorCursorItem(pk=PARTITION, sk=f"{market}#{symbol}", since_ms=since_ms).save()
