"""Exchange keys, their encrypted secrets, and their daily balance snapshots.

| item                 | PK                     | SK               | notes                                   |
|----------------------|------------------------|------------------|-----------------------------------------|
| key                  | USER#<sub>             | KEY#<keyId>      | GSI1 ACTIVE_KEY#<shard> while active    |
| apiKey claim         | APIKEY#<sha256>        | APIKEY           | one apiKey system-wide                  |
| key counter          | USER#<sub>             | KEY_COUNT        | the plan limit, held under concurrency  |
| balance snapshot     | KEY#<keyId>            | SNAPSHOT#<date>  | one per key per day                     |

Creating a key writes the key, its claim and the counter in one transaction whose conditions hold the
invariants (no duplicate apiKey, no more keys than the plan allows) even under concurrent creates.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from pynamodb.attributes import BinaryAttribute, BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.transactions import TransactWrite

from core.errors import ApiKeyLimitExceeded, ExchangeKeyAlreadyExists
from core.models.exchange import (
    BalanceSnapshot,
    ExchangeId,
    ExchangeKey,
    KeyStatus,
    StrategyType,
    TradeType,
)
from core.repositories.table import MainTableModel, query_page, user_partition

ACTIVE_KEY_SHARDS = 10
KEY_PREFIX = "KEY#"
SNAPSHOT_PREFIX = "SNAPSHOT#"


class ActiveKeysIndex(GlobalSecondaryIndex["ExchangeKeyItem"]):
    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(range_key=True, attr_name="GSI1SK")


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
    active_keys = ActiveKeysIndex()


class ApiKeyClaimItem(MainTableModel):
    user_id = UnicodeAttribute()
    key_id = UnicodeAttribute()


class KeyCountItem(MainTableModel):
    count = NumberAttribute()


class BalanceSnapshotItem(MainTableModel):
    user_id = UnicodeAttribute()
    total_usd = NumberAttribute()
    taken_at = UnicodeAttribute()


def _key_sort_key(key_id: str) -> str:
    return f"{KEY_PREFIX}{key_id}"


def _claim_partition(api_key: str) -> str:
    # The apiKey itself is not a secret, but a digest keeps it out of the key of a system-wide item.
    return "APIKEY#" + hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def _shard(key_id: str) -> str:
    return f"ACTIVE_KEY#{zlib.crc32(key_id.encode()) % ACTIVE_KEY_SHARDS}"


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


@dataclass(frozen=True)
class SnapshotPage:
    snapshots: list[BalanceSnapshot]
    next_start_key: dict[str, dict[str, str]] | None  # DynamoDB's typed form, e.g. {"PK": {"S": "..."}}


class ExchangeKeyRepository:
    # ------------------------------------------------------------ reads
    def list(self, user_id: str) -> list[ExchangeKey]:
        items = ExchangeKeyItem.query(user_partition(user_id), ExchangeKeyItem.sk.startswith(KEY_PREFIX))
        return sorted((_key(item) for item in items), key=lambda key: key.created_at)

    def get(self, user_id: str, key_id: str) -> ExchangeKey | None:
        item = self._item(user_id, key_id)
        return _key(item) if item else None

    def get_with_secret(self, user_id: str, key_id: str) -> tuple[ExchangeKey, bytes] | None:
        item = self._item(user_id, key_id)
        return (_key(item), item.secret_ciphertext) if item else None

    def _item(self, user_id: str, key_id: str) -> ExchangeKeyItem | None:
        try:
            return ExchangeKeyItem.get(user_partition(user_id), _key_sort_key(key_id))
        except ExchangeKeyItem.DoesNotExist:
            return None

    def api_key_taken(self, api_key: str) -> bool:
        return ApiKeyClaimItem.count(_claim_partition(api_key), ApiKeyClaimItem.sk == "APIKEY") > 0

    def count(self, user_id: str) -> int:
        try:
            return int(KeyCountItem.get(user_partition(user_id), "KEY_COUNT").count)
        except KeyCountItem.DoesNotExist:
            return 0

    def active_keys(self) -> Iterator[tuple[ExchangeKey, bytes]]:
        for shard in range(ACTIVE_KEY_SHARDS):
            for item in ExchangeKeyItem.active_keys.query(f"ACTIVE_KEY#{shard}"):
                yield _key(item), item.secret_ciphertext

    def snapshots(
        self, key_id: str, start: str | None, limit: int, start_key: dict[str, dict[str, str]] | None
    ) -> SnapshotPage:
        condition = (
            BalanceSnapshotItem.sk.between(f"{SNAPSHOT_PREFIX}{start}", f"{SNAPSHOT_PREFIX}~")
            if start
            else BalanceSnapshotItem.sk.startswith(SNAPSHOT_PREFIX)
        )
        page, next_key = query_page(BalanceSnapshotItem, f"{KEY_PREFIX}{key_id}", condition, limit, start_key)
        snapshots = [
            BalanceSnapshot(
                key_id=key_id, date=item.sk.removeprefix(SNAPSHOT_PREFIX), total_usd=item.total_usd
            )
            for item in page
        ]
        return SnapshotPage(snapshots, next_key)

    # ------------------------------------------------------------ writes
    def create(self, key: ExchangeKey, secret_ciphertext: bytes, max_keys: int) -> None:
        """Writes the key, claims its apiKey and takes a slot of the plan, all or nothing."""
        if max_keys <= 0:
            raise ApiKeyLimitExceeded("plan allows no keys")
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
        counter = KeyCountItem(pk=user_partition(key.user_id), sk="KEY_COUNT")
        try:
            with TransactWrite(connection=Connection()) as transaction:
                transaction.save(item, condition=ExchangeKeyItem.pk.does_not_exist())
                transaction.save(claim, condition=ApiKeyClaimItem.pk.does_not_exist())
                transaction.update(
                    counter,
                    actions=[KeyCountItem.count.set((KeyCountItem.count | 0) + 1)],
                    condition=KeyCountItem.count.does_not_exist() | (KeyCountItem.count < max_keys),
                )
        except TransactWriteError as error:
            reasons = [getattr(reason, "code", None) for reason in (error.cancellation_reasons or [])]
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                raise ExchangeKeyAlreadyExists("apiKey already claimed") from None
            if len(reasons) > 2 and reasons[2] == "ConditionalCheckFailed":
                raise ApiKeyLimitExceeded("no key slot left") from None
            raise

    def rename(self, user_id: str, key_id: str, name: str, now: str) -> ExchangeKey | None:
        item = ExchangeKeyItem(pk=user_partition(user_id), sk=_key_sort_key(key_id))
        try:
            item.update(
                actions=[ExchangeKeyItem.name.set(name), ExchangeKeyItem.updated_at.set(now)],
                condition=ExchangeKeyItem.pk.exists(),
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return None
            raise
        return _key(item)

    def delete(self, key: ExchangeKey) -> bool:
        """Removes the key with its encrypted secret, frees its apiKey and its plan slot."""
        try:
            with TransactWrite(connection=Connection()) as transaction:
                transaction.delete(
                    ExchangeKeyItem(pk=user_partition(key.user_id), sk=_key_sort_key(key.id)),
                    condition=ExchangeKeyItem.pk.exists(),
                )
                transaction.delete(ApiKeyClaimItem(pk=_claim_partition(key.api_key), sk="APIKEY"))
                transaction.update(
                    KeyCountItem(pk=user_partition(key.user_id), sk="KEY_COUNT"),
                    actions=[KeyCountItem.count.add(-1)],
                    condition=KeyCountItem.count > 0,
                )
        except TransactWriteError as error:
            reasons = [getattr(reason, "code", None) for reason in (error.cancellation_reasons or [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return False  # deleted concurrently
            raise
        return True

    def record_snapshot(self, key: ExchangeKey, snapshot: BalanceSnapshot, now: str) -> None:
        """One snapshot per key per day: a second run the same day overwrites it with the same key."""
        BalanceSnapshotItem(
            pk=f"{KEY_PREFIX}{key.id}",
            sk=f"{SNAPSHOT_PREFIX}{snapshot.date}",
            user_id=key.user_id,
            total_usd=snapshot.total_usd,
            taken_at=now,
        ).save()
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
            if error.cause_response_code != "ConditionalCheckFailedException":  # key deleted meanwhile
                raise

    def mark_status(self, key: ExchangeKey, status: KeyStatus, now: str) -> None:
        """UNAUTHORIZED also deactivates the key (it leaves the snapshot index); FAILED keeps it for a retry."""
        actions = [ExchangeKeyItem.status.set(status.value), ExchangeKeyItem.updated_at.set(now)]
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
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
