"""Each strategy's open trade, measured on the market every minute by the trade monitor.

One candles request per strategy with an open trade; only complete 1-minute candles are applied (the
forming one is read again next time), each in order, so a minute that reaches both the stop and a
take-profit is judged on its own (the stop first).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from core.errors import ApiError
from core.models.exchange import TradeType
from core.observability import logger
from core.ports import ExchangeMarketData
from core.repositories.catalog import CatalogRepository
from core.repositories.strategy_trades import StrategyTradeRepository
from core.services.strategy_track_record import apply_candle
from core.timeutil import to_iso

MINUTE_MS = 60_000


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


class StrategyTradeWatcher:
    def __init__(
        self,
        catalog: CatalogRepository,
        trades: StrategyTradeRepository,
        market: ExchangeMarketData,
    ) -> None:
        self._catalog = catalog
        self._trades = trades
        self._market = market

    def run(self, now_ms: int, spend: Callable[[int], bool], candles_weight: int) -> int:
        """Applies the complete candles since each open trade's last measure; returns how many closed."""
        closed = 0
        for strategy in self._catalog.list_strategies():
            trade = self._trades.open_trade(strategy.id)
            if trade is None or not spend(candles_weight):
                continue
            since = trade.measured_until_ms or _ms(trade.entered_at or trade.opened_at)
            try:
                candles = self._market.candles(strategy.symbol, TradeType.FUTURES, since)
            except ApiError as error:
                logger.warning(
                    "candles unavailable",
                    extra={"strategy_id": strategy.id, "error_type": type(error).__name__},
                )
                continue
            opened = _ms(trade.opened_at)
            for candle in candles:
                end = candle.open_ms + MINUTE_MS
                if end > now_ms:
                    break  # still forming
                if end <= since or end <= opened:
                    continue  # measured already, or before the signal
                apply_candle(trade, candle.low, candle.high, to_iso(datetime.fromtimestamp(end / 1000, UTC)))
                trade.measured_until_ms = end
                if trade.closed:
                    break
            if trade.closed:
                self._trades.close(trade)
                closed += 1
            else:
                self._trades.save_open(trade)
        return closed
