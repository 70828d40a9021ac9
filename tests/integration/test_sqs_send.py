"""Sending many messages at once: every body queued exactly once, whatever the batching."""

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from core import sqs


def _drain(queue_url: str) -> list[str]:
    client = boto3.client("sqs")
    bodies: list[str] = []
    while True:
        answer = client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
        messages = answer.get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(message["Body"])
            client.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.mark.parametrize("count", [1, 10, 11, 95])
def test_every_body_is_queued_once(aws, count):
    sqs._client.cache_clear()
    queue_url = boto3.client("sqs").create_queue(QueueName=f"send-test-{count}")["QueueUrl"]
    bodies = [f"message {index}" for index in range(count)]
    sqs.send_messages(queue_url, bodies)
    assert sorted(_drain(queue_url)) == sorted(bodies)


def test_messages_sqs_did_not_queue_are_an_error_after_the_other_batches_are_sent(aws):
    """SendMessageBatch answers 200 with the entries it refused under ``Failed``; the sender must not take
    that for success."""
    sqs._client.cache_clear()
    client = sqs._client()
    queue_url = client.create_queue(QueueName="send-test-refused")["QueueUrl"]
    bodies = [f"message {index}" for index in range(30)]

    def refuse_the_second_batch(params, **_):
        body = params["body"]  # the request as sent (SQS's JSON protocol)
        if b'"message 15"' in (body if isinstance(body, bytes) else body.encode()):
            failed = [{"Id": str(i), "SenderFault": False, "Code": "InternalError"} for i in range(10)]
            return AWSResponse(params["url"], 200, {}, None), {"Successful": [], "Failed": failed}
        return None

    client.meta.events.register("before-call.sqs.SendMessageBatch", refuse_the_second_batch)
    with pytest.raises(RuntimeError, match="10 of 30 messages were not queued"):
        sqs.send_messages(queue_url, bodies)
    assert sorted(_drain(queue_url)) == sorted(bodies[:10] + bodies[20:])
