"""Trade records: every manual and strategy trade, its steps, fills and outcome.

| item            | PK          | SK                                           | GSI1                                      |
|-----------------|-------------|----------------------------------------------|-------------------------------------------|
| trade record    | USER#<sub>  | MANUAL_ORDER#<createdAt>#<tradeId> (or STRATEGY_ORDER#) | OPEN_TRADE#<shard> / <symbol>#<tradeId> while not finished; GSI2 OPEN_TRADES#<keyId>#<symbol> / <tradeId> likewise |
| trade locator   | USER#<sub>  | TRADE#<tradeId>                              |                                           |

The locator (written with the record's first version, in one transaction, only if absent) finds a
record by its trade id, which derives from the request's Idempotency-Key: a retried request meets the
record of its first attempt, and two attempts racing cannot both start. The histories list the records
that placed an entry, newest first; the trade monitor reads the open ones from the sparse index.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import JSONAttribute, UnicodeAttribute
from pynamodb.exceptions import TransactWriteError

from core.models.trading import Origin, TradeRecord
from core.repositories.table import (
    Gsi1Index,
    Gsi2Index,
    MainTableModel,
    NamedTransaction,
    query_page,
    user_partition,
)

HISTORY_PREFIX = {Origin.MANUAL: "MANUAL_ORDER#", Origin.STRATEGY: "STRATEGY_ORDER#"}
LOCATOR_PREFIX = "TRADE#"
OPEN_TRADE_SHARDS = 10


class TradeItem(MainTableModel):
    order_id = UnicodeAttribute(null=True)
    state = UnicodeAttribute()
    record = JSONAttribute()
    gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")
    gsi2pk = UnicodeAttribute(null=True, attr_name="GSI2PK")
    gsi2sk = UnicodeAttribute(null=True, attr_name="GSI2SK")
    open_trades: Gsi1Index[TradeItem] = Gsi1Index()  # OPEN_TRADE#<shard>
    open_on_key_symbol: Gsi2Index[TradeItem] = Gsi2Index()  # OPEN_TRADES#<key>#<symbol>


class TradeLocatorItem(MainTableModel):
    record_sk = UnicodeAttribute()


def _shard(trade_id: str) -> str:
    digest = int(hashlib.sha256(trade_id.encode()).hexdigest(), 16)
    return f"OPEN_TRADE#{digest % OPEN_TRADE_SHARDS}"


def _record_sk(record: TradeRecord) -> str:
    return f"{HISTORY_PREFIX[record.origin]}{record.created_at}#{record.trade_id}"


def _item(record: TradeRecord) -> TradeItem:
    open_trade = not record.state.finished
    return TradeItem(
        pk=user_partition(record.user_id),
        sk=_record_sk(record),
        order_id=record.order_id,
        state=record.state.value,
        record=record.model_dump(mode="json"),
        gsi1pk=_shard(record.trade_id) if open_trade else None,
        gsi1sk=f"{record.symbol}#{record.trade_id}" if open_trade else None,
        gsi2pk=_key_symbol(record.key_id, record.symbol) if open_trade else None,
        gsi2sk=record.trade_id if open_trade else None,
    )


def _key_symbol(key_id: str, symbol: str) -> str:
    return f"OPEN_TRADES#{key_id}#{symbol}"


@dataclass(frozen=True)
class TradePage:
    records: list[TradeRecord]
    next_start_key: dict[str, Any] | None


class TradeAlreadyStarted(Exception):
    """A record with this trade id exists already: the request is a retry (or races its first attempt)."""


class TradeRepository:
    def start(self, record: TradeRecord) -> None:
        """Writes the first version of a record, unless a record with its trade id exists."""
        locator = TradeLocatorItem(
            pk=user_partition(record.user_id),
            sk=f"{LOCATOR_PREFIX}{record.trade_id}",
            record_sk=_record_sk(record),
        )
        transaction = NamedTransaction()
        transaction.save("locator", locator, condition=TradeLocatorItem.pk.does_not_exist())
        transaction.save("record", _item(record))
        try:
            transaction.commit()
        except TransactWriteError as error:
            if transaction.condition_failed(error, "locator"):
                raise TradeAlreadyStarted(record.trade_id) from None
            raise

    def save(self, record: TradeRecord) -> None:
        _item(record).save()

    def get(self, user_id: str, trade_id: str) -> TradeRecord | None:
        try:
            locator = TradeLocatorItem.get(user_partition(user_id), f"{LOCATOR_PREFIX}{trade_id}")
        except TradeLocatorItem.DoesNotExist:
            return None
        try:
            item = TradeItem.get(locator.pk, locator.record_sk, consistent_read=True)
        except TradeItem.DoesNotExist:
            return None
        return TradeRecord(**item.record)

    def open_trades(self) -> Iterator[TradeRecord]:
        """Every trade not yet finished, across users (the monitor's reading; never on a request path)."""
        for shard in range(OPEN_TRADE_SHARDS):
            for item in TradeItem.open_trades.query(f"OPEN_TRADE#{shard}"):
                yield TradeRecord(**item.record)

    def open_on(self, key_id: str, symbol: str) -> list[TradeRecord]:
        """The unfinished trades of one key on one symbol (at most a couple: each order clears the symbol)."""
        return [
            TradeRecord(**item.record)
            for item in TradeItem.open_on_key_symbol.query(_key_symbol(key_id, symbol))
        ]

    def history(
        self, user_id: str, origin: Origin, start: str | None, limit: int, start_key: dict[str, Any] | None
    ) -> TradePage:
        prefix = HISTORY_PREFIX[origin]
        condition = (
            TradeItem.sk.between(f"{prefix}{start}", f"{prefix}~")
            if start
            else TradeItem.sk.startswith(prefix)
        )
        page, next_key = query_page(
            TradeItem,
            user_partition(user_id),
            condition,
            limit,
            start_key,
            filter_condition=TradeItem.order_id.exists(),
        )
        return TradePage([TradeRecord(**item.record) for item in page], next_key)
