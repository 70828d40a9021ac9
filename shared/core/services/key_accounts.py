"""The one place that opens a key's exchange account: load the key, check its rules, decrypt, connect."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from core.errors import NotFoundError
from core.models.exchange import ExchangeKey
from core.ports import ExchangeAccount, ExchangeConnector, SecretCipher, TradingAccount

if TYPE_CHECKING:  # handed in by core.wiring
    from core.repositories.exchange_keys import ExchangeKeyRepository

KeyRule = Callable[[ExchangeKey], None]


class KeyAccounts:
    def __init__(
        self, keys: ExchangeKeyRepository, connector: ExchangeConnector, cipher: SecretCipher
    ) -> None:
        self._keys = keys
        self._connector = connector
        self._cipher = cipher

    def account(self, user_id: str, key_id: str, *rules: KeyRule) -> tuple[ExchangeKey, ExchangeAccount]:
        """The caller's key (404 otherwise), checked by ``rules`` in order, connected to read its account."""
        key, ciphertext = self._load(user_id, key_id, rules)
        return key, self.open(key, ciphertext)

    def trading(self, user_id: str, key_id: str, *rules: KeyRule) -> tuple[ExchangeKey, TradingAccount]:
        """The caller's key (404 otherwise), checked by ``rules`` in order, connected for trading."""
        key, ciphertext = self._load(user_id, key_id, rules)
        return key, self.open_trading(key, ciphertext)

    def open(self, key: ExchangeKey, ciphertext: bytes) -> ExchangeAccount:
        """The account of a key already loaded with its secret (the daily snapshot reads them in bulk)."""
        secret = self._cipher.decrypt(key.user_id, key.id, ciphertext)
        return self._connector.account(key.exchange_id, key.trade_type, key.api_key, secret)

    def open_trading(self, key: ExchangeKey, ciphertext: bytes, *rules: KeyRule) -> TradingAccount:
        """The trading account of a key already loaded with its secret (the equity cache's reads, the
        fan-out's follower reads), checked by ``rules`` first."""
        for rule in rules:
            rule(key)
        secret = self._cipher.decrypt(key.user_id, key.id, ciphertext)
        return self._connector.trading_account(key.exchange_id, key.trade_type, key.api_key, secret)

    def _load(self, user_id: str, key_id: str, rules: tuple[KeyRule, ...]) -> tuple[ExchangeKey, bytes]:
        found = self._keys.get_with_secret(user_id, key_id)
        if found is None:
            raise NotFoundError
        key, ciphertext = found
        for rule in rules:
            rule(key)
        return key, ciphertext
