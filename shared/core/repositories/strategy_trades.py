"""A strategy's trades as measured on the market: the one open (or waiting) trade, and the closed ones.

| item                    | PK              | SK                              |
|-------------------------|-----------------|---------------------------------|
| open strategy trade     | STRATEGY#<id>   | OPEN_TRADE                      |
| closed strategy trade   | STRATEGY#<id>   | TRADE#<closedAt>#<tradeId>      |

Each OPEN signal replaces the open trade (closing it first), so a strategy has at most one. Closed
trades sort by when they closed: the statistics of a range are one Query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import JSONAttribute

from core.models.strategy_track import StrategyTrade
from core.repositories.table import MainTableModel, NamedTransaction, query_page

OPEN_TRADE = "OPEN_TRADE"
CLOSED_PREFIX = "TRADE#"


class StrategyTradeItem(MainTableModel):
    trade = JSONAttribute()


def _partition(strategy_id: str) -> str:
    return f"STRATEGY#{strategy_id}"


def _closed_sk(trade: StrategyTrade) -> str:
    return f"{CLOSED_PREFIX}{trade.closed_at}#{trade.trade_id}"


@dataclass(frozen=True)
class StrategyTradePage:
    trades: list[StrategyTrade]
    next_start_key: dict[str, Any] | None


class StrategyTradeRepository:
    def open_trade(self, strategy_id: str) -> StrategyTrade | None:
        try:
            item = StrategyTradeItem.get(_partition(strategy_id), OPEN_TRADE, consistent_read=True)
        except StrategyTradeItem.DoesNotExist:
            return None
        return StrategyTrade(**item.trade)

    def save_open(self, trade: StrategyTrade) -> None:
        StrategyTradeItem(
            pk=_partition(trade.strategy_id), sk=OPEN_TRADE, trade=trade.model_dump(mode="json")
        ).save()

    def close(self, trade: StrategyTrade) -> None:
        """The open trade becomes a closed one, in one transaction."""
        transaction = NamedTransaction()
        transaction.delete("open", StrategyTradeItem(pk=_partition(trade.strategy_id), sk=OPEN_TRADE))
        transaction.save(
            "closed",
            StrategyTradeItem(
                pk=_partition(trade.strategy_id), sk=_closed_sk(trade), trade=trade.model_dump(mode="json")
            ),
        )
        transaction.commit()

    def discard_open(self, strategy_id: str) -> None:
        """A LIMIT entry the market never reached was no trade."""
        StrategyTradeItem(pk=_partition(strategy_id), sk=OPEN_TRADE).delete()

    def closed_between(self, strategy_id: str, start_iso: str, end_iso: str) -> list[StrategyTrade]:
        """The trades that closed in [start, end), oldest first."""
        items = StrategyTradeItem.query(
            _partition(strategy_id),
            StrategyTradeItem.sk.between(f"{CLOSED_PREFIX}{start_iso}", f"{CLOSED_PREFIX}{end_iso}"),
        )
        return [StrategyTrade(**item.trade) for item in items if item.sk < f"{CLOSED_PREFIX}{end_iso}"]

    def closed_page(
        self, strategy_id: str, limit: int, start_key: dict[str, Any] | None
    ) -> StrategyTradePage:
        """Closed trades, newest first."""
        page, next_key = query_page(
            StrategyTradeItem,
            _partition(strategy_id),
            StrategyTradeItem.sk.startswith(CLOSED_PREFIX),
            limit,
            start_key,
        )
        return StrategyTradePage([StrategyTrade(**item.trade) for item in page], next_key)
