"""Sending many messages at once: every body queued exactly once, whatever the batching."""

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from core import aws_clients, sqs


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
    aws_clients.reset()
    queue_url = boto3.client("sqs").create_queue(QueueName=f"send-test-{count}")["QueueUrl"]
    bodies = [f"message {index}" for index in range(count)]
    sqs.send_messages(queue_url, bodies)
    assert sorted(_drain(queue_url)) == sorted(bodies)


def test_messages_sqs_did_not_queue_are_an_error_after_the_other_batches_are_sent(aws):
    """SendMessageBatch answers 200 with the entries it refused under ``Failed``; the sender must not take
    that for success."""
    aws_clients.reset()
    client = aws_clients.client("sqs")
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


def test_queues_still_count_and_deduplicate_as_sqs_does(aws):
    """The local stack's moto counts a queue's messages only when asked (``sqs_sends_without_counting``):
    what a sender and a reader of the queue's attributes see is unchanged."""
    client = boto3.client("sqs")
    standard = client.create_queue(QueueName="send-test-counts")["QueueUrl"]
    aws_clients.reset()
    sqs.send_messages(standard, [f"message {index}" for index in range(25)])
    counts = client.get_queue_attributes(QueueUrl=standard, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessages"] == "25"
    assert "ContentBasedDeduplication" not in counts

    deduplicated = client.create_queue(
        QueueName="send-test.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    for _ in range(2):
        client.send_message(QueueUrl=deduplicated, MessageBody="same", MessageGroupId="g")
    assert len(_drain(deduplicated)) == 1

    strict = client.create_queue(QueueName="send-test-strict.fifo", Attributes={"FifoQueue": "true"})[
        "QueueUrl"
    ]
    with pytest.raises(client.exceptions.ClientError, match="ContentBasedDeduplication"):
        client.send_message(QueueUrl=strict, MessageBody="no id", MessageGroupId="g")
