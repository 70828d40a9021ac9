"""The simulated account's objects: each kept in its API shape, by id, with references as ids.

``subscription.customer == "cus_..."``; ``expand[]`` replaces such ids with the rendered objects. Only
subscription items are kept apart (``items``), because their ``price``/``plan`` are rendered live from the
current price object, as Stripe does. Every resource family (customers, catalog, checkout, subscriptions,
invoices) reads and writes its objects here; the lock around all of it is ``StripeSimulator``'s.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from local.stripe_sim import objects
from local.stripe_sim.errors import ResourceMissing
from local.stripe_sim.objects import JsonObject


class State:
    def __init__(self, *, clock: Callable[[], int], base_url: Callable[[], str]) -> None:
        self._clock = clock
        self._base_url = base_url  # read per use: the server's address is known only once it listens
        self.objects: dict[str, JsonObject] = {}
        self._ids_by_kind: dict[str, list[str]] = defaultdict(list)
        self.items: dict[str, list[JsonObject]] = {}  # subscription id -> its items, prices as ids

    def now(self) -> int:
        return self._clock()

    def base_url(self) -> str:
        """Where the simulator serves its hosted pages (Checkout, invoices)."""
        return self._base_url()

    def add(self, kind: str, obj: JsonObject) -> JsonObject:
        self.objects[obj["id"]] = obj
        self._ids_by_kind[kind].append(obj["id"])
        return obj

    def get(
        self, kind: str, object_id: str | None, *, param: str = "id", http_status: int = 404
    ) -> JsonObject:
        """The stored object (mutable); ``ResourceMissing`` when no ``kind`` has that id."""
        obj = self.objects.get(object_id or "")
        if obj is None or obj.get("object") != kind:
            raise ResourceMissing(kind, object_id or "", param=param, http_status=http_status)
        return obj

    def ids_of(self, kind: str, predicate: Callable[[JsonObject], bool] | None = None) -> list[str]:
        """Ids of ``kind``, newest first (Stripe's list order), optionally filtered."""
        ids = list(reversed(self._ids_by_kind[kind]))
        if predicate is None:
            return ids
        return [object_id for object_id in ids if predicate(self.objects[object_id])]

    def render(self, object_id: str) -> JsonObject:
        """A detached copy of an object in API shape, with its live sub-objects filled in."""
        obj = objects.deep_copy(self.objects[object_id])
        if obj.get("object") == "subscription":
            obj["items"] = self._render_items(object_id)
        return obj

    def _render_items(self, subscription_id: str) -> JsonObject:
        items = [
            objects.subscription_item_shape(
                item_id=item["id"],
                created=item["created"],
                subscription_id=subscription_id,
                price=self.objects[item["price"]],
                quantity=item["quantity"],
                period_start=item["current_period_start"],
                period_end=item["current_period_end"],
                metadata=dict(item["metadata"]),
            )
            for item in self.items[subscription_id]
        ]
        rendered = objects.list_object(items, f"/v1/subscription_items?subscription={subscription_id}")
        rendered["total_count"] = len(items)
        return rendered
