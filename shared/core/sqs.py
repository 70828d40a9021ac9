"""Sending to an SQS queue: bodies in batches of SendMessageBatch's ten, every one queued or an error."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

BATCH = 10  # SQS SendMessageBatch takes at most ten


@cache
def _client() -> Any:
    import boto3

    return boto3.client("sqs")


def send_messages(queue_url: str, bodies: Sequence[str]) -> None:
    for start in range(0, len(bodies), BATCH):
        chunk = bodies[start : start + BATCH]
        answer = _client().send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(index), "MessageBody": body} for index, body in enumerate(chunk)],
        )
        if answer.get("Failed"):
            raise RuntimeError(f"{len(answer['Failed'])} of {len(chunk)} messages were not queued")
