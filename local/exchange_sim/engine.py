"""The engine behind the simulated Binance endpoints: one object composed of the trading parts.

The model is deliberately simple where the project does not care and faithful where it does. It is
split along its seams, each a module:

* ``model``: the data (accounts, wallets, orders, conditional orders, positions, the clock) and the
  market rules every part shares;
* ``state``: ``EngineState``, the accounts, prices, price history, id sequences and bookkeeping;
* ``spot``: spot orders and their matching;
* ``margin`` and ``futures``: USD-M settings and figures, then regular MARKET/LIMIT orders;
* ``conditional``: USD-M conditional (algo) orders, which become regular orders when they trigger.

One price per pair drives spot and futures alike (``market.PriceBook``); there is no funding, no
liquidation engine and no hedge mode. Every public method takes ``Engine.lock`` (re-entrant), so the
HTTP layer can also hold it around a whole request to make "mutate, then render" atomic.
"""

from __future__ import annotations

from decimal import Decimal

from local.exchange_sim.conditional import ConditionalOrders
from local.exchange_sim.model import (
    FUTURES_CONDITIONAL_TYPES,
    MAX_NUM_ALGO_ORDERS,
    MAX_NUM_ORDERS,
    SPOT_MAX_NUM_ALGO_ORDERS,
    SPOT_MAX_NUM_ORDERS,
    SPOT_ORDER_TYPES,
    TIME_IN_FORCE,
    Account,
    AlgoOrder,
    AlgoOrderRequest,
    Clock,
    FuturesOrderRequest,
    FuturesSummary,
    Order,
    PositionMetrics,
    Side,
    SpotOrderRequest,
    Trade,
)
from local.exchange_sim.spot import SpotTrading

__all__ = [
    "FUTURES_CONDITIONAL_TYPES",
    "MAX_NUM_ALGO_ORDERS",
    "MAX_NUM_ORDERS",
    "SPOT_MAX_NUM_ALGO_ORDERS",
    "SPOT_MAX_NUM_ORDERS",
    "SPOT_ORDER_TYPES",
    "TIME_IN_FORCE",
    "Account",
    "AlgoOrder",
    "AlgoOrderRequest",
    "Clock",
    "Engine",
    "FuturesOrderRequest",
    "FuturesSummary",
    "Order",
    "PositionMetrics",
    "Side",
    "SpotOrderRequest",
    "Trade",
]


class Engine(SpotTrading, ConditionalOrders):
    """All simulator state and trading. Thread-safe through ``lock``."""

    def set_price(self, pair: str, price: Decimal) -> None:
        """Move a pair's price and record it; then fill crossed limits, fire triggers and trail."""
        if price <= 0:
            raise ValueError("price must be positive")
        with self.lock:
            self.book.set(pair, price)
            self.history[pair].record(price, self.clock.now_ms())
            specs = self.markets.for_pair(pair)
            for account in list(self.accounts.values()):
                for spec in specs:
                    if spec.kind == "spot":
                        self._spot_on_price(account, spec)
                    else:
                        self._fill_crossed_limits(account, spec)
                        self._fire_triggers(account, spec)
