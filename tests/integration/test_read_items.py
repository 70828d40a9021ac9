"""``read_items``: several items of the table in one BatchGetItem, through pynamodb's models into moto."""

from __future__ import annotations

import json

from botocore.awsrequest import AWSResponse

from core.models.trading import AccountSnapshot
from core.repositories.equity_cache import EquityCacheRepository
from core.repositories.table import dynamodb_client, read_items


def test_the_items_come_back_in_the_order_asked_and_a_missing_one_is_none(aws):
    equity = EquityCacheRepository()
    first = AccountSnapshot(equity_usdt=1000.0, busy_symbols=frozenset({"BTC/USDT"}), read_at_ms=1)
    second = AccountSnapshot(equity_usdt=2000.0, busy_symbols=frozenset(), read_at_ms=2)
    equity.save("user-a", "key-1", first)
    equity.save("user-b", "key-2", second)
    answers = read_items(
        equity.read("user-b", "key-2"),
        equity.read("user-a", "key-missing"),
        equity.read("user-a", "key-1"),
        equity.read("user-b", "key-1"),  # another user's partition: not user-a's item
    )
    assert answers == [second, None, first, None]


def test_keys_dynamodb_leaves_unprocessed_are_asked_again(aws):
    equity = EquityCacheRepository()
    snapshot = AccountSnapshot(equity_usdt=1000.0, busy_symbols=frozenset(), read_at_ms=1)
    equity.save("user-a", "key-1", snapshot)
    calls: list[int] = []

    def throttle_the_first_call(params, **_):
        calls.append(1)
        if len(calls) > 1:
            return None
        keys = json.loads(params["body"])["RequestItems"]
        return AWSResponse(params["url"], 200, {}, None), {"Responses": {}, "UnprocessedKeys": keys}

    client = dynamodb_client()
    client.meta.events.register("before-call.dynamodb.BatchGetItem", throttle_the_first_call)
    try:
        assert read_items(equity.read("user-a", "key-1")) == [snapshot]
    finally:
        client.meta.events.unregister("before-call.dynamodb.BatchGetItem", throttle_the_first_call)
    assert len(calls) == 2
