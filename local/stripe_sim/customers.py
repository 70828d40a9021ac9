"""Customers: ``POST /v1/customers`` and ``GET /v1/customers`` (by email, by creation time)."""

from __future__ import annotations

from local.stripe_sim import objects
from local.stripe_sim.forms import Params, get_metadata, get_str, merge_metadata
from local.stripe_sim.listing import created_filter, paginate
from local.stripe_sim.objects import JsonObject
from local.stripe_sim.state import State


class Customers:
    def __init__(self, state: State) -> None:
        self._state = state

    def create(self, params: Params) -> JsonObject:
        customer = objects.customer_shape(
            customer_id=objects.new_id("cus"),
            created=self._state.now(),
            email=get_str(params, "email"),
            name=get_str(params, "name"),
            description=get_str(params, "description"),
            phone=get_str(params, "phone"),
            metadata=merge_metadata({}, get_metadata(params), clear_all=False),
        )
        # The prefix numbers the customer's invoices (``<prefix>-0001``); Stripe picks one when not given.
        prefix = get_str(params, "invoice_prefix")
        if prefix:
            customer["invoice_prefix"] = prefix
        self._state.add("customer", customer)
        return self._state.render(customer["id"])

    def list(self, params: Params) -> JsonObject:
        email = get_str(params, "email")
        in_range = created_filter(params)
        ids = self._state.ids_of("customer", lambda c: (email is None or c["email"] == email) and in_range(c))
        return paginate(self._state, ids, params, "/v1/customers")
