"""The trade monitor measures each strategy's open trade on complete 1-minute candles."""

from __future__ import annotations

from core.models.catalog import Strategy
from core.models.strategy_track import StrategyTrade
from core.models.trading import Candle, EntryType, Side
from core.services.strategy_track_record import start_trade
from core.services.strategy_watch import StrategyTradeWatcher
from core.timeutil import to_iso

MINUTE = 60_000
T0 = 1_665_522_360_000  # 2022-10-11T21:06:00Z, a minute's start
STRATEGY = Strategy(
    id="s1", active=True, name="S", exchange_id="BINANCE", symbol="BTC/USDT", created_at="x", updated_at="x"
)


class Catalog:
    def list_strategies(self):
        return [STRATEGY]


class Trades:
    def __init__(self, trade):
        self.open, self.closed = trade, []

    def open_trade(self, strategy_id):
        return self.open

    def save_open(self, trade):
        self.open = trade

    def close(self, trade):
        self.closed.append(trade)
        self.open = None


class Market:
    def __init__(self, candles):
        self.candles_list, self.reads = candles, 0

    def candles(self, symbol, trade_type, since_ms):
        self.reads += 1
        return [c for c in self.candles_list if c.open_ms + MINUTE > since_ms]


def candle(minute: int, low: float, high: float) -> Candle:
    return Candle(open_ms=T0 + minute * MINUTE, open=low, high=high, low=low, close=high)


def opened_trade() -> StrategyTrade:
    from datetime import UTC, datetime

    trade = StrategyTrade(
        strategy_id="s1",
        trade_id="t",
        side=Side.BUY,
        entry_type=EntryType.MARKET,
        take_profits=[19400.0, 19600.0],
        stop=19000.0,
        opened_at=to_iso(datetime.fromtimestamp((T0 + 10_000) / 1000, UTC)),
    )
    return start_trade(trade, 19200.0)


def spend(_: int) -> bool:
    return True


def test_complete_candles_take_the_first_take_profit_then_the_stop_closes_the_trade():
    trades = Trades(opened_trade())
    market = Market(
        [candle(0, 19150, 19250), candle(1, 19300, 19450), candle(2, 18950, 19300), candle(3, 19000, 19100)]
    )
    watcher = StrategyTradeWatcher(Catalog(), trades, market)
    # When only the first two minutes are over, the first take-profit fills and the trade stays open
    assert watcher.run(now_ms=T0 + 2 * MINUTE, spend=spend, candles_weight=5) == 0
    assert (trades.open.filled_take_profits, trades.open.measured_until_ms) == (1, T0 + 2 * MINUTE)
    # When the third minute is over, its fall reaches the stop: closed, measured once per candle
    assert watcher.run(now_ms=T0 + 3 * MINUTE + 1, spend=spend, candles_weight=5) == 1
    (closed,) = trades.closed
    assert closed.close_reason == "STOP_LOSS"
    assert [(e.price, e.fraction) for e in closed.exits] == [(19400.0, 0.5), (19000.0, 0.5)]


def test_a_forming_candle_is_not_applied_and_no_open_trade_costs_nothing():
    trades = Trades(opened_trade())
    market = Market([candle(0, 18000, 20000)])
    watcher = StrategyTradeWatcher(Catalog(), trades, market)
    assert watcher.run(now_ms=T0 + 30_000, spend=spend, candles_weight=5) == 0
    assert trades.open.exits == []
    idle = StrategyTradeWatcher(Catalog(), Trades(None), market)
    market.reads = 0
    idle.run(now_ms=T0 + 5 * MINUTE, spend=spend, candles_weight=5)
    assert market.reads == 0
