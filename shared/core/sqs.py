"""Sending to an SQS queue: bodies in batches of SendMessageBatch's ten, every one queued or an error.

The batches go out concurrently (``IN_FLIGHT`` at a time): a strategy with 1,000 followers is 100
SendMessageBatch calls, which one after another take longer than a signal's sender waits for its answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from core import aws_clients

BATCH = 10  # SQS SendMessageBatch takes at most ten
IN_FLIGHT = 8  # SendMessageBatch calls at once (botocore's pool holds 10 connections)


def _send_batch(queue_url: str, chunk: Sequence[str]) -> int:
    """How many of ``chunk`` SQS did not queue (a client error raises)."""
    answer = aws_clients.client("sqs").send_message_batch(
        QueueUrl=queue_url,
        Entries=[{"Id": str(index), "MessageBody": body} for index, body in enumerate(chunk)],
    )
    return len(answer.get("Failed") or [])


def send_messages(queue_url: str, bodies: Sequence[str]) -> None:
    chunks = [bodies[start : start + BATCH] for start in range(0, len(bodies), BATCH)]
    if len(chunks) <= 1:
        failed = sum(_send_batch(queue_url, chunk) for chunk in chunks)
    else:
        with ThreadPoolExecutor(max_workers=min(IN_FLIGHT, len(chunks))) as pool:
            # Every batch is tried, even after one fails; the first client error is raised after all.
            failed = sum(pool.map(lambda chunk: _send_batch(queue_url, chunk), chunks))
    if failed:
        raise RuntimeError(f"{failed} of {len(bodies)} messages were not queued")
