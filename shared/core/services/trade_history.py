"""What a user traded: the trades that placed an entry, newest first, by who asked for them."""

from __future__ import annotations

from typing import Any

from core.models.trading import Origin
from core.repositories.trade_history import TradePage, TradeRepository


class TradeHistoryService:
    def __init__(self, trades: TradeRepository) -> None:
        self._trades = trades

    def manual_history(
        self, user_id: str, start: str | None, limit: int, start_key: dict[str, Any] | None
    ) -> TradePage:
        """One page of the user's manual trades from ``start`` (an ISO date) on, newest first."""
        return self._trades.history(user_id, Origin.MANUAL, start, limit, start_key)
