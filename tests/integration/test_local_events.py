"""The local stack's EventBridge rules and SQS event source mappings, against moto and real function workers.

A small template (built from a dict) holds a bus, an audit rule into a log group, functions subscribed to
the bus and a queue worker with a dead-letter queue; its functions live in a folder made here and run in
their own processes, as the local stack runs the project's.
"""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from local.aws import LocalAws, provision_messaging, start_moto
from local.events import EVENTBRIDGE_ENVELOPE
from local.messaging import LocalMessaging
from local.template import Template, load_template
from local.workers import FunctionPool

HANDLERS = """
import json
import os
import pathlib
import uuid


def _record(event):
    out = pathlib.Path(os.environ["OUT_DIR"])
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{uuid.uuid4()}.json").write_text(json.dumps(event))
    return out


def subscriber(event, context):
    _record(event)


def flaky(event, context):
    out = _record(event)
    if not (out / "failed-once").exists():
        (out / "failed-once").write_text("")
        raise RuntimeError("the first attempt fails")


def broken(event, context):
    _record(event)
    raise RuntimeError("always fails")


def crasher(event, context):
    if not event["Records"]:
        return None  # the warm-up
    _record(event)
    if any(json.loads(r["body"]).get("crash") for r in event["Records"]):
        raise RuntimeError("the whole batch fails")
    return {"batchItemFailures": []}


def worker(event, context):
    if not event["Records"]:
        return None  # the warm-up
    _record(event)
    failures = [r["messageId"] for r in event["Records"] if json.loads(r["body"]).get("fail")]
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failures]}
"""


def _function(code: Path, handler: str, out: Path, events: dict, **properties) -> dict:
    return {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "CodeUri": str(code),
            "Handler": f"app.{handler}",
            "Environment": {"Variables": {"OUT_DIR": str(out)}},
            "Events": events,
            **properties,
        },
    }


def _on_bus(detail_type: str) -> dict:
    return {
        "Type": "EventBridgeRule",
        "Properties": {
            "EventBusName": {"Ref": "Bus"},
            "Pattern": {"source": ["trading-api.trades"], "detail-type": [detail_type]},
        },
    }


def _document(code: Path, out: Path) -> dict:
    return {
        "Parameters": {"Stage": {"Type": "String", "Default": "dev"}},
        "Globals": {"Function": {"Timeout": 5}},
        "Resources": {
            "Bus": {
                "Type": "AWS::Events::EventBus",
                "Properties": {"Name": {"Fn::Sub": "test-${Stage}-trades"}},
            },
            "AuditLogGroup": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": {"Fn::Sub": "/aws/events/test-${Stage}-trades"}},
            },
            "AuditRule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "Name": {"Fn::Sub": "test-${Stage}-audit"},
                    "EventBusName": {"Ref": "Bus"},
                    "EventPattern": {"source": ["trading-api.trades"]},
                    "Targets": [{"Id": "Audit", "Arn": {"Fn::GetAtt": ["AuditLogGroup", "Arn"]}}],
                },
            },
            "OrderPlacedFunction": _function(
                code, "subscriber", out / "placed", {"OnPlaced": _on_bus("Order Placed")}
            ),
            "TradeClosedFunction": _function(
                code, "flaky", out / "closed", {"OnClosed": _on_bus("Trade Closed")}
            ),
            "RepairFunction": _function(
                code,
                "broken",
                out / "repair",
                {"OnRepaired": _on_bus("Trade Repaired")},
                EventInvokeConfig={
                    "MaximumRetryAttempts": 1,
                    "DestinationConfig": {
                        "OnFailure": {"Type": "SQS", "Destination": {"Fn::GetAtt": ["RepairFailures", "Arn"]}}
                    },
                },
            ),
            "RepairFailures": {"Type": "AWS::SQS::Queue"},
            "WorkDeadLetters": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"QueueName": {"Fn::Sub": "test-${Stage}-work-dlq"}},
            },
            "WorkQueue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "QueueName": {"Fn::Sub": "test-${Stage}-work"},
                    "VisibilityTimeout": 1,
                    "RedrivePolicy": {
                        "deadLetterTargetArn": {"Fn::GetAtt": ["WorkDeadLetters", "Arn"]},
                        "maxReceiveCount": 2,
                    },
                },
            },
            "WorkerFunction": _function(
                code,
                "worker",
                out / "worker",
                {
                    "Work": {
                        "Type": "SQS",
                        "Properties": {
                            "Queue": {"Fn::GetAtt": ["WorkQueue", "Arn"]},
                            "BatchSize": 10,
                            "FunctionResponseTypes": ["ReportBatchItemFailures"],
                        },
                    }
                },
            ),
            "CrashDeadLetters": {"Type": "AWS::SQS::Queue"},
            "CrashQueue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "VisibilityTimeout": 1,
                    "RedrivePolicy": {
                        "deadLetterTargetArn": {"Fn::GetAtt": ["CrashDeadLetters", "Arn"]},
                        "maxReceiveCount": 1,
                    },
                },
            },
            "CrashFunction": _function(
                code,
                "crasher",
                out / "crash",
                {
                    "Crash": {
                        "Type": "SQS",
                        "Properties": {
                            "Queue": {"Fn::GetAtt": ["CrashQueue", "Arn"]},
                            "FunctionResponseTypes": ["ReportBatchItemFailures"],
                        },
                    }
                },
            ),
            "GatherQueue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 10}},
            "GatherFunction": _function(
                code,
                "worker",
                out / "gather",
                {
                    "Gather": {
                        "Type": "SQS",
                        "Properties": {
                            "Queue": {"Fn::GetAtt": ["GatherQueue", "Arn"]},
                            "BatchSize": 3,
                            "MaximumBatchingWindowInSeconds": 2,
                        },
                    }
                },
            ),
        },
    }


def _received(out: Path) -> list[dict]:
    if not out.exists():
        return []
    files = sorted(out.glob("*.json"), key=lambda path: path.stat().st_mtime_ns)
    return [json.loads(path.read_text()) for path in files]


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    root = tmp_path_factory.mktemp("local-events")
    code, out = root / "fn", root / "out"
    code.mkdir()
    (code / "app.py").write_text(textwrap.dedent(HANDLERS))
    template = Template(_document(code, out))
    server, endpoint_url = start_moto()
    aws = LocalAws(endpoint_url=endpoint_url, user_pool_id="", user_pool_client_id="", server=server)
    provision_messaging(template, aws.client)
    pools = {
        logical_id: FunctionPool(spec, aws.environment) for logical_id, spec in template.functions().items()
    }
    # Warm: the worker's cold start (a new process) must not outlast the 1 s visibility timeout.
    pools["WorkerFunction"].invoke({"Records": []})
    pools["CrashFunction"].invoke({"Records": []})
    messaging = LocalMessaging(template, aws.client, pools, async_retry_delays=(0.2, 0.2))
    messaging.start()
    yield aws, template, messaging, out
    messaging.stop()
    for pool in pools.values():
        pool.stop()
    aws.stop()


def _put(aws: LocalAws, detail_type: str, detail: dict, source: str = "trading-api.trades") -> str:
    answer = aws.client("events").put_events(
        Entries=[
            {
                "EventBusName": "test-local-trades",
                "Source": source,
                "DetailType": detail_type,
                "Detail": json.dumps(detail),
            }
        ]
    )
    assert answer["FailedEntryCount"] == 0
    return answer["Entries"][0]["EventId"]


def test_an_event_reaches_the_matching_function_once_with_eventbridges_envelope(local):
    aws, _, messaging, out = local
    event_id = _put(aws, "Order Placed", {"tradeId": "t-1", "userId": "u-1"})
    _put(aws, "Order Placed", {"tradeId": "t-x"}, source="someone.else")
    messaging.wait_until_idle(timeout=30)

    (received,) = _received(out / "placed")
    assert list(received) == list(EVENTBRIDGE_ENVELOPE)
    assert received["id"] == event_id
    assert received["detail-type"] == "Order Placed"
    assert received["source"] == "trading-api.trades"
    assert received["detail"] == {"tradeId": "t-1", "userId": "u-1"}
    assert (received["account"], received["region"], received["version"]) == (
        "123456789012",
        "us-east-1",
        "0",
    )
    assert received["time"].endswith("Z")
    assert received["resources"] == []
    # Subscribed to another detail-type: not invoked.
    assert _received(out / "closed") == []


def test_the_audit_log_group_receives_every_trade_event(local):
    aws, _, messaging, _ = local
    event_id = _put(aws, "Stop Loss Filled", {"tradeId": "t-2"})
    _put(aws, "Stop Loss Filled", {"tradeId": "t-y"}, source="someone.else")
    messaging.wait_until_idle(timeout=30)

    logged = [event for event in messaging.log_events("AuditLogGroup") if event["id"] == event_id]
    assert [(event["detail-type"], event["detail"]) for event in logged] == [
        ("Stop Loss Filled", {"tradeId": "t-2"})
    ]
    assert all(event["source"] == "trading-api.trades" for event in messaging.log_events("AuditLogGroup"))


def test_a_failed_asynchronous_invocation_is_retried(local):
    aws, _, messaging, out = local
    event_id = _put(aws, "Trade Closed", {"tradeId": "t-3"})
    messaging.wait_until_idle(timeout=30)

    attempts = _received(out / "closed")
    assert [attempt["id"] for attempt in attempts] == [event_id, event_id]


def test_retries_exhausted_the_event_goes_to_the_failure_destination(local):
    aws, template, messaging, out = local
    event_id = _put(aws, "Trade Repaired", {"tradeId": "t-4"})
    messaging.wait_until_idle(timeout=30)

    assert len(_received(out / "repair")) == 2  # the invocation and its one retry
    sqs = aws.client("sqs")
    (message,) = sqs.receive_message(QueueUrl=template.local_values["RepairFailures"]).get("Messages", [])
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestPayload"]["id"] == event_id


def test_queue_messages_reach_the_worker_in_a_batch_and_a_reported_failure_ends_in_the_dlq(local):
    aws, template, messaging, out = local
    sqs = aws.client("sqs")
    queue_url = template.local_values["WorkQueue"]
    sqs.send_message_batch(
        QueueUrl=queue_url,
        Entries=[
            {"Id": "a", "MessageBody": json.dumps({"n": 1})},
            {
                "Id": "b",
                "MessageBody": json.dumps({"n": 2, "fail": True}),
                "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "bad"}},
            },
            {"Id": "c", "MessageBody": json.dumps({"n": 3})},
        ],
    )
    started = time.monotonic()
    messaging.wait_until_idle(["WorkerFunction"], timeout=30)
    assert time.monotonic() - started < 15

    batches = _received(out / "worker")
    first = batches[0]["Records"]
    assert sorted(json.loads(record["body"])["n"] for record in first) == [1, 2, 3]
    record = next(record for record in first if json.loads(record["body"]).get("fail"))
    assert {"messageId", "receiptHandle", "body", "attributes", "messageAttributes", "md5OfBody"} <= set(
        record
    )
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:test-local-work"
    assert record["awsRegion"] == "us-east-1"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
    assert record["messageAttributes"]["kind"]["stringValue"] == "bad"
    assert record["messageAttributes"]["kind"]["dataType"] == "String"

    # The failed message came back after the visibility timeout, alone, then went to the DLQ after
    # maxReceiveCount (2) receives; the others were deleted after their first batch.
    seen = [
        (json.loads(r["body"])["n"], r["attributes"]["ApproximateReceiveCount"])
        for b in batches
        for r in b["Records"]
    ]
    assert sorted(seen) == [(1, "1"), (2, "1"), (2, "2"), (3, "1")]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    dead = sqs.receive_message(QueueUrl=template.local_values["WorkDeadLetters"], MaxNumberOfMessages=10)
    assert [json.loads(m["Body"]) for m in dead.get("Messages", [])] == [{"n": 2, "fail": True}]


def test_waiting_for_an_idle_queue_times_out_while_work_remains(local):
    aws, template, messaging, _ = local
    sqs = aws.client("sqs")
    sqs.send_message(
        QueueUrl=template.local_values["WorkQueue"], MessageBody=json.dumps({"n": 4}), DelaySeconds=2
    )
    with pytest.raises(TimeoutError):
        messaging.wait_until_idle(["WorkerFunction"], timeout=0.5)
    messaging.wait_until_idle(["WorkerFunction"], timeout=30)


def test_the_batching_window_gathers_messages_sent_apart_into_one_batch(local):
    aws, template, messaging, out = local
    sqs = aws.client("sqs")
    for n in range(3):
        sqs.send_message(QueueUrl=template.local_values["GatherQueue"], MessageBody=json.dumps({"n": n}))
        time.sleep(0.3)
    messaging.wait_until_idle(["GatherFunction"], timeout=30)

    (batch,) = _received(out / "gather")
    assert [json.loads(record["body"])["n"] for record in batch["Records"]] == [0, 1, 2]


def test_an_error_fails_the_whole_batch(local):
    aws, template, messaging, out = local
    sqs = aws.client("sqs")
    sqs.send_message_batch(
        QueueUrl=template.local_values["CrashQueue"],
        Entries=[
            {"Id": "ok", "MessageBody": json.dumps({"n": 1})},
            {"Id": "crash", "MessageBody": json.dumps({"n": 2, "crash": True})},
        ],
    )
    messaging.wait_until_idle(["CrashFunction"], timeout=30)

    (batch,) = _received(out / "crash")
    assert len(batch["Records"]) == 2
    dead = sqs.receive_message(QueueUrl=template.local_values["CrashDeadLetters"], MaxNumberOfMessages=10)
    assert sorted(json.loads(m["Body"])["n"] for m in dead["Messages"]) == [1, 2]


def test_the_projects_template_audits_every_trade_event():
    """template.yaml's own bus, audit rule and log group, provisioned and run as the local stack runs them."""
    template = load_template()
    (rule,) = [rule for rule in template.rules() if rule.logical_id == "TradeEventAuditRule"]
    assert rule.pattern == {"source": ["trading-api.trades"]}
    assert rule.event_bus == "trading-api-local-trades"
    server, endpoint_url = start_moto()
    aws = LocalAws(endpoint_url=endpoint_url, user_pool_id="", user_pool_client_id="", server=server)
    messaging = LocalMessaging(template, aws.client, pools={})
    try:
        provision_messaging(template, aws.client)
        messaging.start()
        bus = template.functions()["ExchangeFunction"].environment["EVENT_BUS_NAME"]
        assert bus == "trading-api-local-trades"
        for detail_type in ("Order Placed", "Trade Closed"):
            aws.client("events").put_events(
                Entries=[
                    {
                        "EventBusName": bus,
                        "Source": "trading-api.trades",
                        "DetailType": detail_type,
                        "Detail": json.dumps({"tradeId": "t-9"}),
                    }
                ]
            )
        # No function runs here (the alert worker's queue fills and stays full): wait for the log group alone.
        deadline = time.monotonic() + 10
        while len(logged := messaging.log_events("TradeEventLogGroup")) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [event["detail-type"] for event in logged] == ["Order Placed", "Trade Closed"]
        assert all(list(event) == list(EVENTBRIDGE_ENVELOPE) for event in logged)
    finally:
        messaging.stop()
        aws.stop()


def test_provisioning_works_inside_motos_in_process_mock_too():
    """What the in-process integration tier can call so that publishing functions find their bus."""
    template = load_template()
    with mock_aws():
        provision_messaging(template, boto3.client)
        buses = [bus["Name"] for bus in boto3.client("events").list_event_buses()["EventBuses"]]
        assert "trading-api-local-trades" in buses
        groups = boto3.client("logs").describe_log_groups(logGroupNamePrefix="/aws/events/")["logGroups"]
        assert [group["logGroupName"] for group in groups] == ["/aws/events/trading-api-local-trades"]
