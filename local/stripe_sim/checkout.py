"""Checkout Sessions in ``subscription`` mode: created over the API, paid by the simulated customer.

Paying (``complete``: the hosted page's button, ``StripeSimulator.complete_checkout`` or the local stack's
``/_local/stripe/checkout/{id}/complete``) creates the subscription and its paid first invoice, then emits
``checkout.session.completed``, ``customer.subscription.created`` and ``invoice.paid``, in that order.
"""

from __future__ import annotations

from typing import Any

from local.stripe_sim import objects
from local.stripe_sim.customers import Customers
from local.stripe_sim.errors import CheckoutStateError, InvalidRequest
from local.stripe_sim.events import EventLog
from local.stripe_sim.forms import (
    Params,
    get_dict,
    get_int,
    get_list,
    get_metadata,
    get_str,
    merge_metadata,
    missing,
    reject_unsupported,
)
from local.stripe_sim.objects import JsonObject
from local.stripe_sim.state import State
from local.stripe_sim.subscriptions import Subscriptions

_LIFETIME_SECONDS = 24 * 3600


class Checkout:
    def __init__(
        self, state: State, events: EventLog, customers: Customers, subscriptions: Subscriptions
    ) -> None:
        self._state = state
        self._events = events
        self._customers = customers
        self._subscriptions = subscriptions
        self._lines: dict[str, list[JsonObject]] = {}  # session id -> its line items, prices as ids
        # subscription_data of each session, applied when the session is paid.
        self._subscription_data: dict[str, dict[str, Any]] = {}

    def create(self, params: Params) -> JsonObject:
        mode = get_str(params, "mode", required=True)
        if mode != "subscription":
            raise InvalidRequest(
                f"Invalid mode: the simulator supports `subscription`, not `{mode}`.", param="mode"
            )
        customer_id = get_str(params, "customer")
        customer_email = get_str(params, "customer_email")
        if customer_id and customer_email:
            raise InvalidRequest(
                "You may only specify one of these parameters: customer, customer_email.", param="customer"
            )
        if customer_id:
            self._state.get("customer", customer_id, param="customer", http_status=400)
        subscription_data = get_dict(params, "subscription_data") or {}
        reject_unsupported(subscription_data, ("trial_period_days",), prefix="subscription_data")

        lines = self._line_items(get_list(params, "line_items"))
        prices = [self._state.objects[line["price"]] for line in lines]
        now = self._state.now()
        session_id = objects.new_id("cs_test")
        session = objects.checkout_session_shape(
            session_id=session_id,
            created=now,
            mode=mode,
            customer_id=customer_id,
            customer_email=customer_email,
            currency=prices[0]["currency"],
            amount_total=sum(
                price["unit_amount"] * line["quantity"] for price, line in zip(prices, lines, strict=True)
            ),
            success_url=get_str(params, "success_url"),
            cancel_url=get_str(params, "cancel_url"),
            client_reference_id=get_str(params, "client_reference_id"),
            metadata=merge_metadata({}, get_metadata(params), clear_all=False),
            expires_at=get_int(params, "expires_at") or now + _LIFETIME_SECONDS,
            url=f"{self._state.base_url()}/checkout/pay/{session_id}",
        )
        self._state.add("checkout.session", session)
        self._lines[session_id] = lines
        self._subscription_data[session_id] = {
            "metadata": merge_metadata({}, get_metadata(subscription_data), clear_all=False),
            "description": get_str(subscription_data, "description"),
        }
        return self._state.render(session_id)

    def _line_items(self, line_items: list[Any]) -> list[JsonObject]:
        if not line_items:
            raise missing("line_items")
        lines: list[JsonObject] = []
        for index, raw in enumerate(line_items):
            param = f"line_items[{index}]"
            if not isinstance(raw, dict):
                raise InvalidRequest(f"Invalid object: {param}", code="parameter_invalid_object", param=param)
            reject_unsupported(raw, ("price_data",), prefix=param)
            price_id = get_str(raw, "price")
            if price_id is None:
                raise missing(f"{param}[price]")
            self._state.get("price", price_id, param=f"{param}[price]", http_status=400)
            quantity = get_int(raw, "quantity", required=True, param=f"{param}[quantity]") or 0
            if quantity < 1:
                raise InvalidRequest("Quantity must be at least 1.", param=f"{param}[quantity]")
            lines.append({"id": objects.new_id("li"), "price": price_id, "quantity": quantity})
        return lines

    def line_items(self, session_id: str) -> JsonObject:
        """The session's ``line_items`` (an includable property: only present when expanded)."""
        self._state.get("checkout.session", session_id)
        data = [
            objects.checkout_line_item_shape(
                line_id=line["id"],
                price=self._state.objects[line["price"]],
                product=self._state.objects[self._state.objects[line["price"]]["product"]],
                quantity=line["quantity"],
            )
            for line in self._lines[session_id]
        ]
        return objects.list_object(data, f"/v1/checkout/sessions/{session_id}/line_items")

    def complete(self, session_id: str) -> JsonObject:
        """The customer pays on the hosted page; returns the subscription created."""
        session = self._state.get("checkout.session", session_id)
        if session["status"] != "open":
            raise CheckoutStateError(
                f"Checkout Session {session_id} is {session['status']}; only open sessions can be paid."
            )
        customer_id = session["customer"]
        if customer_id is None:
            email = session["customer_email"] or f"{session_id[-8:].lower()}@customer.test"
            customer_id = self._customers.create({"email": email})["id"]
        customer = self._state.objects[customer_id]
        data = self._subscription_data[session_id]
        subscription_id, invoice_id = self._subscriptions.start(
            customer_id,
            [(line["price"], line["quantity"]) for line in self._lines[session_id]],
            metadata=dict(data["metadata"]),
            description=data["description"],
        )
        session.update(
            {
                "status": "complete",
                "payment_status": "paid" if session["amount_total"] else "no_payment_required",
                "customer": customer_id,
                "customer_details": {
                    "address": None,
                    "business_name": None,
                    "email": customer["email"],
                    "individual_name": None,
                    "name": customer["name"],
                    "phone": customer["phone"],
                    "tax_exempt": "none",
                    "tax_ids": [],
                },
                "subscription": subscription_id,
                "invoice": invoice_id,
                # Stripe only exposes the hosted URL while the session is open.
                "url": None,
            }
        )
        self._events.emit("checkout.session.completed", self._state.render(session_id), from_request=False)
        self._events.emit(
            "customer.subscription.created", self._state.render(subscription_id), from_request=False
        )
        self._events.emit("invoice.paid", self._state.render(invoice_id), from_request=False)
        return self._state.render(subscription_id)
