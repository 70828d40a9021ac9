"""Publishes the application's events to its EventBridge bus (``EVENT_BUS_NAME``).

Events carry ids, never secrets. A publication that fails is logged and counted rather than failing the
trade it describes: the trade is already on the exchange, and its record says what happened.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from core.config import get_settings
from core.observability import PowertoolsCounter, logger

TRADE_EVENTS_SOURCE = "trading-api.trades"


@cache
def _client() -> Any:
    from core.aws_clients import new_client

    return new_client("events")


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
            answer = _client().put_events(Entries=[entry])
            failed = answer.get("FailedEntryCount", 0)
        except Exception as error:  # the trade stands; the event is what is lost, and that is counted
            logger.error(
                "event not published", extra={"detail_type": detail_type, "error_type": type(error).__name__}
            )
            failed = 1
        if failed:
            self._counter.count("EventsNotPublished")
