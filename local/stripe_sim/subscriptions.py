"""Subscriptions: created by a paid Checkout Session (or ``POST /v1/subscriptions``), listed, changed (cancel at
period end, an item's price swapped with prorations), canceled, and renewed when a test moves time on.

Billing periods live on the items (API version 2025-03-31.basil and later). A price swap credits the unused
time of the old price and charges the rest of the cycle on the new one; those prorations wait for the next
renewal invoice (``proration_behavior=create_prorations``, the only behaviour simulated).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field

from local.stripe_sim import objects
from local.stripe_sim.errors import InvalidRequest, ResourceMissing
from local.stripe_sim.events import EventLog, changed_fields
from local.stripe_sim.forms import (
    Params,
    get_bool,
    get_dict,
    get_int,
    get_list,
    get_metadata,
    get_str,
    merge_metadata,
    missing,
    reject_unsupported,
)
from local.stripe_sim.invoices import Invoices, Line
from local.stripe_sim.listing import created_filter, paginate
from local.stripe_sim.objects import JsonObject
from local.stripe_sim.state import State

STATUSES = (
    "active",
    "past_due",
    "unpaid",
    "canceled",
    "incomplete",
    "incomplete_expired",
    "trialing",
    "paused",
)
# Stripe writes line descriptions as "1 <multiplication sign> Pro (at $20.00 / month)".
_TIMES = "\u00d7"
# Parameters the simulator no longer implements (trials, cancel_at dates): refused rather than ignored.
_UNSUPPORTED_ON_CREATE = ("trial_period_days",)
_UNSUPPORTED_ON_UPDATE = ("cancel_at",)


@dataclass
class _Billing:
    """A subscription's billing bookkeeping that is not part of its API object."""

    anchor: int
    cycle: int  # the current period ends at anchor + cycle * interval
    fail_next_payment: bool = False
    prorations: list[Line] = field(default_factory=list)  # for the next renewal invoice


class Subscriptions:
    def __init__(self, state: State, events: EventLog, invoices: Invoices) -> None:
        self._state = state
        self._events = events
        self._invoices = invoices
        self._billing: dict[str, _Billing] = {}

    # --- creation ------------------------------------------------------------------------------

    def start(
        self,
        customer_id: str,
        lines: list[tuple[str, int]],
        *,
        metadata: dict[str, str],
        description: str | None,
    ) -> tuple[str, str]:
        """An active subscription to ``(price id, quantity)`` lines and its paid first invoice; emits nothing."""
        now = self._state.now()
        first_price = self._state.objects[lines[0][0]]
        subscription_id = objects.new_id("sub")
        subscription = objects.subscription_shape(
            subscription_id=subscription_id,
            created=now,
            customer_id=customer_id,
            currency=first_price["currency"],
            metadata=metadata,
            status="active",
            trial_start=None,
            trial_end=None,
            description=description,
        )
        self._state.add("subscription", subscription)
        self._billing[subscription_id] = _Billing(anchor=now, cycle=1)
        self._state.items[subscription_id] = [
            self._new_item(subscription_id, price_id, quantity, period_start=now)
            for price_id, quantity in lines
        ]
        invoice = self._invoices.create(
            subscription_id,
            [self._item_line(item) for item in self._state.items[subscription_id]],
            billing_reason="subscription_create",
            period_start=now,
            period_end=now,
        )
        self._invoices.mark_paid(invoice)
        subscription["latest_invoice"] = invoice["id"]
        return subscription_id, invoice["id"]

    def create(self, params: Params) -> JsonObject:
        """``POST /v1/subscriptions``: charged at once (the customer's card always pays)."""
        reject_unsupported(params, _UNSUPPORTED_ON_CREATE)
        customer_id = get_str(params, "customer", required=True) or ""
        self._state.get("customer", customer_id, param="customer", http_status=400)
        raw_items = get_list(params, "items")
        if not raw_items:
            raise missing("items")
        lines: list[tuple[str, int]] = []
        for index, raw in enumerate(raw_items):
            param = f"items[{index}]"
            price_id = get_str(raw, "price") if isinstance(raw, dict) else None
            if price_id is None:
                raise missing(f"{param}[price]")
            self._state.get("price", price_id, param=f"{param}[price]", http_status=400)
            quantity = get_int(raw, "quantity", param=f"{param}[quantity]")
            lines.append((price_id, 1 if quantity is None else quantity))
        subscription_id, invoice_id = self.start(
            customer_id,
            lines,
            metadata=merge_metadata({}, get_metadata(params), clear_all=False),
            description=get_str(params, "description"),
        )
        self._events.emit("customer.subscription.created", self._state.render(subscription_id))
        self._events.emit("invoice.paid", self._state.render(invoice_id))
        return self._state.render(subscription_id)

    def _new_item(
        self, subscription_id: str, price_id: str, quantity: int, *, period_start: int
    ) -> JsonObject:
        return {
            "id": objects.new_id("si"),
            "created": self._state.now(),
            "price": price_id,
            "quantity": quantity,
            "metadata": {},
            "current_period_start": period_start,
            "current_period_end": self._period_end(subscription_id, price_id),
        }

    def _period_end(self, subscription_id: str, price_id: str) -> int:
        billing = self._billing[subscription_id]
        recurring = self._state.objects[price_id]["recurring"]
        return objects.add_interval(
            billing.anchor, recurring["interval"], recurring["interval_count"] * billing.cycle
        )

    def _item_line(self, item: JsonObject) -> Line:
        price = self._state.objects[item["price"]]
        product = self._state.objects[price["product"]]
        recurring = price["recurring"]
        interval = (
            recurring["interval"]
            if recurring["interval_count"] == 1
            else f"{recurring['interval_count']} {recurring['interval']}s"
        )
        unit = objects.format_amount(price["unit_amount"], price["currency"])
        return Line(
            item_id=item["id"],
            price_id=price["id"],
            quantity=item["quantity"],
            amount=price["unit_amount"] * item["quantity"],
            period_start=item["current_period_start"],
            period_end=item["current_period_end"],
            description=f"{item['quantity']} {_TIMES} {product['name']} (at {unit} / {interval})",
        )

    # --- reading -------------------------------------------------------------------------------

    def list(self, params: Params) -> JsonObject:
        customer = get_str(params, "customer")
        price = get_str(params, "price") or get_str(params, "plan")
        status = get_str(params, "status")
        if status is not None and status not in (*STATUSES, "all", "ended"):
            raise InvalidRequest(f"Invalid status: {status}", code="parameter_invalid_string", param="status")
        in_range = created_filter(params)

        def status_matches(sub: JsonObject) -> bool:
            if status is None:
                # Stripe's default listing hides canceled subscriptions.
                return sub["status"] != "canceled"
            if status == "all":
                return True
            if status == "ended":
                return sub["status"] in ("canceled", "incomplete_expired")
            return sub["status"] == status

        def matches(sub: JsonObject) -> bool:
            return (
                (customer is None or sub["customer"] == customer)
                and (price is None or any(item["price"] == price for item in self._state.items[sub["id"]]))
                and status_matches(sub)
                and in_range(sub)
            )

        return paginate(self._state, self._state.ids_of("subscription", matches), params, "/v1/subscriptions")

    # --- changes -------------------------------------------------------------------------------

    def update(self, subscription_id: str, params: Params) -> JsonObject:
        subscription = self._state.get("subscription", subscription_id)
        if subscription["status"] == "canceled" and set(params) - {
            "metadata",
            "cancellation_details",
            "expand",
        }:
            raise InvalidRequest(
                "A canceled subscription can only update its cancellation_details and metadata."
            )
        reject_unsupported(params, _UNSUPPORTED_ON_UPDATE)
        proration_behavior = get_str(params, "proration_behavior") or "create_prorations"
        if proration_behavior != "create_prorations":
            raise InvalidRequest(
                "The Stripe simulator only implements proration_behavior=create_prorations.",
                param="proration_behavior",
            )
        before = self._state.render(subscription_id)
        metadata = get_metadata(params)
        subscription["metadata"] = merge_metadata(
            subscription["metadata"], metadata, clear_all=metadata == {}
        )
        if "description" in params:
            subscription["description"] = get_str(params, "description") or None
        self._update_cancellation_details(subscription, params)
        at_period_end = get_bool(params, "cancel_at_period_end")
        if at_period_end:
            self._schedule_cancel(subscription)
        elif at_period_end is False:
            self._clear_cancel(subscription)
        self._swap_items(subscription_id, get_list(params, "items"))
        after = self._state.render(subscription_id)
        previous = changed_fields(before, after)
        if previous:
            self._events.emit("customer.subscription.updated", after, previous)
        return after

    @staticmethod
    def _update_cancellation_details(subscription: JsonObject, params: Params) -> None:
        details = get_dict(params, "cancellation_details") or {}
        for name in ("comment", "feedback"):
            if name in details:
                subscription["cancellation_details"][name] = get_str(details, name) or None

    def _schedule_cancel(self, subscription: JsonObject) -> None:
        subscription["cancel_at"] = min(
            item["current_period_end"] for item in self._state.items[subscription["id"]]
        )
        subscription["cancel_at_period_end"] = True
        # Stripe sets canceled_at to the time of the request that scheduled the cancellation.
        subscription["canceled_at"] = self._state.now()
        subscription["cancellation_details"]["reason"] = "cancellation_requested"

    @staticmethod
    def _clear_cancel(subscription: JsonObject) -> None:
        subscription["cancel_at"] = None
        subscription["cancel_at_period_end"] = False
        subscription["canceled_at"] = None
        subscription["cancellation_details"]["reason"] = None

    def _swap_items(self, subscription_id: str, raw_items: builtins.list[object]) -> None:
        """``items[i][id]`` with a new ``price`` and/or ``quantity``; the prorations wait for the renewal."""
        items = self._state.items[subscription_id]
        # Prorations are fractions of the whole current cycle.
        cycle = (min(i["current_period_start"] for i in items), max(i["current_period_end"] for i in items))
        for index, raw in enumerate(raw_items):
            param = f"items[{index}]"
            if not isinstance(raw, dict):
                raise InvalidRequest(f"Invalid object: {param}", code="parameter_invalid_object", param=param)
            reject_unsupported(raw, ("deleted",), prefix=param)
            item_id = get_str(raw, "id")
            if item_id is None:
                raise InvalidRequest(
                    "The Stripe simulator only changes existing items: give their id.", param=f"{param}[id]"
                )
            item = next((item for item in items if item["id"] == item_id), None)
            if item is None:
                raise ResourceMissing("subscription_item", item_id, param=f"{param}[id]", http_status=400)
            price_id = get_str(raw, "price")
            if price_id is not None:
                self._state.get("price", price_id, param=f"{param}[price]", http_status=400)
            quantity = get_int(raw, "quantity", param=f"{param}[quantity]")
            old = (item["price"], item["quantity"])
            new = (price_id or old[0], old[1] if quantity is None else quantity)
            if new != old:
                lines = [self._proration(cycle, item, *old, credit=True), self._proration(cycle, item, *new)]
                self._billing[subscription_id].prorations += [line for line in lines if line.amount != 0]
                item["price"], item["quantity"] = new
            metadata = get_metadata(raw)
            item["metadata"] = merge_metadata(item["metadata"], metadata, clear_all=metadata == {})

    def _proration(
        self, cycle: tuple[int, int], item: JsonObject, price_id: str, quantity: int, *, credit: bool = False
    ) -> Line:
        """A credit for the unused rest of the cycle on the old price, or a charge for it on the new one."""
        now = self._state.now()
        start, end = cycle
        fraction = max(0.0, min(1.0, (end - now) / (end - start))) if end > start else 0.0
        price = self._state.objects[price_id]
        product = self._state.objects[price["product"]]
        amount = round(price["unit_amount"] * quantity * fraction)
        what = "Unused" if credit else "Remaining"
        return Line(
            item_id=item["id"],
            price_id=price_id,
            quantity=quantity,
            amount=-amount if credit else amount,
            period_start=now,
            period_end=end,
            description=f"{what} time on {quantity} {_TIMES} {product['name']} after {objects.format_day(now)}",
            proration=True,
        )

    # --- the end -------------------------------------------------------------------------------

    def cancel(self, subscription_id: str, params: Params) -> JsonObject:
        subscription = self._state.get("subscription", subscription_id)
        if subscription["status"] == "canceled":
            # Stripe treats a canceled subscription as gone for cancellation purposes.
            raise ResourceMissing("subscription", subscription_id)
        self._update_cancellation_details(subscription, params)
        return self._end(subscription_id, ended_at=self._state.now())

    def _end(self, subscription_id: str, *, ended_at: int, from_request: bool = True) -> JsonObject:
        subscription = self._state.objects[subscription_id]
        subscription["status"] = "canceled"
        subscription["ended_at"] = ended_at
        if subscription["canceled_at"] is None:
            subscription["canceled_at"] = ended_at
        subscription["cancellation_details"]["reason"] = "cancellation_requested"
        self._billing[subscription_id].prorations.clear()
        rendered = self._state.render(subscription_id)
        self._events.emit("customer.subscription.deleted", rendered, from_request=from_request)
        return rendered

    # --- time moves on (test helpers) ------------------------------------------------------------

    def fail_next_payment(self, subscription_id: str) -> None:
        self._state.get("subscription", subscription_id)
        self._billing[subscription_id].fail_next_payment = True

    def renew(self, subscription_id: str, paid: bool | None = None) -> JsonObject:
        """Jump to the end of the current period: renew (and charge) it, or end a scheduled cancellation."""
        subscription = self._state.get("subscription", subscription_id)
        if subscription["status"] in ("canceled", "incomplete_expired"):
            raise InvalidRequest(
                f"Subscription {subscription_id} is {subscription['status']}; it cannot renew."
            )
        items = self._state.items[subscription_id]
        billing = self._billing[subscription_id]
        old_start = min(item["current_period_start"] for item in items)
        old_end = min(item["current_period_end"] for item in items)
        cancel_at = subscription["cancel_at"]
        if cancel_at is not None and cancel_at <= old_end:
            return self._end(subscription_id, ended_at=cancel_at, from_request=False)

        before = self._state.render(subscription_id)
        billing.cycle += 1
        for item in items:
            item["current_period_start"] = item["current_period_end"]
            item["current_period_end"] = self._period_end(subscription_id, item["price"])
        lines = billing.prorations + [self._item_line(item) for item in items]
        billing.prorations = []
        invoice = self._invoices.create(
            subscription_id,
            lines,
            billing_reason="subscription_cycle",
            period_start=old_start,
            period_end=old_end,
        )
        flagged, billing.fail_next_payment = billing.fail_next_payment, False
        succeeded = (paid if paid is not None else not flagged) or invoice["amount_due"] == 0
        if succeeded:
            self._invoices.mark_paid(invoice)
            subscription["status"] = "active"
        else:
            self._invoices.mark_failed(invoice)
            subscription["status"] = "past_due"
        subscription["latest_invoice"] = invoice["id"]
        after = self._state.render(subscription_id)
        paid_or_failed = "invoice.paid" if succeeded else "invoice.payment_failed"
        self._events.emit(paid_or_failed, self._state.render(invoice["id"]), from_request=False)
        self._events.emit(
            "customer.subscription.updated", after, changed_fields(before, after), from_request=False
        )
        return after
