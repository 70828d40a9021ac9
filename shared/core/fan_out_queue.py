"""The signal fan-out queue (SQS, ``FANOUT_QUEUE_URL``): one message per follower of a trigger."""

from __future__ import annotations

from collections.abc import Sequence

from core.config import get_settings
from core.models.signals import FanOutOrder
from core.sqs import send_messages


class SqsFanOutQueue:
    def send(self, orders: Sequence[FanOutOrder]) -> None:
        send_messages(get_settings().fanout_queue_url, [order.model_dump_json() for order in orders])
