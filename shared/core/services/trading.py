"""A key's orders, trades, position and settings on the exchange, with the key rules of every route.

| rule                                        | answer |
|---------------------------------------------|--------|
| the key is not the caller's                 | 404    |
| position, leverage, margin on a SPOT key    | 1106   |
| manual order with an AUTOMATED key          | 1106   |
| manual order with a SPOT key                | 1115   |
| a route that trades with an inactive key    | 1110   |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.errors import ExchangeKeyInactive, ExchangeKeyTypeInvalid, ExchangeKeyTypeUnsupported, NotFoundError
from core.models.exchange import ExchangeKey, KeyStatus, StrategyType, TradeType
from core.models.trading import ManualOrderRequest
from core.ports import ExchangeConnector, SecretCipher, TradingAccount
from core.repositories.exchange_keys import ExchangeKeyRepository
from core.services.manual_orders import ClientOrderIds, ManualOrderService


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
    def __init__(
        self,
        keys: ExchangeKeyRepository,
        connector: ExchangeConnector,
        cipher: SecretCipher,
        manual_orders: ManualOrderService,
    ) -> None:
        self._keys = keys
        self._connector = connector
        self._cipher = cipher
        self._manual_orders = manual_orders

    def _account(
        self, user_id: str, key_id: str, *rules: Callable[[ExchangeKey], None]
    ) -> tuple[ExchangeKey, TradingAccount]:
        """The caller's key (404 otherwise), checked by ``rules`` in order, connected to the exchange."""
        found = self._keys.get_with_secret(user_id, key_id)
        if found is None:
            raise NotFoundError
        key, ciphertext = found
        for rule in rules:
            rule(key)
        secret = self._cipher.decrypt(user_id, key.id, ciphertext)
        account = self._connector.account(key.exchange_id, key.trade_type, key.api_key, secret)
        return key, account  # type: ignore[return-value]

    def open_orders(self, user_id: str, key_id: str, symbol: str) -> list[dict[str, Any]]:
        return self._account(user_id, key_id)[1].open_orders(symbol)

    def order_history(self, user_id: str, key_id: str, symbol: str) -> list[dict[str, Any]]:
        return self._account(user_id, key_id)[1].order_history(symbol)

    def trades(self, user_id: str, key_id: str, symbol: str) -> list[dict[str, Any]]:
        return self._account(user_id, key_id)[1].trades(symbol)

    def position(self, user_id: str, key_id: str, symbol: str) -> dict[str, Any] | None:
        return self._account(user_id, key_id, futures_only)[1].position(symbol)

    def set_leverage(self, user_id: str, key_id: str, symbol: str, leverage: int) -> None:
        self._account(user_id, key_id, futures_only, trading_allowed)[1].set_leverage(symbol, leverage)

    def set_margin_mode(self, user_id: str, key_id: str, symbol: str, margin_type: str) -> None:
        mode = {"ISOLATED": "isolated", "CROSSED": "cross"}[margin_type]
        self._account(user_id, key_id, futures_only, trading_allowed)[1].set_margin_mode(symbol, mode)

    def cancel_position(self, user_id: str, key_id: str, symbol: str) -> None:
        """Cancels every open and conditional order on the symbol, then closes the position (reduce-only)."""
        key, account = self._account(user_id, key_id, futures_only, trading_allowed)
        account.cancel_all_orders(symbol)
        account.close_position(symbol, ClientOrderIds.for_request(user_id, key.id, None).close)

    def place_manual_order(
        self, user_id: str, key_id: str, request: ManualOrderRequest, idempotency_key: str | None
    ) -> list[dict[str, Any]]:
        key, account = self._account(user_id, key_id, manual_futures, trading_allowed)
        ids = ClientOrderIds.for_request(user_id, key.id, idempotency_key)
        return self._manual_orders.place(account, user_id, key.id, request, ids)
