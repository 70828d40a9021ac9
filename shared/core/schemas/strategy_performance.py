"""Shapes of a strategy's public track record (history and performance as the reference shows them)."""

from __future__ import annotations

from pydantic import Field

from core.models.base import Model
from core.models.strategy_track import PeriodStatistics, StrategyTrade


class PerformanceOut(Model):
    netProfitPercent: float | None = Field(
        description="Compounded net profit of the range's trades, in percent"
    )
    winRate: float | None = Field(description="Winning trades / trades")
    maxDrawDown: float | None = Field(
        description="Largest fall from a peak of the compounded curve, as a fraction"
    )
    trades: int = Field(description="Total trades of the range")
    long: int = Field(description="LONG trades of the range")
    short: int = Field(description="SHORT trades of the range")

    @classmethod
    def of(cls, stats: PeriodStatistics) -> PerformanceOut:
        return cls(
            netProfitPercent=stats.net_profit_percent,
            winRate=stats.win_rate,
            maxDrawDown=stats.max_draw_down,
            trades=stats.trades,
            long=stats.long,
            short=stats.short,
        )


class HistoryItemOut(PerformanceOut):
    start: str = Field(description="Range start (inclusive), YYYY-MM-DD")
    endAt: str = Field(description="Range end (exclusive), YYYY-MM-DD")

    @classmethod
    def of(cls, stats: PeriodStatistics) -> HistoryItemOut:
        return cls(start=stats.start, endAt=stats.end_at, **PerformanceOut.of(stats).model_dump())


class HistoryOut(Model):
    items: list[HistoryItemOut]


class StrategyExitOut(Model):
    price: float
    part: float = Field(description="Share of the trade's size this exit closed")
    reason: str = Field(description="TAKE_PROFIT, STOP_LOSS or SIGNAL")
    at: str


class StrategyTradeOut(Model):
    id: str
    side: str
    leverage: int
    entry: float | None
    exits: list[StrategyExitOut]
    returnPercent: float | None = Field(description="The trade's return, fees included, in percent")
    reason: str | None
    openedAt: str
    closedAt: str | None

    @classmethod
    def of(cls, trade: StrategyTrade) -> StrategyTradeOut:
        return cls(
            id=trade.trade_id,
            side=trade.side.value,
            leverage=trade.leverage,
            entry=trade.entry_price,
            exits=[
                StrategyExitOut(price=e.price, part=e.fraction, reason=e.reason.value, at=e.at)
                for e in trade.exits
            ],
            returnPercent=round(trade.return_fraction * 100, 8)
            if trade.return_fraction is not None
            else None,
            reason=trade.close_reason.value if trade.close_reason else None,
            openedAt=trade.opened_at,
            closedAt=trade.closed_at,
        )


class StrategyTradesOut(Model):
    items: list[StrategyTradeOut]
    nextToken: str | None
