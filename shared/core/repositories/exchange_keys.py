"""Exchange keys, their encrypted secrets, and the plan limits held on them.

| item                 | PK                     | SK               | notes                                   |
|----------------------|------------------------|------------------|-----------------------------------------|
| key                  | USER#<sub>             | KEY#<keyId>      | GSI1 ACTIVE_KEY#<shard> while active    |
| apiKey claim         | APIKEY#<sha256>        | APIKEY           | one apiKey system-wide                  |
| key counter          | USER#<sub>             | KEY_COUNT        | the plan limits, held under concurrency |

(Daily balance snapshots live in ``core.repositories.balance_snapshots``.)

Creating a key writes the key, its claim and the counter in one transaction whose conditions hold the
invariants even under concurrent creates: no duplicate apiKey (1109), no more keys than the plan allows
(2129a), and no more balance than the plan allows (2129b). The balance rule is optimistic: the counter
carries a ``version`` that every create increments; a create reads the counter, then (strongly
consistent) the balances of the user's active keys, checks the new total and commits only if the
version is still the one it read. A concurrent create that committed first changes the version, so the
loser re-reads the balances (now with the winner's key) and checks again, a few times at most.
Deletes and deactivations only ever lower the total, so they need not change the version: a create
that read before them checked a total that was larger, never smaller, than the one that holds. (The
daily snapshot updates balances without it too: the limit applies when a key is added, not to what an
account later earns on the exchange.)
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from pynamodb.attributes import BinaryAttribute, BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from core.errors import (
    ApiBalanceLimitExceeded,
    ApiKeyLimitExceeded,
    ExchangeKeyAlreadyExists,
    ServiceUnavailableError,
)
from core.models.exchange import (
    BalanceSnapshot,
    ExchangeId,
    ExchangeKey,
    KeyLimits,
    KeyStatus,
    StrategyType,
    TradeType,
)
from core.observability import logger
from core.repositories.balance_snapshots import BalanceSnapshotRepository, SnapshotPage
from core.repositories.table import (
    Gsi1Index,
    ItemRead,
    MainTableModel,
    NamedTransaction,
    condition_failed,
    user_partition,
)

__all__ = ["ExchangeKeyRepository", "KeyHoldings", "KeyLimits", "SnapshotPage"]

ACTIVE_KEY_SHARDS = 10
KEY_PREFIX = "KEY#"
COUNTER_SORT_KEY = "KEY_COUNT"
# Each failed attempt means another create of the same user committed; a user does not race this often.
CREATE_ATTEMPTS = 5


class ExchangeKeyItem(MainTableModel):
    key_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    exchange_id = UnicodeAttribute()
    trade_type = UnicodeAttribute()
    strategy_type = UnicodeAttribute()
    active = BooleanAttribute()
    name = UnicodeAttribute()
    api_key = UnicodeAttribute()
    status = UnicodeAttribute()
    secret_ciphertext = BinaryAttribute(legacy_encoding=False)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    balance_usd = NumberAttribute(null=True)
    balance_date = UnicodeAttribute(null=True)
    gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")
    active_keys: Gsi1Index[ExchangeKeyItem] = Gsi1Index()  # ACTIVE_KEY#<shard>


class ApiKeyClaimItem(MainTableModel):
    user_id = UnicodeAttribute()
    key_id = UnicodeAttribute()


class KeyCountItem(MainTableModel):
    # Stored as "count" (as ever); the Python name must not shadow ``Model.count``.
    keys_held = NumberAttribute(attr_name="count")
    # Incremented by every create; absent (0) on counters written before it existed.
    version = NumberAttribute(null=True)


@dataclass(frozen=True)
class KeyHoldings:
    """What a user holds now, read for a create: the counter's state and the active keys' balance."""

    keys_held: int
    version: int
    active_balance_usd: float


def _key_sort_key(key_id: str) -> str:
    return f"{KEY_PREFIX}{key_id}"


def _claim_partition(api_key: str) -> str:
    # The apiKey itself is not a secret, but a digest keeps it out of the key of a system-wide item.
    return "APIKEY#" + hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def _shard(key_id: str) -> str:
    return f"ACTIVE_KEY#{zlib.crc32(key_id.encode()) % ACTIVE_KEY_SHARDS}"


def _key_with_secret(item: ExchangeKeyItem) -> tuple[ExchangeKey, bytes]:
    return _key(item), item.secret_ciphertext


def _key(item: ExchangeKeyItem) -> ExchangeKey:
    return ExchangeKey(
        id=item.key_id,
        user_id=item.user_id,
        exchange_id=ExchangeId(item.exchange_id),
        trade_type=TradeType(item.trade_type),
        strategy_type=StrategyType(item.strategy_type),
        active=item.active,
        name=item.name,
        api_key=item.api_key,
        status=KeyStatus(item.status),
        created_at=item.created_at,
        updated_at=item.updated_at,
        balance_usd=item.balance_usd,
        balance_date=item.balance_date,
    )


def _counter(user_id: str) -> KeyCountItem:
    return KeyCountItem(pk=user_partition(user_id), sk=COUNTER_SORT_KEY)


def _version_is(version: int) -> Condition:
    return KeyCountItem.version.does_not_exist() if version == 0 else KeyCountItem.version == version


class ExchangeKeyRepository:
    def __init__(self, snapshots: BalanceSnapshotRepository | None = None) -> None:
        self._snapshots = snapshots or BalanceSnapshotRepository()

    # ------------------------------------------------------------ reads
    def list(self, user_id: str, *, consistent: bool = False) -> list[ExchangeKey]:
        items = ExchangeKeyItem.query(
            user_partition(user_id), ExchangeKeyItem.sk.startswith(KEY_PREFIX), consistent_read=consistent
        )
        return sorted((_key(item) for item in items), key=lambda key: key.created_at)

    def get(self, user_id: str, key_id: str) -> ExchangeKey | None:
        item = self._item(user_id, key_id)
        return _key(item) if item else None

    def get_with_secret(self, user_id: str, key_id: str) -> tuple[ExchangeKey, bytes] | None:
        item = self._item(user_id, key_id)
        return _key_with_secret(item) if item else None

    def read_with_secret(self, user_id: str, key_id: str) -> ItemRead[tuple[ExchangeKey, bytes]]:
        """``get_with_secret`` as one read of several (``read_items``)."""
        return ItemRead(ExchangeKeyItem, user_partition(user_id), _key_sort_key(key_id), _key_with_secret)

    def _item(self, user_id: str, key_id: str) -> ExchangeKeyItem | None:
        try:
            return ExchangeKeyItem.get(user_partition(user_id), _key_sort_key(key_id))
        except ExchangeKeyItem.DoesNotExist:
            return None

    def api_key_taken(self, api_key: str) -> bool:
        return ApiKeyClaimItem.count(_claim_partition(api_key), ApiKeyClaimItem.sk == "APIKEY") > 0

    def count(self, user_id: str) -> int:
        try:
            return int(KeyCountItem.get(user_partition(user_id), COUNTER_SORT_KEY).keys_held)
        except KeyCountItem.DoesNotExist:
            return 0

    def holdings(self, user_id: str) -> KeyHoldings:
        """The counter, then the balances of the active keys: in this order, so that any create that
        committed after the counter was read shows as a changed version (see the module's docstring)."""
        try:
            counter = KeyCountItem.get(user_partition(user_id), COUNTER_SORT_KEY, consistent_read=True)
            keys_held, version = int(counter.keys_held), int(counter.version or 0)
        except KeyCountItem.DoesNotExist:
            keys_held, version = 0, 0
        balance = sum(key.balance_usd or 0 for key in self.list(user_id, consistent=True) if key.active)
        return KeyHoldings(keys_held=keys_held, version=version, active_balance_usd=balance)

    def active_keys(self) -> Iterator[tuple[ExchangeKey, bytes]]:
        for shard in range(ACTIVE_KEY_SHARDS):
            for item in ExchangeKeyItem.active_keys.query(f"ACTIVE_KEY#{shard}"):
                yield _key(item), item.secret_ciphertext

    def snapshots(
        self, key_id: str, start: str | None, limit: int, start_key: dict[str, dict[str, str]] | None
    ) -> SnapshotPage:
        return self._snapshots.page(key_id, start, limit, start_key)

    # ------------------------------------------------------------ writes
    def create(self, key: ExchangeKey, secret_ciphertext: bytes, limits: KeyLimits) -> None:
        """Writes the key, claims its apiKey and takes a slot of the plan, all or nothing, if the user's
        keys then stay within ``limits`` (2129a, 2129b; the new key counts with its ``balance_usd``,
        inactive or not). 1109 when the apiKey is already claimed."""
        if limits.max_keys <= 0:
            raise ApiKeyLimitExceeded("plan allows no keys")
        for _ in range(CREATE_ATTEMPTS):
            holdings = self.holdings(key.user_id)
            if holdings.keys_held >= limits.max_keys:
                raise ApiKeyLimitExceeded(f"{holdings.keys_held} of {limits.max_keys} keys held")
            total_usd = holdings.active_balance_usd + (key.balance_usd or 0)
            if total_usd > limits.max_balance_usd:
                raise ApiBalanceLimitExceeded(f"{total_usd} USD over {limits.max_balance_usd}")
            if self._commit_create(key, secret_ciphertext, limits.max_keys, holdings.version):
                return
        logger.warning("key create lost every race", extra={"attempts": CREATE_ATTEMPTS})
        raise ServiceUnavailableError("too many concurrent changes to the exchange keys, please retry")

    def _commit_create(self, key: ExchangeKey, secret_ciphertext: bytes, max_keys: int, version: int) -> bool:
        """False when the counter changed since ``version`` was read (another create committed)."""
        item = ExchangeKeyItem(
            pk=user_partition(key.user_id),
            sk=_key_sort_key(key.id),
            key_id=key.id,
            user_id=key.user_id,
            exchange_id=key.exchange_id.value,
            trade_type=key.trade_type.value,
            strategy_type=key.strategy_type.value,
            active=key.active,
            name=key.name,
            api_key=key.api_key,
            status=key.status.value,
            secret_ciphertext=secret_ciphertext,
            created_at=key.created_at,
            updated_at=key.updated_at,
            balance_usd=key.balance_usd,
            balance_date=key.balance_date,
            gsi1pk=_shard(key.id) if key.active else None,
            gsi1sk=key.id if key.active else None,
        )
        claim = ApiKeyClaimItem(
            pk=_claim_partition(key.api_key), sk="APIKEY", user_id=key.user_id, key_id=key.id
        )
        transaction = NamedTransaction()
        transaction.save("key", item, condition=ExchangeKeyItem.pk.does_not_exist())
        transaction.save("claim", claim, condition=ApiKeyClaimItem.pk.does_not_exist())
        transaction.update(
            "counter",
            _counter(key.user_id),
            actions=[
                KeyCountItem.keys_held.set((KeyCountItem.keys_held | 0) + 1),
                KeyCountItem.version.set(version + 1),
            ],
            condition=(KeyCountItem.keys_held.does_not_exist() | (KeyCountItem.keys_held < max_keys))
            & _version_is(version),
        )
        try:
            transaction.commit()
        except TransactWriteError as error:
            if transaction.condition_failed(error, "claim"):
                raise ExchangeKeyAlreadyExists("apiKey already claimed") from None
            if transaction.condition_failed(error, "counter"):
                return False  # the limits are checked again against what committed meanwhile
            raise
        return True

    def rename(self, user_id: str, key_id: str, name: str, now: str) -> ExchangeKey | None:
        item = ExchangeKeyItem(pk=user_partition(user_id), sk=_key_sort_key(key_id))
        try:
            item.update(
                actions=[ExchangeKeyItem.name.set(name), ExchangeKeyItem.updated_at.set(now)],
                condition=ExchangeKeyItem.pk.exists(),
            )
        except UpdateError as error:
            if condition_failed(error):
                return None
            raise
        return _key(item)

    def delete(self, key: ExchangeKey) -> bool:
        """Removes the key with its encrypted secret, frees its apiKey and its plan slot."""
        transaction = NamedTransaction()
        transaction.delete(
            "key",
            ExchangeKeyItem(pk=user_partition(key.user_id), sk=_key_sort_key(key.id)),
            condition=ExchangeKeyItem.pk.exists(),
        )
        transaction.delete("claim", ApiKeyClaimItem(pk=_claim_partition(key.api_key), sk="APIKEY"))
        transaction.update(
            "counter",
            _counter(key.user_id),
            actions=[KeyCountItem.keys_held.add(-1)],
            condition=KeyCountItem.keys_held > 0,
        )
        try:
            transaction.commit()
        except TransactWriteError as error:
            if transaction.condition_failed(error, "key"):
                return False  # deleted concurrently
            raise
        return True

    def record_snapshot(self, key: ExchangeKey, snapshot: BalanceSnapshot, now: str) -> None:
        """The day's snapshot, and the key's latest balance (for the total balance and the plan limit)."""
        self._snapshots.save(key, snapshot, now)
        item = ExchangeKeyItem(pk=user_partition(key.user_id), sk=_key_sort_key(key.id))
        try:
            item.update(
                actions=[
                    ExchangeKeyItem.balance_usd.set(snapshot.total_usd),
                    ExchangeKeyItem.balance_date.set(snapshot.date),
                    ExchangeKeyItem.status.set(KeyStatus.AUTHORIZED.value),
                ],
                condition=ExchangeKeyItem.pk.exists(),
            )
        except UpdateError as error:
            if not condition_failed(error):  # else the key was deleted meanwhile
                raise

    def mark_status(self, key: ExchangeKey, status: KeyStatus, now: str) -> None:
        """UNAUTHORIZED also deactivates the key (it leaves the snapshot index); FAILED keeps it for a retry."""
        actions: list[Action] = [
            ExchangeKeyItem.status.set(status.value),
            ExchangeKeyItem.updated_at.set(now),
        ]
        if status is KeyStatus.UNAUTHORIZED:
            actions += [
                ExchangeKeyItem.active.set(False),
                ExchangeKeyItem.gsi1pk.remove(),
                ExchangeKeyItem.gsi1sk.remove(),
            ]
        try:
            ExchangeKeyItem(pk=user_partition(key.user_id), sk=_key_sort_key(key.id)).update(
                actions=actions, condition=ExchangeKeyItem.pk.exists()
            )
        except UpdateError as error:
            if not condition_failed(error):  # the key was deleted meanwhile
                raise
