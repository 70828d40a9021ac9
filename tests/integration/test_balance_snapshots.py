"""The daily snapshot job, total balance and balance history."""

from __future__ import annotations

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from local.events import LocalLambdaContext, sqs_event
from local.openapi import load_function_module
from local.template import load_template
from tests.support import BASIC, PROFESSIONAL, USER_A, USER_B, add_key, call, give_plan
from tests.support import KEYS_PATH as KEYS


@pytest.fixture(autouse=True)
def snapshot_queue(aws, monkeypatch):
    from core import wiring
    from core.config import get_settings

    monkeypatch.setenv("SNAPSHOT_QUEUE_URL", aws.local_values["BalanceSnapshotQueue"])
    get_settings.cache_clear()
    wiring.reset()
    return aws.local_values["BalanceSnapshotQueue"]


def run_snapshot_job() -> dict:
    """The schedule's run (it queues one message per key), then its queue delivered to the snapshot worker as
    Lambda's SQS poller would (batches of 10): the enumerator's report and the records the worker failed."""
    from core.config import get_settings

    module = load_function_module(load_template(), "BalanceSnapshotFunction")
    report = module.lambda_handler(
        {"source": "aws.scheduler"}, LocalLambdaContext("BalanceSnapshotFunction", 300)
    )
    worker = load_function_module(load_template(), "BalanceSnapshotWorkerFunction")
    queue_url = get_settings().snapshot_queue_url
    sqs = boto3.client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    failures: list[str] = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        try:
            answer = worker.lambda_handler(
                sqs_event(messages, arn), LocalLambdaContext("BalanceSnapshotWorkerFunction", 120)
            )
            failed = {item["itemIdentifier"] for item in answer["batchItemFailures"]}
        except BatchProcessingError:  # every record failed: Lambda sees an error, the whole batch returns
            failed = {message["MessageId"] for message in messages}
        failures += failed
        for message in messages:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return {**report, "failures": len(failures)}


def key_status(user: str, key_id: str) -> tuple[str, bool]:
    item = key_item(user, key_id)
    return item["status"], item["active"]


def key_item(user: str, key_id: str) -> dict:
    table = boto3.resource("dynamodb").Table("trading-api-local-main")
    return table.get_item(Key={"PK": f"USER#{user}", "SK": f"KEY#{key_id}"})["Item"]


def test_snapshot_job_run_twice_the_same_day_keeps_one_snapshot_per_key(exchange):
    give_plan(USER_A, PROFESSIONAL)
    _, _usdt = add_key(USER_A, exchange.create_account(balances={"USDT": 1200}))
    _, mixed = add_key(USER_A, exchange.create_account(balances={"USDT": 100, "BTC": 0.1}), tradeType="SPOT")

    first = run_snapshot_job()
    assert (first["queued"], first["skipped"], first["failures"]) == (2, 0, 0)
    second = run_snapshot_job()
    assert (second["queued"], second["skipped"]) == (0, 2)

    status, history, _ = call("GET", f"{KEYS}/{mixed['id']}/balance/history", user=USER_A)
    assert status == 200
    assert history == {
        "items": [{"date": first["date"], "totalUSD": 2020}],
        "nextToken": None,
    }  # 100 + 0.1 x 19200
    assert call("GET", "/v1/priv/account/exchange/balance", user=USER_A)[1] == {"USD": 3220}
    assert call("GET", "/v1/priv/account/exchange/balance", user=USER_B)[1] == {"USD": 0}


def test_a_key_the_exchange_refuses_becomes_unauthorized_and_inactive(exchange):
    give_plan(USER_A, BASIC)
    _, _key = add_key(USER_A, exchange.create_account(balances={"USDT": 100}))
    exchange.set_faults(
        match="/account",
        error_rate=1.0,
        status=401,
        body={"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."},
    )
    report = run_snapshot_job()
    assert (report["queued"], report["failures"]) == (1, 0)  # a refused key is done with, not retried
    _, listed, _ = call("GET", f"{KEYS}/list", user=USER_A)
    assert (listed["items"][0]["apiKeyStatus"], listed["items"][0]["active"]) == ("UNAUTHORIZED", False)
    exchange.set_faults()
    assert run_snapshot_job()["queued"] == 0  # inactive keys are no longer snapshotted
    assert call("GET", "/v1/priv/account/exchange/balance", user=USER_A)[1] == {"USD": 0}


def test_a_key_the_exchange_refuses_stops_following_its_strategies(exchange):
    # Given an AUTOMATED key following a strategy
    give_plan(USER_A, BASIC)
    _, key = add_key(USER_A, exchange.create_account(balances={"USDT": 100}), strategyType="AUTOMATED")
    follows = f"/v1/priv/strategy/follow/exchange/key/{key['id']}"
    body = {
        "strategyAutomatedId": "b9f67eb2-1d6e-4a47-a735-d0d9039c9b08",
        "strategyRiskProfileId": "ab00673a-cd19-44d4-a7c4-05c63e309663",
    }
    assert call("POST", follows, user=USER_A, body=body)[0] == 200
    # When the daily snapshot finds the key refused by Binance
    exchange.set_faults(
        match="/account", error_rate=1.0, status=401, body={"code": -2015, "msg": "Invalid API-key."}
    )
    assert run_snapshot_job()["failures"] == 0
    assert key_status(USER_A, key["id"]) == ("UNAUTHORIZED", False)
    exchange.set_faults()
    # Then its follow is no longer active (and no longer among the strategy's followers)
    _, listed, _ = call("GET", follows, user=USER_A)
    assert [follow["active"] for follow in listed["items"]] == [False]


def test_other_failures_mark_the_key_failed_and_it_is_retried_next_run(exchange):
    give_plan(USER_A, BASIC)
    _, key = add_key(USER_A, exchange.create_account(balances={"USDT": 100}))
    exchange.set_faults(match="/account", error_rate=1.0, status=503)
    assert run_snapshot_job()["failures"] == 1  # left to SQS: retried, then dead-lettered
    assert key_status(USER_A, key["id"]) == ("FAILED", True)
    exchange.set_faults()
    assert run_snapshot_job()["queued"] == 1
    assert key_status(USER_A, key["id"]) == ("AUTHORIZED", True)


@pytest.fixture
def history(exchange):
    """A key with ten days of snapshots, 2022-09-01 .. 2022-09-10."""
    from core.models.exchange import BalanceSnapshot
    from core.repositories.exchange_keys import ExchangeKeyRepository

    give_plan(USER_A, BASIC)
    _, created = add_key(USER_A, exchange.create_account(balances={"USDT": 100}))
    repository = ExchangeKeyRepository()
    key = repository.get(USER_A, created["id"])
    for day in range(1, 11):
        repository.record_snapshot(
            key, BalanceSnapshot(key_id=key.id, date=f"2022-09-{day:02d}", total_usd=12340 + day), "now"
        )
    return created["id"]


def test_history_is_newest_first_and_pages_with_next_token(history):
    path = f"{KEYS}/{history}/balance/history"
    status, first, _ = call("GET", path, user=USER_A, query={"limit": "4"})
    assert status == 200
    assert [item["date"] for item in first["items"]] == [
        "2022-09-10",
        "2022-09-09",
        "2022-09-08",
        "2022-09-07",
    ]
    assert first["items"][0] == {"date": "2022-09-10", "totalUSD": 12350}
    _, second, _ = call("GET", path, user=USER_A, query={"limit": "4", "nextToken": first["nextToken"]})
    _, third, _ = call("GET", path, user=USER_A, query={"limit": "4", "nextToken": second["nextToken"]})
    assert [item["date"] for item in second["items"] + third["items"]] == [
        f"2022-09-{d:02d}" for d in range(6, 0, -1)
    ]
    assert third["nextToken"] is None


def test_history_from_a_start_date_and_default_limit(history):
    _, body, _ = call("GET", f"{KEYS}/{history}/balance/history", user=USER_A, query={"start": "2022-09-08"})
    assert [item["date"] for item in body["items"]] == ["2022-09-10", "2022-09-09", "2022-09-08"]
    assert body["nextToken"] is None


def test_history_refuses_bad_queries_and_forged_or_foreign_tokens(history):
    path = f"{KEYS}/{history}/balance/history"
    status, body, _ = call("GET", path, user=USER_A, query={"limit": "1001", "start": "2022-13-01"})
    assert status == 422
    assert {(e["param"], e["location"]) for e in body["errors"]} == {("limit", "query"), ("start", "query")}
    _, page, _ = call("GET", path, user=USER_A, query={"limit": "2"})
    forged = page["nextToken"][:-3] + "abc"
    status, body, _ = call("GET", path, user=USER_A, query={"nextToken": forged})
    assert (status, body["errors"][0]["param"]) == (422, "nextToken")
    # the same token with another start date is another list: refused, not misapplied
    status, _, _ = call(
        "GET", path, user=USER_A, query={"nextToken": page["nextToken"], "start": "2022-09-01"}
    )
    assert status == 422


def test_ticker_as_the_reference_shows_it(exchange):
    status, ticker, _ = call("GET", "/v1/pub/exchange/ticker")
    assert status == 200
    assert set(ticker) == {
        "symbol",
        "timestamp",
        "datetime",
        "high",
        "low",
        "vwap",
        "open",
        "close",
        "last",
        "change",
        "percentage",
        "average",
        "baseVolume",
        "quoteVolume",
    }
    assert ticker["symbol"] == "BTC/USDT"
    spot = call("GET", "/v1/pub/exchange/ticker", query={"symbol": "ETH/USDT", "type": "SPOT"})[1]
    assert spot["symbol"] == "ETH/USDT"


def test_ticker_errors(exchange):
    assert call("GET", "/v1/pub/exchange/ticker", query={"symbol": "BTCUSDT"})[:2] == (
        422,
        {
            "errors": [
                {
                    "value": "BTCUSDT",
                    "msg": "must be valid exchange symbol",
                    "param": "symbol",
                    "location": "query",
                }
            ]
        },
    )
    assert call("GET", "/v1/pub/exchange/ticker", query={"symbol": "XYZ/USDT"})[:2] == (
        433,
        {"error": "invalid exchange symbol (1300)"},
    )
    status, body, _ = call("GET", "/v1/pub/exchange/ticker", query={"type": "MARGIN", "exchangeId": "KRAKEN"})
    assert status == 422
    assert {e["param"] for e in body["errors"]} == {"type", "exchangeId"}
