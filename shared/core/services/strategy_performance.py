"""A strategy's public track record: its history per period, its performance over the range, the trades."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from core.errors import NotFoundError
from core.models.strategy_track import Interval, PeriodStatistics
from core.repositories.catalog import CatalogRepository
from core.repositories.strategy_trades import StrategyTradePage, StrategyTradeRepository
from core.services.strategy_track_record import history, performance, periods
from core.timeutil import utc_now


class StrategyPerformanceService:
    def __init__(
        self,
        catalog: CatalogRepository,
        trades: StrategyTradeRepository,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._catalog = catalog
        self._trades = trades
        self._now = now

    def _closed_in_range(
        self, strategy_id: str, interval: Interval, limit: int
    ) -> tuple[datetime, list[Any]]:
        if self._catalog.get_strategy(strategy_id) is None:
            raise NotFoundError
        now = self._now()
        ranges = periods(now, interval, limit)
        start, end = ranges[-1][0], ranges[0][1]
        return now, self._trades.closed_between(strategy_id, start.isoformat(), end.isoformat())

    def history(self, strategy_id: str, interval: Interval, limit: int) -> list[PeriodStatistics]:
        now, trades = self._closed_in_range(strategy_id, interval, limit)
        return history(trades, now, interval, limit)

    def performance(self, strategy_id: str, interval: Interval, limit: int) -> PeriodStatistics:
        now, trades = self._closed_in_range(strategy_id, interval, limit)
        return performance(trades, now, interval, limit)

    def trades(self, strategy_id: str, limit: int, start_key: dict[str, Any] | None) -> StrategyTradePage:
        if self._catalog.get_strategy(strategy_id) is None:
            raise NotFoundError
        return self._trades.closed_page(strategy_id, limit, start_key)
