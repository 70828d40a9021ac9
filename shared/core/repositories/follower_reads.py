"""What the fan-out reads of one follower before it places anything, in one round trip.

The follow, the user's subscription, the key with its secret's ciphertext and the key's cached account read
all live under the user's partition (``USER#<sub>``) and are read by their keys: one strongly consistent
BatchGetItem instead of four GetItems, per follower of every signal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.models.exchange import ExchangeKey
from core.models.follows import Follow
from core.models.subscription import UserSubscription
from core.models.trading import AccountSnapshot
from core.repositories.table import read_items

if TYPE_CHECKING:  # handed in by core.wiring
    from core.repositories.equity_cache import EquityCacheRepository
    from core.repositories.exchange_keys import ExchangeKeyRepository
    from core.repositories.follows import FollowRepository
    from core.repositories.subscription import SubscriptionRepository


@dataclass(frozen=True)
class FollowerState:
    """None where the item does not exist (the follow or the key deleted, no subscription, no account read)."""

    follow: Follow | None
    subscription: UserSubscription | None
    key: tuple[ExchangeKey, bytes] | None
    equity: AccountSnapshot | None


class FollowerReads:
    def __init__(
        self,
        follows: FollowRepository,
        subscriptions: SubscriptionRepository,
        keys: ExchangeKeyRepository,
        equity: EquityCacheRepository,
    ) -> None:
        self._follows = follows
        self._subscriptions = subscriptions
        self._keys = keys
        self._equity = equity

    def read(self, user_id: str, follow_id: str, key_id: str) -> FollowerState:
        follow, subscription, key, equity = read_items(
            self._follows.read(user_id, follow_id),
            self._subscriptions.read(user_id),
            self._keys.read_with_secret(user_id, key_id),
            self._equity.read(user_id, key_id),
        )
        return FollowerState(follow=follow, subscription=subscription, key=key, equity=equity)
