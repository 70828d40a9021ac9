"""Public market data: what the exchange quotes now, for anyone."""

from __future__ import annotations

from typing import Any

from core.models.exchange import TradeType
from core.ports import ExchangeMarketData


class MarketService:
    def __init__(self, market_data: ExchangeMarketData) -> None:
        self._market_data = market_data

    def ticker(self, symbol: str, trade_type: TradeType) -> dict[str, Any]:
        return self._market_data.ticker(symbol, trade_type)
