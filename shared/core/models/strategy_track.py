"""A strategy's own track record: each OPEN signal starts one strategy trade, measured on the market
(``strategies.md``, "Track record and statistics"), whatever any follower's fills were."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from core.models.base import Model
from core.models.trading import CloseReason, EntryType, Side

# Binance USD-M's standard taker fee, charged on the entry and on each exit.
TAKER_FEE = 0.0005


class Interval(StrEnum):
    DAY = "1d"
    MONTH = "1M"


class StrategyExit(Model):
    price: float
    fraction: float  # of the trade's size
    reason: CloseReason
    at: str


class StrategyTrade(Model):
    strategy_id: str
    trade_id: str  # the trigger that opened it
    side: Side
    entry_type: EntryType
    leverage: int = 1
    limit_price: float | None = None  # a LIMIT entry waits for the market to trade through it
    take_profits: list[float] = Field(default_factory=list)
    stop: float
    fee_rate: float = TAKER_FEE
    opened_at: str  # when the signal arrived
    entry_price: float | None = None  # None until entered
    entered_at: str | None = None
    exits: list[StrategyExit] = Field(default_factory=list)
    filled_take_profits: int = 0
    closed_at: str | None = None
    close_reason: CloseReason | None = None
    return_fraction: float | None = None  # r: side x (exit average - entry) / entry x leverage - fees
    measured_until_ms: int | None = None  # the end of the last complete candle applied

    @property
    def entered(self) -> bool:
        return self.entry_price is not None

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    @property
    def remaining(self) -> float:
        return max(0.0, 1.0 - sum(exit_.fraction for exit_ in self.exits))

    @property
    def won(self) -> bool:
        return (self.return_fraction or 0.0) > 0


class PeriodStatistics(Model):
    start: str  # inclusive, YYYY-MM-DD
    end_at: str  # exclusive
    net_profit_percent: float | None
    win_rate: float | None
    max_draw_down: float | None
    trades: int
    long: int
    short: int
