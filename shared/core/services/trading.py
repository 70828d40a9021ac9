"""A key's orders, trades and position on the exchange, with the key rules of every route.

| rule                                        | answer |
|---------------------------------------------|--------|
| the key is not the caller's                 | 404    |
| position, leverage, margin on a SPOT key    | 1106   |
| manual order with an AUTOMATED key          | 1106   |
| manual order with a SPOT key                | 1115   |
| a route that trades with an inactive key    | 1110   |
"""

from __future__ import annotations

from core.errors import ExchangeKeyInactive, ExchangeKeyTypeInvalid, ExchangeKeyTypeUnsupported
from core.models.exchange import ExchangeKey, KeyStatus, StrategyType, TradeType
from core.models.trading import ExchangeFill, ExchangeOrder, ExchangePosition, OrderRequest, Origin
from core.services.key_accounts import KeyAccounts
from core.services.order_engine import OrderEngine, PlacedTrade, TradeOwner
from core.services.order_planner import ClientOrderIds


def futures_only(key: ExchangeKey) -> None:
    if key.trade_type is not TradeType.FUTURES:
        raise ExchangeKeyTypeInvalid


def manual_futures(key: ExchangeKey) -> None:
    if key.strategy_type is not StrategyType.MANUAL:
        raise ExchangeKeyTypeInvalid
    if key.trade_type is not TradeType.FUTURES:
        raise ExchangeKeyTypeUnsupported


def trading_allowed(key: ExchangeKey) -> None:
    if not key.active or key.status is KeyStatus.UNAUTHORIZED:
        raise ExchangeKeyInactive


class TradingService:
    def __init__(self, accounts: KeyAccounts, engine: OrderEngine) -> None:
        self._accounts = accounts
        self._engine = engine

    def open_orders(self, user_id: str, key_id: str, symbol: str) -> list[ExchangeOrder]:
        return self._accounts.trading(user_id, key_id)[1].open_orders(symbol)

    def order_history(self, user_id: str, key_id: str, symbol: str) -> list[ExchangeOrder]:
        return self._accounts.trading(user_id, key_id)[1].order_history(symbol)

    def trades(self, user_id: str, key_id: str, symbol: str) -> list[ExchangeFill]:
        return self._accounts.trading(user_id, key_id)[1].fills(symbol)

    def position(self, user_id: str, key_id: str, symbol: str) -> ExchangePosition | None:
        return self._accounts.trading(user_id, key_id, futures_only)[1].position(symbol)

    def set_leverage(self, user_id: str, key_id: str, symbol: str, leverage: int) -> None:
        self._accounts.trading(user_id, key_id, futures_only, trading_allowed)[1].set_leverage(
            symbol, leverage
        )

    def set_margin_mode(self, user_id: str, key_id: str, symbol: str, margin_type: str) -> None:
        mode = {"ISOLATED": "isolated", "CROSSED": "cross"}[margin_type]
        self._accounts.trading(user_id, key_id, futures_only, trading_allowed)[1].set_margin_mode(
            symbol, mode
        )

    def cancel_position(self, user_id: str, key_id: str, symbol: str) -> None:
        """Flattens the symbol: what could add to the position is cancelled, the position closed (reduce-only),
        then its exits, so a close the exchange refuses leaves the position with its stop.

        The trades open on the symbol end with it (reason MANUAL)."""
        key, account = self._accounts.trading(user_id, key_id, futures_only, trading_allowed)
        closed = account.flatten(symbol, ClientOrderIds.for_request(user_id, key.id, None).close)
        self._engine.end_replaced_trades(key.id, symbol, closed)

    def place_manual_order(
        self, user_id: str, key_id: str, request: OrderRequest, idempotency_key: str | None
    ) -> PlacedTrade:
        key, account = self._accounts.trading(user_id, key_id, manual_futures, trading_allowed)
        ids = ClientOrderIds.for_request(user_id, key.id, idempotency_key, Origin.MANUAL)
        return self._engine.place(account, TradeOwner(user_id, key.id, Origin.MANUAL), request, ids)
