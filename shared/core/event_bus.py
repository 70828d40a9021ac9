"""Publishes the application's events to its EventBridge bus (``EVENT_BUS_NAME``).

Events carry ids, never secrets. A publication that fails is logged and counted rather than failing the
trade it describes: the trade is already on the exchange, and its record says what happened.
"""

from __future__ import annotations

import json
from typing import Any

from core import aws_clients
from core.config import get_settings
from core.observability import PowertoolsCounter, logger

TRADE_EVENTS_SOURCE = "trading-api.trades"


class EventBridgePublisher:
    def __init__(self, bus_name: str | None = None, source: str = TRADE_EVENTS_SOURCE) -> None:
        self._bus_name = bus_name
        self._source = source
        self._counter = PowertoolsCounter()

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        bus = self._bus_name or get_settings().event_bus_name
        entry = {
            "EventBusName": bus,
            "Source": self._source,
            "DetailType": detail_type,
            "Detail": json.dumps(detail, separators=(",", ":"), default=str),
        }
        try:
            answer = aws_clients.client("events").put_events(Entries=[entry])
            failed = answer.get("FailedEntryCount", 0)
        except Exception as error:  # the trade stands; the event is what is lost, and that is counted
            logger.error(
                "event not published", extra={"detail_type": detail_type, "error_type": type(error).__name__}
            )
            failed = 1
        if failed:
            self._counter.count("EventsNotPublished")
