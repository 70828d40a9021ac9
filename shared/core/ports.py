"""What the business logic needs from the outside world, as interfaces.

The adapters layer implements them with ccxt (and Stripe); unit tests hand in in-memory fakes.
"""

from __future__ import annotations

from typing import Any, Protocol

from core.models.exchange import Balance, ExchangeId, KeyPermissions, TradeType


class ExchangeAccount(Protocol):
    """One user's key on the exchange. Every call may raise the errors of ``core.errors``."""

    def permissions(self) -> KeyPermissions: ...

    def balance(self) -> Balance: ...


class ExchangeMarketData(Protocol):
    def ticker(self, symbol: str, trade_type: TradeType) -> dict[str, Any]: ...

    def usd_prices(self, assets: set[str] | None = None) -> dict[str, float]:
        """USD prices of the given assets (all quoted assets when None); stablecoins are left out."""
        ...


class ExchangeConnector(Protocol):
    def account(
        self, exchange_id: ExchangeId, trade_type: TradeType, api_key: str, secret: str
    ) -> ExchangeAccount: ...

    def market_data(self, exchange_id: ExchangeId) -> ExchangeMarketData: ...


class SecretCipher(Protocol):
    def encrypt(self, user_id: str, key_id: str, secret: str) -> bytes: ...

    def decrypt(self, user_id: str, key_id: str, ciphertext: bytes) -> str: ...
