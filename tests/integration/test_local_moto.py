"""The local stack's moto as its users see it: a query on a global secondary index answers what DynamoDB
would, whatever writes came before (puts, updates that move or drop an item's index keys, deletes, batches,
a cancelled transaction); the stack only finds the index's items sooner (``local.aws.indexed_gsi_queries``)."""

from __future__ import annotations

import boto3
import pytest

TABLE = "local-moto-index"


@pytest.fixture
def table(aws):
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"} for name in ("PK", "SK", "GSI1PK", "GSI1SK")
        ],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "GSI1",
                "KeySchema": [
                    {"AttributeName": "GSI1PK", "KeyType": "HASH"},
                    {"AttributeName": "GSI1SK", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    return dynamodb


def item(pk: str, sk: str, gsi: str | None = None, order: str = "1") -> dict:
    attributes = {"PK": {"S": pk}, "SK": {"S": sk}}
    if gsi is not None:
        attributes.update(GSI1PK={"S": gsi}, GSI1SK={"S": order})
    return attributes


def on_index(dynamodb, gsi: str) -> list[tuple[str, str]]:
    answer = dynamodb.query(
        TableName=TABLE,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :value",
        ExpressionAttributeValues={":value": {"S": gsi}},
    )
    return [(found["PK"]["S"], found["SK"]["S"]) for found in answer["Items"]]


def test_an_index_query_follows_every_kind_of_write(table):
    dynamodb = table
    assert on_index(dynamodb, "OPEN") == []  # queried before any write: the index starts empty
    dynamodb.put_item(TableName=TABLE, Item=item("USER#a", "TRADE#1", "OPEN", "2"))
    dynamodb.put_item(TableName=TABLE, Item=item("USER#b", "TRADE#2", "OPEN", "1"))
    dynamodb.put_item(TableName=TABLE, Item=item("USER#c", "TRADE#3"))  # not on the index
    assert on_index(dynamodb, "OPEN") == [("USER#b", "TRADE#2"), ("USER#a", "TRADE#1")]  # by GSI1SK

    dynamodb.update_item(  # moved to another index partition
        TableName=TABLE,
        Key={"PK": {"S": "USER#a"}, "SK": {"S": "TRADE#1"}},
        UpdateExpression="SET GSI1PK = :closed",
        ExpressionAttributeValues={":closed": {"S": "CLOSED"}},
    )
    dynamodb.update_item(  # joins the index
        TableName=TABLE,
        Key={"PK": {"S": "USER#c"}, "SK": {"S": "TRADE#3"}},
        UpdateExpression="SET GSI1PK = :open, GSI1SK = :order",
        ExpressionAttributeValues={":open": {"S": "OPEN"}, ":order": {"S": "3"}},
    )
    assert on_index(dynamodb, "OPEN") == [("USER#b", "TRADE#2"), ("USER#c", "TRADE#3")]
    assert on_index(dynamodb, "CLOSED") == [("USER#a", "TRADE#1")]

    dynamodb.update_item(  # leaves the index (a sparse index drops an item without its key)
        TableName=TABLE,
        Key={"PK": {"S": "USER#b"}, "SK": {"S": "TRADE#2"}},
        UpdateExpression="REMOVE GSI1PK, GSI1SK",
    )
    dynamodb.delete_item(TableName=TABLE, Key={"PK": {"S": "USER#c"}, "SK": {"S": "TRADE#3"}})
    assert on_index(dynamodb, "OPEN") == []

    dynamodb.batch_write_item(
        RequestItems={
            TABLE: [
                {"PutRequest": {"Item": item("USER#d", "TRADE#4", "OPEN")}},
                {"DeleteRequest": {"Key": {"PK": {"S": "USER#a"}, "SK": {"S": "TRADE#1"}}}},
            ]
        }
    )
    assert on_index(dynamodb, "OPEN") == [("USER#d", "TRADE#4")]
    assert on_index(dynamodb, "CLOSED") == []


def test_a_cancelled_transaction_leaves_the_index_as_it_was(table):
    dynamodb = table
    dynamodb.put_item(TableName=TABLE, Item=item("USER#a", "TRADE#1", "OPEN"))
    assert on_index(dynamodb, "OPEN") == [("USER#a", "TRADE#1")]
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"PK": {"S": "USER#a"}, "SK": {"S": "TRADE#1"}},
                        "UpdateExpression": "SET GSI1PK = :closed",
                        "ExpressionAttributeValues": {":closed": {"S": "CLOSED"}},
                    }
                },
                {"Put": {"TableName": TABLE, "Item": item("USER#b", "TRADE#2", "OPEN")}},
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": item("USER#a", "CLAIM", "OPEN"),
                        "ConditionExpression": "attribute_exists(PK)",  # fails: cancels all three
                    }
                },
            ]
        )
    assert on_index(dynamodb, "OPEN") == [("USER#a", "TRADE#1")]
    assert on_index(dynamodb, "CLOSED") == []


def on_partition(dynamodb, pk: str, **options) -> tuple[list[str], dict | None]:
    answer = dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression=options.pop("condition", "PK = :pk"),
        ExpressionAttributeValues={":pk": {"S": pk}, **options.pop("values", {})},
        **options,
    )
    return [found["SK"]["S"] for found in answer["Items"]], answer.get("LastEvaluatedKey")


def test_a_table_query_answers_its_partition_in_order_with_conditions_and_pages(table):
    dynamodb = table
    for pk, sk in [("USER#a", "TRADE#2"), ("USER#b", "TRADE#1"), ("USER#a", "KEY#1"), ("USER#a", "TRADE#1")]:
        dynamodb.put_item(TableName=TABLE, Item=item(pk, sk))
    assert on_partition(dynamodb, "USER#a") == (["KEY#1", "TRADE#1", "TRADE#2"], None)
    assert on_partition(dynamodb, "USER#none") == ([], None)
    trades = {"condition": "PK = :pk AND begins_with(SK, :prefix)", "values": {":prefix": {"S": "TRADE#"}}}
    assert on_partition(dynamodb, "USER#a", ScanIndexForward=False, **trades) == (
        ["TRADE#2", "TRADE#1"],
        None,
    )

    first, last_key = on_partition(dynamodb, "USER#a", Limit=2)
    assert first == ["KEY#1", "TRADE#1"]
    assert on_partition(dynamodb, "USER#a", Limit=2, ExclusiveStartKey=last_key) == (["TRADE#2"], None)

    dynamodb.delete_item(TableName=TABLE, Key={"PK": {"S": "USER#a"}, "SK": {"S": "TRADE#1"}})
    assert on_partition(dynamodb, "USER#a") == (["KEY#1", "TRADE#2"], None)
