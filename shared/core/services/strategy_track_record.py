"""Measuring a strategy trade on the market, and a strategy's statistics per period. Pure: no I/O.

Measurement (``strategies.md``):
- Entry: MARKET at the market's last price when the signal arrived; LIMIT once the market trades through
  its price (never, before the next signal: no trade).
- Exits: the take-profits in equal parts, each when the market reaches it; the stop, for what is left,
  when the market reaches it. When one candle's range reaches both, the stop is taken first (the
  pessimistic reading: a candle does not say which came first). A CLOSE signal, or the next OPEN,
  closes what is left at the market's last price.
- Return ``r = side x (exit average - entry) / entry x leverage - fees``, the taker fee charged on the
  entry and on each exit (by the part it closes), times the leverage.

Statistics: per UTC day (``1d``) or calendar month (``1M``), the trades that closed in it, in closing
order: counts, the win rate, the compounded net profit and the largest fall from a peak of the
compounded curve (starting at 1). A period without trades has nulls and zero counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from core.models.strategy_track import Interval, PeriodStatistics, StrategyExit, StrategyTrade
from core.models.trading import CloseReason, EntryType, Side

DECIMALS = 8


def _reached(side: Side, level: float, low: float, high: float, *, profit: bool) -> bool:
    """Whether a range reaches a take-profit (``profit``) or a stop of a trade on ``side``."""
    long = side is Side.BUY
    if profit:
        return high >= level if long else low <= level
    return low <= level if long else high >= level


def _settle(trade: StrategyTrade, reason: CloseReason, at: str) -> None:
    assert trade.entry_price is not None
    closed = sum(exit_.fraction for exit_ in trade.exits)
    average = sum(exit_.price * exit_.fraction for exit_ in trade.exits) / closed
    direction = 1 if trade.side is Side.BUY else -1
    gross = direction * (average - trade.entry_price) / trade.entry_price * trade.leverage
    fees = trade.fee_rate * trade.leverage * (1 + closed)
    trade.return_fraction = round(gross - fees, 12)
    trade.closed_at = at
    trade.close_reason = reason


def _exit(trade: StrategyTrade, price: float, fraction: float, reason: CloseReason, at: str) -> None:
    trade.exits.append(StrategyExit(price=price, fraction=fraction, reason=reason, at=at))


def start_trade(trade: StrategyTrade, last_price: float) -> StrategyTrade:
    """A new trade: a MARKET entry is taken at once at the market's last price."""
    if trade.entry_type is EntryType.MARKET:
        trade.entry_price = last_price
        trade.entered_at = trade.opened_at
    return trade


def apply_candle(trade: StrategyTrade, low: float, high: float, at: str) -> StrategyTrade:
    """One candle's range applied to an open trade: its entry, then its exits (the stop first)."""
    if trade.closed:
        return trade
    if not trade.entered:
        assert trade.limit_price is not None
        if not low <= trade.limit_price <= high:
            return trade
        trade.entry_price = trade.limit_price
        trade.entered_at = at
    if _reached(trade.side, trade.stop, low, high, profit=False):
        _exit(trade, trade.stop, trade.remaining, CloseReason.STOP_LOSS, at)
        _settle(trade, CloseReason.STOP_LOSS, at)
        return trade
    part = 1.0 / len(trade.take_profits) if trade.take_profits else 0.0
    for level in trade.take_profits[trade.filled_take_profits :]:
        if not _reached(trade.side, level, low, high, profit=True):
            break
        trade.filled_take_profits += 1
        last = trade.filled_take_profits == len(trade.take_profits)
        _exit(trade, level, trade.remaining if last else part, CloseReason.TAKE_PROFIT, at)
        if last:
            _settle(trade, CloseReason.TAKE_PROFIT, at)
            break
    return trade


def close_at_market(trade: StrategyTrade, last_price: float, at: str) -> StrategyTrade | None:
    """A CLOSE signal or the next OPEN: what is left exits at the last price. A LIMIT entry the market
    never reached was no trade at all (None)."""
    if trade.closed:
        return trade
    if not trade.entered:
        return None
    if trade.remaining > 0:
        _exit(trade, last_price, trade.remaining, CloseReason.SIGNAL, at)
    _settle(trade, CloseReason.SIGNAL, at)
    return trade


# ---------------------------------------------------------------- statistics


def _period_start(moment: date, interval: Interval) -> date:
    return moment if interval is Interval.DAY else moment.replace(day=1)


def _next_period(start: date, interval: Interval) -> date:
    if interval is Interval.DAY:
        return start + timedelta(days=1)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def _previous_period(start: date, interval: Interval) -> date:
    if interval is Interval.DAY:
        return start - timedelta(days=1)
    return (start - timedelta(days=1)).replace(day=1)


def periods(now: datetime, interval: Interval, limit: int) -> list[tuple[date, date]]:
    """The ``limit`` periods ending with the current one, newest first, as [start, end)."""
    start = _period_start(now.astimezone(UTC).date(), interval)
    ranges = []
    for _ in range(limit):
        ranges.append((start, _next_period(start, interval)))
        start = _previous_period(start, interval)
    return ranges


def statistics(trades: Iterable[StrategyTrade], start: date, end: date) -> PeriodStatistics:
    """The statistics of the closed trades among ``trades`` (any order), over their closing order."""
    closed = sorted(
        (t for t in trades if t.closed and t.return_fraction is not None), key=lambda t: t.closed_at or ""
    )
    base = {"start": start.isoformat(), "end_at": end.isoformat()}
    if not closed:
        return PeriodStatistics(
            **base, net_profit_percent=None, win_rate=None, max_draw_down=None, trades=0, long=0, short=0
        )
    equity = peak = 1.0
    draw_down = 0.0
    for trade in closed:
        equity *= 1 + (trade.return_fraction or 0.0)
        peak = max(peak, equity)
        draw_down = max(draw_down, (peak - equity) / peak)
    return PeriodStatistics(
        **base,
        net_profit_percent=round((equity - 1) * 100, DECIMALS),
        win_rate=round(sum(1 for t in closed if t.won) / len(closed), DECIMALS),
        max_draw_down=round(draw_down, DECIMALS),
        trades=len(closed),
        long=sum(1 for t in closed if t.side is Side.BUY),
        short=sum(1 for t in closed if t.side is Side.SELL),
    )


def closing_date(trade: StrategyTrade) -> date:
    assert trade.closed_at is not None
    return datetime.fromisoformat(trade.closed_at.replace("Z", "+00:00")).astimezone(UTC).date()


def history(
    trades: list[StrategyTrade], now: datetime, interval: Interval, limit: int
) -> list[PeriodStatistics]:
    """Per period, newest first; each trade counts in the period in which it closed."""
    return [
        statistics((t for t in trades if t.closed and start <= closing_date(t) < end), start, end)
        for start, end in periods(now, interval, limit)
    ]


def performance(
    trades: list[StrategyTrade], now: datetime, interval: Interval, limit: int
) -> PeriodStatistics:
    """The same over the whole range of the ``limit`` periods."""
    ranges = periods(now, interval, limit)
    start, end = ranges[-1][0], ranges[0][1]
    return statistics((t for t in trades if t.closed and start <= closing_date(t) < end), start, end)
