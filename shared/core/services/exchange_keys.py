"""Users' exchange keys: adding one (validated against the exchange and the plan), renaming, removing,
reading their live balance and their daily balance history."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import (
    ExchangeKeyAlreadyExists,
    ExchangeKeyCanWithdraw,
    ExchangeKeyLacksFutures,
    NotFoundError,
)
from core.models.exchange import (
    Balance,
    ExchangeId,
    ExchangeKey,
    KeyLimits,
    KeyStatus,
    StrategyType,
    TradeType,
)
from core.ports import ExchangeConnector, SecretCipher
from core.services.key_accounts import KeyAccounts
from core.services.valuation import usd_value
from core.timeutil import iso_now

if TYPE_CHECKING:  # the data access is handed in (core.wiring): a function's init does not load pynamodb
    from core.repositories.balance_snapshots import SnapshotPage
    from core.repositories.exchange_keys import ExchangeKeyRepository
    from core.services.plan_limits import PlanLimits

# Called once a key is deleted or deactivated: (user id, key id). The wiring hands in the follows' stop
# (``core.wiring.key_stop_listener``), so a key that is gone or off follows no strategy.
KeyStopListener = Callable[[str, str], None]


def _no_listener(user_id: str, key_id: str) -> None:
    return None


@dataclass(frozen=True)
class NewExchangeKey:
    exchange_id: ExchangeId
    trade_type: TradeType
    strategy_type: StrategyType
    name: str
    api_key: str
    api_secret: str
    active: bool = True

    def __repr__(self) -> str:
        return f"NewExchangeKey({self.exchange_id}, {self.trade_type}, {self.strategy_type}, {self.name!r})"


class ExchangeKeyService:
    def __init__(
        self,
        keys: ExchangeKeyRepository,
        limits: PlanLimits,
        connector: ExchangeConnector,
        cipher: SecretCipher,
        on_key_stopped: KeyStopListener = _no_listener,
    ) -> None:
        self._keys = keys
        self._limits = limits
        self._connector = connector
        self._cipher = cipher
        self._accounts = KeyAccounts(keys, connector, cipher)  # a stored key's account, for its live balance
        self._on_key_stopped = on_key_stopped

    def list(self, user_id: str) -> list[ExchangeKey]:
        return self._keys.list(user_id)

    def get(self, user_id: str, key_id: str) -> ExchangeKey:
        key = self._keys.get(user_id, key_id)
        if key is None:
            raise NotFoundError
        return key

    def create(self, user_id: str, request: NewExchangeKey) -> ExchangeKey:
        # Cheap refusals first, so a request that cannot succeed never reaches the exchange.
        limits = self._limits.for_user(user_id)  # the plan, read once for every rule below
        max_keys = limits.require_key_slot(self._keys.count(user_id))
        if self._keys.api_key_taken(request.api_key):
            raise ExchangeKeyAlreadyExists
        account = self._connector.account(
            request.exchange_id, request.trade_type, request.api_key, request.api_secret
        )
        permissions = account.permissions()
        if permissions.can_withdraw:
            raise ExchangeKeyCanWithdraw
        if request.trade_type is TradeType.FUTURES and not permissions.can_trade_futures:
            raise ExchangeKeyLacksFutures
        balance = account.balance()
        held = {asset for asset, amount in balance.total.items() if amount}
        key_usd = usd_value(balance.total, self._connector.market_data(request.exchange_id).usd_prices(held))
        # A quick refusal before encrypting; the create transaction checks both limits again against
        # what is committed, so concurrent creates cannot each pass this check and together exceed them.
        others_usd = sum(key.balance_usd or 0 for key in self._keys.list(user_id) if key.active)
        limits.require_balance_within(others_usd + key_usd)

        now = iso_now()
        key = ExchangeKey(
            id=str(uuid.uuid4()),
            user_id=user_id,
            exchange_id=request.exchange_id,
            trade_type=request.trade_type,
            strategy_type=request.strategy_type,
            active=request.active,
            name=request.name,
            api_key=request.api_key,
            status=KeyStatus.AUTHORIZED,
            created_at=now,
            updated_at=now,
            balance_usd=key_usd,
        )
        ciphertext = self._cipher.encrypt(user_id, key.id, request.api_secret)
        self._keys.create(key, ciphertext, KeyLimits(max_keys, limits.max_balance_usd))
        return key

    def rename(self, user_id: str, key_id: str, name: str | None) -> ExchangeKey:
        if name is None:
            return self.get(user_id, key_id)
        key = self._keys.rename(user_id, key_id, name, iso_now())
        if key is None:
            raise NotFoundError
        return key

    def delete(self, user_id: str, key_id: str) -> None:
        key = self.get(user_id, key_id)
        if not self._keys.delete(key):
            raise NotFoundError
        self._on_key_stopped(user_id, key_id)  # after the delete: a follow written later finds no key

    def live_balance(self, user_id: str, key_id: str) -> Balance:
        return self._accounts.account(user_id, key_id)[1].balance()

    def balance_history(
        self, user_id: str, key_id: str, start: str | None, limit: int, start_key: dict[str, Any] | None
    ) -> SnapshotPage:
        self.get(user_id, key_id)  # ownership: someone else's key is a 404
        return self._keys.snapshots(key_id, start, limit, start_key)

    def total_balance_usd(self, user_id: str) -> float:
        """The sum of the latest daily snapshots of the user's active keys (not live)."""
        return round(sum(key.balance_usd or 0 for key in self._keys.list(user_id) if key.active), 2)
