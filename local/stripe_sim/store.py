"""The simulated Stripe account: its resource families over one object store and one event log.

| module             | holds                                                                 |
|--------------------|-----------------------------------------------------------------------|
| ``state``          | every object by id in its API shape; subscription items               |
| ``events``         | the events each change emits, and the outbox the webhooks drain       |
| ``listing``        | pagination and the ``created`` filter of list endpoints               |
| ``customers``      | customers                                                             |
| ``catalog``        | products and their monthly prices (seeded in-process)                 |
| ``checkout``       | Checkout Sessions, and paying one                                     |
| ``subscriptions``  | subscriptions: changes, prorations, cancellation, renewals            |
| ``invoices``       | invoices, paid or failed                                              |

The store is single-threaded: ``StripeSimulator`` holds its lock around every call and delivers the events
collected in the outbox only after releasing it, so a webhook receiver may call the API back while handling
an event without deadlocking.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from local.stripe_sim.catalog import Catalog
from local.stripe_sim.checkout import Checkout
from local.stripe_sim.customers import Customers
from local.stripe_sim.events import EventLog
from local.stripe_sim.forms import Params
from local.stripe_sim.invoices import Invoices
from local.stripe_sim.objects import JsonObject
from local.stripe_sim.state import State
from local.stripe_sim.subscriptions import Subscriptions


class Store:
    def __init__(
        self,
        *,
        clock: Callable[[], int],
        base_url: Callable[[], str],
        pending_webhooks: Callable[[], int],
    ) -> None:
        self.state = State(clock=clock, base_url=base_url)
        self.events = EventLog(self.state, pending_webhooks=pending_webhooks)
        self.customers = Customers(self.state)
        self.catalog = Catalog(self.state)
        self.invoices = Invoices(self.state)
        self.subscriptions = Subscriptions(self.state, self.events, self.invoices)
        self.checkout = Checkout(self.state, self.events, self.customers, self.subscriptions)

    # --- reading any object --------------------------------------------------------------------

    def retrieve(self, kind: str, object_id: str) -> JsonObject:
        """``GET /v1/<kind>s/{id}``: the object as the API renders it, or 404."""
        self.state.get(kind, object_id)
        return self.state.render(object_id)

    def expand(self, obj: JsonObject, paths: Iterable[str]) -> JsonObject:
        """Apply ``expand[]`` paths in place; unknown paths are ignored rather than rejected."""
        for path in paths:
            self._expand_node(obj, [part for part in str(path).split(".") if part])
        return obj

    def _expand_node(self, node: Any, parts: list[str]) -> None:
        if not parts:
            return
        if isinstance(node, list):
            for element in node:
                self._expand_node(element, parts)
            return
        if not isinstance(node, dict):
            return
        key, rest = parts[0], parts[1:]
        if key == "line_items" and node.get("object") == "checkout.session" and key not in node:
            node[key] = self.checkout.line_items(node["id"])
        value = node.get(key)
        if isinstance(value, str) and value in self.state.objects:
            value = self.state.render(value)
            node[key] = value
        elif isinstance(value, list):
            for index, element in enumerate(value):
                if isinstance(element, str) and element in self.state.objects:
                    value[index] = self.state.render(element)
        self._expand_node(value, rest)

    # --- what the local stack calls (``local/stack.py``) ----------------------------------------

    def create_subscription(self, params: Params) -> JsonObject:
        return self.subscriptions.create(params)

    def cancel_subscription(self, subscription_id: str, params: Params) -> JsonObject:
        return self.subscriptions.cancel(subscription_id, params)
