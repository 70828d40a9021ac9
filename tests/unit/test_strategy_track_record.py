"""A strategy's track record measured on the market, and its statistics per period, as strategies.md defines them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core.models.strategy_track import Interval, StrategyTrade
from core.models.trading import EntryType, Side
from core.services.strategy_track_record import (
    apply_candle,
    close_at_market,
    history,
    performance,
    periods,
    start_trade,
    statistics,
)

FEE = 0.0005


def trade(side=Side.BUY, entry_type=EntryType.MARKET, leverage=1, **fields) -> StrategyTrade:
    values = {
        "strategy_id": "s",
        "trade_id": "t",
        "side": side,
        "entry_type": entry_type,
        "leverage": leverage,
        "take_profits": [110.0, 120.0],
        "stop": 90.0,
        "opened_at": "2022-10-19T10:00:00.000Z",
        **fields,
    }
    return start_trade(StrategyTrade(**values), last_price=100.0)


def closed(r: float, side=Side.BUY, at="2022-10-19T12:00:00.000Z") -> StrategyTrade:
    done = trade(side)
    done.closed_at, done.return_fraction = at, r
    return done


def test_a_long_that_reaches_both_take_profits_returns_their_average_less_fees():
    measured = apply_candle(trade(), low=99, high=121, at="2022-10-19T10:01:00.000Z")
    assert measured.close_reason == "TAKE_PROFIT"
    assert [(e.price, e.fraction) for e in measured.exits] == [(110.0, 0.5), (120.0, 0.5)]
    assert measured.return_fraction == pytest.approx((115 - 100) / 100 - FEE * 2)


def test_one_take_profit_then_the_stop_for_what_is_left():
    measured = apply_candle(trade(), low=100, high=111, at="2022-10-19T10:01:00.000Z")
    assert (measured.filled_take_profits, measured.closed) == (1, False)
    apply_candle(measured, low=89, high=100, at="2022-10-19T10:02:00.000Z")
    assert measured.close_reason == "STOP_LOSS"
    assert [(e.price, e.fraction) for e in measured.exits] == [(110.0, 0.5), (90.0, 0.5)]
    assert measured.return_fraction == pytest.approx((100 - 100) / 100 - FEE * 2)


def test_a_candle_that_reaches_the_stop_and_a_take_profit_takes_the_stop_first():
    measured = apply_candle(trade(), low=89, high=121, at="2022-10-19T10:01:00.000Z")
    assert measured.close_reason == "STOP_LOSS"
    assert measured.return_fraction == pytest.approx(-0.10 - FEE * 2)


def test_a_short_with_leverage_gains_when_the_price_falls_and_pays_fees_times_leverage():
    short = trade(Side.SELL, leverage=5, take_profits=[95.0], stop=105.0)
    apply_candle(short, low=94, high=100, at="2022-10-19T10:01:00.000Z")
    assert short.return_fraction == pytest.approx(5 * 0.05 - FEE * 5 * 2)


def test_a_limit_entry_waits_for_the_market_to_trade_through_it_and_is_no_trade_otherwise():
    waiting = trade(entry_type=EntryType.LIMIT, limit_price=95.0)
    apply_candle(waiting, low=96, high=130, at="2022-10-19T10:01:00.000Z")
    assert not waiting.entered  # the take-profits were reached, but the entry never was
    assert close_at_market(waiting, 100.0, "2022-10-19T11:00:00.000Z") is None
    entered = apply_candle(
        trade(entry_type=EntryType.LIMIT, limit_price=95.0), low=94, high=96, at="2022-10-19T10:01:00.000Z"
    )
    assert (entered.entry_price, entered.closed) == (95.0, False)


def test_a_close_signal_exits_what_is_left_at_the_last_price():
    measured = apply_candle(trade(), low=100, high=111, at="2022-10-19T10:01:00.000Z")
    close_at_market(measured, 104.0, "2022-10-19T11:00:00.000Z")
    assert measured.close_reason == "SIGNAL"
    assert measured.return_fraction == pytest.approx((0.5 * 110 + 0.5 * 104 - 100) / 100 - FEE * 2)


def test_statistics_compound_the_returns_in_closing_order_and_measure_the_deepest_fall():
    trades = [
        closed(0.10, at="2022-10-19T01:00:00.000Z"),
        closed(-0.20, Side.SELL, at="2022-10-19T02:00:00.000Z"),
        closed(0.05, at="2022-10-19T03:00:00.000Z"),
    ]
    stats = statistics(reversed(trades), date(2022, 10, 19), date(2022, 10, 20))
    assert (stats.trades, stats.long, stats.short) == (3, 2, 1)
    assert stats.win_rate == pytest.approx(2 / 3, abs=1e-8)
    assert stats.net_profit_percent == pytest.approx((1.1 * 0.8 * 1.05 - 1) * 100)
    assert stats.max_draw_down == pytest.approx(0.2)  # from the peak of 1.1 down to 0.88


def test_a_period_without_trades_has_nulls_and_zero_counts():
    stats = statistics([], date(2022, 10, 18), date(2022, 10, 19))
    assert stats.model_dump() == {
        "start": "2022-10-18",
        "end_at": "2022-10-19",
        "net_profit_percent": None,
        "win_rate": None,
        "max_draw_down": None,
        "trades": 0,
        "long": 0,
        "short": 0,
    }


def test_periods_are_utc_days_or_calendar_months_newest_first():
    now = datetime(2022, 3, 1, 0, 30, tzinfo=UTC)
    assert periods(now, Interval.DAY, 2) == [
        (date(2022, 3, 1), date(2022, 3, 2)),
        (date(2022, 2, 28), date(2022, 3, 1)),
    ]
    assert periods(now, Interval.MONTH, 3) == [
        (date(2022, 3, 1), date(2022, 4, 1)),
        (date(2022, 2, 1), date(2022, 3, 1)),
        (date(2022, 1, 1), date(2022, 2, 1)),
    ]


def test_history_counts_each_trade_in_the_period_it_closed_and_performance_sums_the_range():
    trades = [closed(0.1, at="2022-10-19T01:00:00.000Z"), closed(-0.05, at="2022-10-17T23:59:59.000Z")]
    now = datetime(2022, 10, 19, 12, tzinfo=UTC)
    days = history(trades, now, Interval.DAY, 3)
    assert [(d.start, d.trades) for d in days] == [("2022-10-19", 1), ("2022-10-18", 0), ("2022-10-17", 1)]
    total = performance(trades, now, Interval.DAY, 3)
    assert total.trades == 2
    assert total.net_profit_percent == pytest.approx((0.95 * 1.1 - 1) * 100)
    assert performance(trades, now, Interval.DAY, 1).trades == 1
