"""The signal fan-out queue (SQS, ``FANOUT_QUEUE_URL``): one message per follower of a trigger."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from core.config import get_settings
from core.models.signals import FanOutOrder

BATCH = 10  # SQS SendMessageBatch takes at most ten


@cache
def _client() -> Any:
    import boto3

    return boto3.client("sqs")


class SqsFanOutQueue:
    def send(self, orders: Sequence[FanOutOrder]) -> None:
        url = get_settings().fanout_queue_url
        for start in range(0, len(orders), BATCH):
            chunk = orders[start : start + BATCH]
            answer = _client().send_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(index), "MessageBody": order.model_dump_json()}
                    for index, order in enumerate(chunk)
                ],
            )
            if answer.get("Failed"):
                raise RuntimeError(f"{len(answer['Failed'])} fan-out messages were not queued")
