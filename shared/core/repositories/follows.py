"""Follows of automated strategies: which key follows which strategy, and who follows a strategy now.

| item         | PK          | SK                           | GSI1 (always)                               | GSI2 (active follows only)        |
|--------------|-------------|------------------------------|---------------------------------------------|-----------------------------------|
| follow       | USER#<sub>  | FOLLOW#<followId>            | FOLLOWS#<keyId> / <createdAt>#<followId>    | FOLLOWERS#<strategyId> / <followId> |
| symbol claim | KEY#<keyId> | FOLLOWED#<exchange>#<symbol> |                                             |                                   |

- A key's follows: one Query of GSI1 ``FOLLOWS#<keyId>`` (the route checks first that the key is the caller's).
- One follow, owner-checked: GetItem under the caller's partition, so another user's follow is not found.
- A symbol is followed once per key: the claim is put with the follow in one transaction, only if absent,
  so two concurrent follows of the same symbol on one key cannot both commit (1309). A follow switches
  only to a strategy of the same exchange and symbol, so its claim never changes.
- The active followers of a strategy (the signal fan-out): one Query of GSI2 ``FOLLOWERS#<strategyId>``.
  The index is sparse: a follow carries ``GSI2PK`` only while it is active, so turning it off removes it.
- A follow that is written active is written in a transaction with a condition on its key's item (the key
  exists, is active and AUTHORIZED): a key deleted or deactivated meanwhile refuses the write, and the
  key's own stop (``stop_key``) reads the follows strongly consistently after the key changed, so no follow
  stays active on a key that is gone.
- Updates are optimistic: each write increments ``version`` and is conditioned on the version read, so a
  concurrent stop is never overwritten by an update that read the follow before it.
"""

from __future__ import annotations

from collections.abc import Iterator

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from core.errors import ExchangeKeyInactive, ExchangeSymbolAlreadyFollowed
from core.models.exchange import KeyStatus
from core.models.follows import Follow
from core.repositories.exchange_keys import ExchangeKeyItem
from core.repositories.table import (
    Gsi1Index,
    Gsi2Index,
    ItemRead,
    MainTableModel,
    NamedTransaction,
    condition_failed,
    user_partition,
)

FOLLOW_PREFIX = "FOLLOW#"
FOLLOWS_OF_KEY = "FOLLOWS#"
FOLLOWERS_OF_STRATEGY = "FOLLOWERS#"


class FollowItem(MainTableModel):
    follow_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    key_id = UnicodeAttribute()
    exchange_id = UnicodeAttribute()
    symbol = UnicodeAttribute()
    strategy_id = UnicodeAttribute()
    risk_profile_id = UnicodeAttribute()
    active = BooleanAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute()
    gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")
    gsi2pk = UnicodeAttribute(null=True, attr_name="GSI2PK")
    gsi2sk = UnicodeAttribute(null=True, attr_name="GSI2SK")
    follows_of_key: Gsi1Index[FollowItem] = Gsi1Index()  # FOLLOWS#<keyId>
    followers_of_strategy: Gsi2Index[FollowItem] = Gsi2Index()  # FOLLOWERS#<strategyId>, active only


class SymbolClaimItem(MainTableModel):
    follow_id = UnicodeAttribute()
    user_id = UnicodeAttribute()


class _Transaction(NamedTransaction):
    """A named transaction that can also check a condition on an item it does not write."""

    def check(self, name: str, model: type[MainTableModel], pk: str, sk: str, condition: Condition) -> None:
        def write(transaction: TransactWrite) -> None:
            transaction.condition_check(model, pk, sk, condition=condition)

        self._add("condition_check", name, write)


def _follow_sk(follow_id: str) -> str:
    return f"{FOLLOW_PREFIX}{follow_id}"


def _claim_key(follow: Follow) -> tuple[str, str]:
    return f"KEY#{follow.key_id}", f"FOLLOWED#{follow.exchange_id}#{follow.symbol}"


def _follower_keys(follow: Follow) -> tuple[str | None, str | None]:
    if not follow.active:
        return None, None
    return f"{FOLLOWERS_OF_STRATEGY}{follow.strategy_id}", follow.id


def _item(follow: Follow, version: int) -> FollowItem:
    gsi2pk, gsi2sk = _follower_keys(follow)
    return FollowItem(
        pk=user_partition(follow.user_id),
        sk=_follow_sk(follow.id),
        follow_id=follow.id,
        user_id=follow.user_id,
        key_id=follow.key_id,
        exchange_id=follow.exchange_id,
        symbol=follow.symbol,
        strategy_id=follow.strategy_id,
        risk_profile_id=follow.risk_profile_id,
        active=follow.active,
        created_at=follow.created_at,
        updated_at=follow.updated_at,
        version=version,
        gsi1pk=f"{FOLLOWS_OF_KEY}{follow.key_id}",
        gsi1sk=f"{follow.created_at}#{follow.id}",
        gsi2pk=gsi2pk,
        gsi2sk=gsi2sk,
    )


def _follow(item: FollowItem) -> Follow:
    return Follow(
        id=item.follow_id,
        user_id=item.user_id,
        key_id=item.key_id,
        exchange_id=item.exchange_id,
        symbol=item.symbol,
        strategy_id=item.strategy_id,
        risk_profile_id=item.risk_profile_id,
        active=item.active,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def _key_is_live(user_id: str, key_id: str, transaction: _Transaction) -> None:
    """The key exists and is active and AUTHORIZED when the transaction commits."""
    transaction.check(
        "key",
        ExchangeKeyItem,
        user_partition(user_id),
        f"KEY#{key_id}",
        ExchangeKeyItem.pk.exists()
        & (ExchangeKeyItem.active == True)  # noqa: E712 (a DynamoDB condition, not a comparison)
        & (ExchangeKeyItem.status == KeyStatus.AUTHORIZED.value),
    )


def _key_is_active(user_id: str, key_id: str, transaction: _Transaction) -> None:
    transaction.check(
        "key",
        ExchangeKeyItem,
        user_partition(user_id),
        f"KEY#{key_id}",
        ExchangeKeyItem.pk.exists() & (ExchangeKeyItem.active == True),  # noqa: E712
    )


class FollowRepository:
    # ------------------------------------------------------------ reads
    def get(self, user_id: str, follow_id: str) -> tuple[Follow, int] | None:
        """The caller's follow and its version (for the update's condition); None if not the caller's."""
        try:
            item = FollowItem.get(user_partition(user_id), _follow_sk(follow_id), consistent_read=True)
        except FollowItem.DoesNotExist:
            return None
        return _follow(item), int(item.version)

    def read(self, user_id: str, follow_id: str) -> ItemRead[Follow]:
        """The follow of ``get`` (without its version), as one read of several (``read_items``)."""
        return ItemRead(FollowItem, user_partition(user_id), _follow_sk(follow_id), _follow)

    def of_key(self, key_id: str) -> list[Follow]:
        """Every follow of one key, active or not, oldest first."""
        return [_follow(item) for item in FollowItem.follows_of_key.query(f"{FOLLOWS_OF_KEY}{key_id}")]

    def of_user(self, user_id: str) -> list[Follow]:
        """Every follow of one user, read strongly consistently (the stops read this after a change)."""
        return [
            _follow(item)
            for item in FollowItem.query(
                user_partition(user_id), FollowItem.sk.startswith(FOLLOW_PREFIX), consistent_read=True
            )
        ]

    def active_followers(self, strategy_id: str, page_size: int = 500) -> Iterator[Follow]:
        """Every active follow of a strategy, across users (the signal fan-out), a page at a time."""
        for item in FollowItem.followers_of_strategy.query(
            f"{FOLLOWERS_OF_STRATEGY}{strategy_id}", page_size=page_size
        ):
            yield _follow(item)

    # ------------------------------------------------------------ writes
    def create(self, follow: Follow) -> None:
        """Writes a new follow with its symbol claim: 1309 when the key already follows the symbol; 1110 when
        the key is no longer active (or, for an active follow, no longer AUTHORIZED) at commit."""
        claim_pk, claim_sk = _claim_key(follow)
        transaction = _Transaction()
        if follow.active:
            _key_is_live(follow.user_id, follow.key_id, transaction)
        else:
            _key_is_active(follow.user_id, follow.key_id, transaction)
        transaction.save(
            "claim",
            SymbolClaimItem(pk=claim_pk, sk=claim_sk, follow_id=follow.id, user_id=follow.user_id),
            condition=SymbolClaimItem.pk.does_not_exist(),
        )
        transaction.save("follow", _item(follow, version=1), condition=FollowItem.pk.does_not_exist())
        try:
            transaction.commit()
        except TransactWriteError as error:
            if transaction.condition_failed(error, "claim"):
                raise ExchangeSymbolAlreadyFollowed(f"{follow.symbol} already followed") from None
            if transaction.condition_failed(error, "key"):
                raise ExchangeKeyInactive("key changed while following") from None
            raise

    def replace(self, follow: Follow, version: int, key_must_be_live: bool = True) -> bool:
        """Writes the follow's new state if it is still at ``version``: False when it changed meanwhile.
        A follow written active needs its key active at commit, and AUTHORIZED too with
        ``key_must_be_live`` (turning it on); 1110 otherwise."""
        gsi2pk, gsi2sk = _follower_keys(follow)
        actions: list[Action] = [
            FollowItem.strategy_id.set(follow.strategy_id),
            FollowItem.risk_profile_id.set(follow.risk_profile_id),
            FollowItem.active.set(follow.active),
            FollowItem.updated_at.set(follow.updated_at),
            FollowItem.version.set(version + 1),
        ]
        if gsi2pk is not None and gsi2sk is not None:
            actions += [FollowItem.gsi2pk.set(gsi2pk), FollowItem.gsi2sk.set(gsi2sk)]
        else:
            actions += [FollowItem.gsi2pk.remove(), FollowItem.gsi2sk.remove()]
        item = FollowItem(pk=user_partition(follow.user_id), sk=_follow_sk(follow.id))
        condition = FollowItem.pk.exists() & (FollowItem.version == version)
        if not follow.active:
            try:
                item.update(actions=actions, condition=condition)
            except UpdateError as error:
                if condition_failed(error):
                    return False
                raise
            return True
        transaction = _Transaction()
        if key_must_be_live:
            _key_is_live(follow.user_id, follow.key_id, transaction)
        else:
            _key_is_active(follow.user_id, follow.key_id, transaction)
        transaction.update("follow", item, actions=actions, condition=condition)
        try:
            transaction.commit()
        except TransactWriteError as error:
            if transaction.condition_failed(error, "key"):
                raise ExchangeKeyInactive("key changed while activating") from None
            if transaction.condition_failed(error, "follow"):
                return False
            raise
        return True

    def deactivate(self, follow: Follow, now: str) -> bool:
        """Turns a follow off (it leaves the followers index), whatever its version: a stop always wins.
        False when the follow no longer exists."""
        item = FollowItem(pk=user_partition(follow.user_id), sk=_follow_sk(follow.id))
        try:
            item.update(
                actions=[
                    FollowItem.active.set(False),
                    FollowItem.updated_at.set(now),
                    FollowItem.version.add(1),
                    FollowItem.gsi2pk.remove(),
                    FollowItem.gsi2sk.remove(),
                ],
                condition=FollowItem.pk.exists(),
            )
        except UpdateError as error:
            if condition_failed(error):
                return False
            raise
        return True


__all__ = ["FollowItem", "FollowRepository", "SymbolClaimItem"]
