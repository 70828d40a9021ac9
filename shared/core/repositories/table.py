"""The single DynamoDB table every repository shares.

Key design (the README lists every access pattern and the key or index that serves it):

| item                  | PK                     | SK                 |
|-----------------------|------------------------|--------------------|
| plan                  | CATALOG#PLAN           | <plan id>          |
| risk profile          | CATALOG#RISK_PROFILE   | <profile id>       |
| strategy              | CATALOG#STRATEGY       | <strategy id>      |
| profile               | USER#<sub>             | PROFILE            |
| current subscription  | USER#<sub>             | SUBSCRIPTION       |

Items a user owns always live under ``USER#<sub>``, so a lookup by another user's id finds nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Generic, TypeVar

from pynamodb.attributes import UnicodeAttribute
from pynamodb.connection import Connection, TableConnection
from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from core.config import get_settings

# How DynamoDB says a condition failed: a single write's error code, and a transaction's cancellation reason.
_WRITE_CONDITION_FAILED = "ConditionalCheckFailedException"
_TRANSACTION_CONDITION_FAILED = "ConditionalCheckFailed"


class _SettingsBoundMeta(type):
    """Resolves the table name from the settings when pynamodb first connects, not at import."""

    @property
    def table_name(cls) -> str:
        return get_settings().table_name


class MainTableMeta(metaclass=_SettingsBoundMeta):
    connect_timeout_seconds = 2
    read_timeout_seconds = 5
    max_retry_attempts = 3


class MainTableModel(Model):
    """Every item of the main table: a partition key and a sort key, named generically for single-table use."""

    class Meta(MainTableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK")

    @classmethod
    def _get_connection(cls) -> TableConnection:
        """pynamodb's connection of this model, sending through the container's one botocore client."""
        connection = super()._get_connection()
        connection.connection._client = dynamodb_client()
        return connection


_Item = TypeVar("_Item", bound=Model)


# The two overloaded indexes of the table, sparse: an item is in one while it sets that index's two keys.
# A model declares them as ``name: Gsi1Index[ItemClass] = Gsi1Index()`` next to its ``gsi1pk``/``gsi1sk``.
class Gsi1Index(GlobalSecondaryIndex[_Item]):  # type: ignore[no-untyped-call]  # pynamodb leaves __init_subclass__ unannotated
    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(range_key=True, attr_name="GSI1SK")


class Gsi2Index(GlobalSecondaryIndex[_Item]):  # type: ignore[no-untyped-call]  # pynamodb leaves __init_subclass__ unannotated
    class Meta:
        index_name = "GSI2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True, attr_name="GSI2PK")
    gsi2sk = UnicodeAttribute(range_key=True, attr_name="GSI2SK")


def user_partition(user_id: str) -> str:
    return f"USER#{user_id}"


M = TypeVar("M", bound=MainTableModel)


def query_page(
    model: type[M],
    partition: str,
    condition: Any,
    limit: int,
    start_key: dict[str, Any] | None,
    newest_first: bool = True,
    filter_condition: Any = None,
) -> tuple[list[M], dict[str, Any] | None]:
    """One page of a partition and the start key of the next page, or None when nothing follows.

    Asking for one item more than the page tells whether another page exists, so a client never
    follows a token to an empty page. The start key is DynamoDB's typed form (``{"PK": {"S": ...}}``).
    """
    items = list(
        model.query(
            partition,
            condition,
            filter_condition=filter_condition,
            scan_index_forward=not newest_first,
            limit=limit + 1,
            last_evaluated_key=start_key,
        )
    )
    page = items[:limit]
    next_key = {"PK": {"S": page[-1].pk}, "SK": {"S": page[-1].sk}} if len(items) > limit else None
    return page, next_key


def condition_failed(error: PynamoDBException) -> bool:
    """Whether a single conditional write (a ``PutError``, ``UpdateError`` or ``DeleteError``) was refused
    because its condition did not hold, rather than for any other reason."""
    return error.cause_response_code == _WRITE_CONDITION_FAILED


# pynamodb sends a transaction's writes grouped by kind, in this order (and in call order within a kind);
# DynamoDB's cancellation reasons follow the order sent.
_TRANSACTION_KINDS = ("condition_check", "delete", "put", "update")


@cache
def transaction_connection() -> Connection:
    """The container's one DynamoDB connection, with the table's timeouts and retries. Its botocore client
    is every model's too (``dynamodb_client``)."""
    return Connection(
        connect_timeout_seconds=MainTableMeta.connect_timeout_seconds,
        read_timeout_seconds=MainTableMeta.read_timeout_seconds,
        max_retry_attempts=MainTableMeta.max_retry_attempts,
    )


_client_lock = threading.Lock()


def dynamodb_client() -> Any:
    """The container's one botocore DynamoDB client. pynamodb builds a connection per model class, each with
    its own botocore session and client (the service model parsed again, its own HTTP pool): measured in a
    fan-out worker, about 500 MB of its memory and seconds of its first batch across the 29 models, and a
    new transaction connection cost 0.1 to 1 s. botocore clients are safe to share between threads; the
    lock keeps threads starting at once from each building one."""
    with _client_lock:
        return transaction_connection().client


_Read = TypeVar("_Read")
BATCH_GET_MAX_KEYS = 100  # BatchGetItem's limit
BATCH_GET_ATTEMPTS = 5


@dataclass(frozen=True)
class ItemRead(Generic[_Read]):
    """One item read by its keys, and what its repository makes of it (``read_items`` reads several at once)."""

    model: type[MainTableModel]
    pk: str
    sk: str
    convert: Callable[[Any], _Read]


def read_items(*reads: ItemRead[Any]) -> list[Any]:
    """The items of ``reads`` in one strongly consistent BatchGetItem (a round trip, not one per item), each
    converted by its repository, None where an item does not exist; in the order asked. Keys DynamoDB leaves
    unprocessed (throttling) are asked again, then an error."""
    if len(reads) > BATCH_GET_MAX_KEYS:
        raise ValueError(f"at most {BATCH_GET_MAX_KEYS} items at once")
    table = get_settings().table_name
    wanted = {(read.pk, read.sk) for read in reads}
    keys = [{"PK": {"S": pk}, "SK": {"S": sk}} for pk, sk in wanted]
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for attempt in range(BATCH_GET_ATTEMPTS):
        answer = dynamodb_client().batch_get_item(
            RequestItems={table: {"Keys": keys, "ConsistentRead": True}}
        )
        for raw in answer.get("Responses", {}).get(table, []):
            found[(raw["PK"]["S"], raw["SK"]["S"])] = raw
        keys = answer.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
        if not keys:
            break
        time.sleep(0.05 * 2**attempt)
    else:
        raise PynamoDBException(f"{len(keys)} items left unread by BatchGetItem")
    results: list[Any] = []
    for read in reads:
        raw = found.get((read.pk, read.sk))
        results.append(None if raw is None else read.convert(read.model.from_raw_data(raw)))
    return results


class NamedTransaction:
    """One all-or-nothing TransactWriteItems whose writes carry names, so that a cancellation says
    *which* write's condition failed, whatever order the writes were added in.

        transaction = NamedTransaction()
        transaction.save("key", item, condition=...)
        transaction.update("counter", counter, actions=[...], condition=...)
        try:
            transaction.commit()
        except TransactWriteError as error:
            if transaction.condition_failed(error, "counter"):
                ...
            raise
    """

    def __init__(self) -> None:
        self._writes: dict[str, list[tuple[str, Callable[[TransactWrite], None]]]] = {
            kind: [] for kind in _TRANSACTION_KINDS
        }

    def _add(self, kind: str, name: str, write: Callable[[TransactWrite], None]) -> None:
        if name in self.names:
            raise ValueError(f"a write named {name!r} is already part of this transaction")
        self._writes[kind].append((name, write))

    @property
    def names(self) -> list[str]:
        """The writes' names in the order DynamoDB receives (and answers) them."""
        return [name for kind in _TRANSACTION_KINDS for name, _ in self._writes[kind]]

    def save(self, name: str, model: Model, condition: Condition | None = None) -> None:
        self._add("put", name, lambda transaction: transaction.save(model, condition=condition))

    def update(
        self, name: str, model: Model, actions: Sequence[Action], condition: Condition | None = None
    ) -> None:
        self._add(
            "update",
            name,
            lambda transaction: transaction.update(model, actions=list(actions), condition=condition),
        )

    def delete(self, name: str, model: Model, condition: Condition | None = None) -> None:
        self._add("delete", name, lambda transaction: transaction.delete(model, condition=condition))

    def commit(self) -> None:
        with TransactWrite(connection=transaction_connection()) as transaction:
            for kind in _TRANSACTION_KINDS:
                for _, write in self._writes[kind]:
                    write(transaction)

    def failed_conditions(self, error: TransactWriteError) -> set[str]:
        """The names of the writes whose condition failed (empty when it was cancelled for another reason)."""
        reasons = error.cancellation_reasons or []
        return {
            name
            for name, reason in zip(self.names, reasons, strict=False)
            if getattr(reason, "code", None) == _TRANSACTION_CONDITION_FAILED
        }

    def condition_failed(self, error: TransactWriteError, name: str) -> bool:
        """Whether the write named ``name`` is one whose condition failed."""
        return name in self.failed_conditions(error)
