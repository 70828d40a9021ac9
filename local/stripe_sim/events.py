"""Events: every state change the API or a test helper makes is recorded as a Stripe event.

Emitting only records: ``StripeSimulator`` drains the ``outbox`` after releasing its lock and hands the
events to ``webhooks.WebhookDispatcher``, so a webhook receiver may call the API back while it handles one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from local.stripe_sim import objects
from local.stripe_sim.objects import JsonObject
from local.stripe_sim.state import State


@dataclass
class RequestContext:
    """The API request an event was caused by; Stripe reports it as ``event.request``."""

    request_id: str | None = None
    idempotency_key: str | None = None


class EventLog:
    def __init__(self, state: State, *, pending_webhooks: Callable[[], int]) -> None:
        self._state = state
        self._pending_webhooks = pending_webhooks  # 1 while an endpoint is configured, as Stripe counts
        self.events: list[JsonObject] = []  # every event, oldest first
        self.outbox: list[JsonObject] = []  # emitted, not yet handed to the webhook dispatcher
        self.request = RequestContext()  # set by the simulator around each API call

    def emit(
        self,
        event_type: str,
        obj: JsonObject,
        previous_attributes: JsonObject | None = None,
        *,
        from_request: bool = True,
    ) -> JsonObject:
        """Record an event about ``obj`` (a rendered object); ``from_request=False`` for what Stripe does on
        its own (a renewal, a paid Checkout), which names no API request."""
        request = (
            {"id": self.request.request_id, "idempotency_key": self.request.idempotency_key}
            if from_request
            else {"id": None, "idempotency_key": None}
        )
        event = objects.event_shape(
            event_id=objects.new_id("evt"),
            created=self._state.now(),
            event_type=event_type,
            obj=objects.deep_copy(obj),
            previous_attributes=previous_attributes,
            pending_webhooks=self._pending_webhooks(),
            request=request,
        )
        self._state.add("event", event)
        self.events.append(event)
        self.outbox.append(event)
        return event

    def drain_outbox(self) -> list[JsonObject]:
        events, self.outbox = self.outbox, []
        return events


def changed_fields(before: JsonObject, after: JsonObject) -> JsonObject:
    """An update event's ``previous_attributes``: the old value of every top-level field that changed."""
    return {key: value for key, value in before.items() if after.get(key) != value}
