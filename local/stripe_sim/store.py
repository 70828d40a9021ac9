"""In-memory Stripe state and the state transitions behind every API call and test helper.

The store is deliberately single-threaded: ``StripeSimulator`` holds its lock around every call and
delivers the events collected in ``outbox`` only after releasing it, so a webhook receiver may call
back into the API while handling an event without deadlocking.

Objects are kept in their API shape with references as ids (``subscription.customer == "cus_..."``);
only subscription items are stored apart, because their ``price``/``plan`` are rendered live from the
current price object, as Stripe does.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from local.stripe_sim import objects
from local.stripe_sim.errors import (
    CheckoutStateError,
    InvalidRequest,
    ResourceMissing,
    StripeApiError,
)
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
)
from local.stripe_sim.objects import JsonObject

_INTERVALS = ("day", "week", "month", "year")
_PRORATION_BEHAVIORS = ("create_prorations", "none", "always_invoice")
_SUBSCRIPTION_STATUSES = (
    "active",
    "past_due",
    "unpaid",
    "canceled",
    "incomplete",
    "incomplete_expired",
    "trialing",
    "paused",
)
# Stripe retries a failed renewal a few days later (Smart Retries); only the timestamp is simulated.
_RETRY_DELAY_SECONDS = 3 * 86_400
_CHECKOUT_LIFETIME_SECONDS = 24 * 3600
# Stripe writes line descriptions as "1 <multiplication sign> Pro (at $20.00 / month)".
_TIMES = "\u00d7"

# Fields each resource's Search API accepts (https://docs.stripe.com/search#supported-query-fields-for-each-resource).
_SEARCH_FIELDS: dict[str, frozenset[str]] = {
    "customer": frozenset({"created", "email", "metadata", "name", "phone"}),
    "product": frozenset({"active", "created", "description", "metadata", "name", "shippable", "url"}),
    "price": frozenset({"active", "created", "currency", "lookup_key", "metadata", "product", "type"}),
    "subscription": frozenset({"created", "metadata", "status"}),
    "invoice": frozenset({"created", "currency", "customer", "metadata", "number", "subscription", "total"}),
}
_SEARCH_CLAUSE = re.compile(
    r"""^(?P<neg>-)?(?P<field>[a-z_]+)(?:\[(?P<q>['"])(?P<key>[^'"]+)(?P=q)\])?"""
    r"""(?P<op>:|~|>=|<=|>|<)(?P<value>'[^']*'|"[^"]*"|[^\s'"]+)$"""
)


@dataclass
class RequestContext:
    """The API request an event was caused by; Stripe reports it as ``event.request``."""

    request_id: str | None = None
    idempotency_key: str | None = None


@dataclass
class _PendingLine:
    """A proration waiting for the next renewal invoice (proration_behavior=create_prorations)."""

    item_id: str
    price_id: str
    quantity: int
    amount: int
    period_start: int
    period_end: int
    description: str


@dataclass
class _SubscriptionState:
    """Billing bookkeeping that is not part of the public subscription object."""

    anchor: int
    # Current period end = anchor + cycle * interval (0 while trialing: the trial ends at the anchor).
    cycle: int
    fail_next_payment: bool = False
    pending_lines: list[_PendingLine] = field(default_factory=list)


class Store:
    def __init__(
        self,
        *,
        clock: Callable[[], int],
        base_url: Callable[[], str],
        pending_webhooks: Callable[[], int],
    ) -> None:
        self._clock = clock
        self._base_url = base_url
        self._pending_webhooks = pending_webhooks
        self.objects: dict[str, JsonObject] = {}
        self._ids_by_kind: dict[str, list[str]] = defaultdict(list)
        self._items: dict[str, list[JsonObject]] = {}
        self._sub_state: dict[str, _SubscriptionState] = {}
        self._session_lines: dict[str, list[JsonObject]] = {}
        # subscription_data of each Checkout Session, applied when the session is paid.
        self._session_subscription_data: dict[str, dict[str, Any]] = {}
        self.events: list[JsonObject] = []
        self.outbox: list[JsonObject] = []
        self.request = RequestContext()

    # --- generic plumbing --------------------------------------------------------------------

    def now(self) -> int:
        return self._clock()

    def _add(self, kind: str, obj: JsonObject) -> JsonObject:
        self.objects[obj["id"]] = obj
        self._ids_by_kind[kind].append(obj["id"])
        return obj

    def get(
        self, kind: str, object_id: str | None, *, param: str = "id", http_status: int = 404
    ) -> JsonObject:
        obj = self.objects.get(object_id or "")
        if obj is None or obj.get("object") != kind or obj.get("deleted"):
            raise ResourceMissing(kind, object_id or "", param=param, http_status=http_status)
        return obj

    def drain_outbox(self) -> list[JsonObject]:
        events, self.outbox = self.outbox, []
        return events

    def render(self, object_id: str) -> JsonObject:
        """A detached copy of an object in API shape, with live sub-objects filled in."""
        stored = self.objects[object_id]
        if stored.get("deleted"):
            # Deleted objects stay retrievable (and expandable) as a stub, exactly like on Stripe.
            return {"id": object_id, "object": stored["object"], "deleted": True}
        obj = objects.deep_copy(stored)
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
            for item in self._items[subscription_id]
        ]
        rendered = objects.list_object(items, f"/v1/subscription_items?subscription={subscription_id}")
        rendered["total_count"] = len(items)
        return rendered

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
            # An "includable" property: absent by default, present only when expanded.
            node[key] = self.checkout_line_items(node["id"], {})
        value = node.get(key)
        if isinstance(value, str) and value in self.objects:
            value = self.render(value)
            node[key] = value
        elif isinstance(value, list):
            for index, element in enumerate(value):
                if isinstance(element, str) and element in self.objects:
                    value[index] = self.render(element)
        self._expand_node(value, rest)

    def paginate(self, ids_newest_first: list[str], params: Params, url: str) -> JsonObject:
        limit = get_int(params, "limit")
        if limit is None:
            limit = 10
        if not 1 <= limit <= 100:
            raise InvalidRequest(
                "This value must be greater than or equal to 1 and less than or equal to 100.",
                code="parameter_invalid_integer",
                param="limit",
            )
        starting_after = get_str(params, "starting_after")
        ending_before = get_str(params, "ending_before")
        ids = ids_newest_first
        if starting_after:
            ids = ids[self._cursor_index(ids_newest_first, starting_after, "starting_after") + 1 :]
            page, has_more = ids[:limit], len(ids) > limit
        elif ending_before:
            ids = ids[: self._cursor_index(ids_newest_first, ending_before, "ending_before")]
            page, has_more = ids[-limit:], len(ids) > limit
        else:
            page, has_more = ids[:limit], len(ids) > limit
        return objects.list_object([self.render(object_id) for object_id in page], url, has_more=has_more)

    @staticmethod
    def _cursor_index(ids: list[str], cursor: str, param: str) -> int:
        try:
            return ids.index(cursor)
        except ValueError:
            raise InvalidRequest(
                f"No such object: '{cursor}'", code="resource_missing", param=param
            ) from None

    def _listed(self, kind: str, predicate: Callable[[JsonObject], bool] | None = None) -> list[str]:
        ids = [
            object_id
            for object_id in reversed(self._ids_by_kind[kind])
            if not self.objects[object_id].get("deleted")
        ]
        if predicate is None:
            return ids
        return [object_id for object_id in ids if predicate(self.objects[object_id])]

    @staticmethod
    def _created_filter(params: Params) -> Callable[[JsonObject], bool]:
        created = params.get("created")
        if created is None or created == "":
            return lambda _obj: True
        if isinstance(created, dict):
            bounds = {op: get_int(created, op, param=f"created[{op}]") for op in ("gt", "gte", "lt", "lte")}

            def within(obj: JsonObject) -> bool:
                value = obj["created"]
                return (
                    (bounds["gt"] is None or value > bounds["gt"])
                    and (bounds["gte"] is None or value >= bounds["gte"])
                    and (bounds["lt"] is None or value < bounds["lt"])
                    and (bounds["lte"] is None or value <= bounds["lte"])
                )

            return within
        exact = get_int(params, "created")
        return lambda obj: obj["created"] == exact

    def _emit(
        self,
        event_type: str,
        obj: JsonObject,
        previous_attributes: JsonObject | None = None,
        *,
        from_request: bool = True,
    ) -> JsonObject:
        request = (
            {"id": self.request.request_id, "idempotency_key": self.request.idempotency_key}
            if from_request
            else {"id": None, "idempotency_key": None}
        )
        event = objects.event_shape(
            event_id=objects.new_id("evt"),
            created=self.now(),
            event_type=event_type,
            obj=objects.deep_copy(obj),
            previous_attributes=previous_attributes,
            pending_webhooks=self._pending_webhooks(),
            request=request,
        )
        self._add("event", event)
        self.events.append(event)
        self.outbox.append(event)
        return event

    def emit_custom(self, event_type: str, obj: JsonObject) -> JsonObject:
        return self._emit(event_type, obj, from_request=False)

    @staticmethod
    def _diff(before: JsonObject, after: JsonObject) -> JsonObject:
        """``previous_attributes``: the old value of every top-level field that changed."""
        return {key: value for key, value in before.items() if after.get(key) != value}

    # --- customers ---------------------------------------------------------------------------

    def create_customer(self, params: Params) -> JsonObject:
        metadata = merge_metadata({}, get_metadata(params), clear_all=False)
        customer = objects.customer_shape(
            customer_id=objects.new_id("cus"),
            created=self.now(),
            email=get_str(params, "email"),
            name=get_str(params, "name"),
            description=get_str(params, "description"),
            phone=get_str(params, "phone"),
            metadata=metadata,
        )
        prefix = get_str(params, "invoice_prefix")
        if prefix:
            customer["invoice_prefix"] = prefix
        self._add("customer", customer)
        return self.render(customer["id"])

    def retrieve(self, kind: str, object_id: str) -> JsonObject:
        self.get(kind, object_id)
        return self.render(object_id)

    def retrieve_customer(self, customer_id: str) -> JsonObject:
        obj = self.objects.get(customer_id)
        if obj is not None and obj.get("object") == "customer" and obj.get("deleted"):
            return self.render(customer_id)
        return self.retrieve("customer", customer_id)

    def update_customer(self, customer_id: str, params: Params) -> JsonObject:
        customer = self.get("customer", customer_id)
        for name in ("email", "name", "description", "phone"):
            if name in params:
                customer[name] = get_str(params, name) or None
        # The prefix numbers every future invoice, so it can be changed but never cleared.
        customer["invoice_prefix"] = get_str(params, "invoice_prefix") or customer["invoice_prefix"]
        metadata = get_metadata(params)
        customer["metadata"] = merge_metadata(customer["metadata"], metadata, clear_all=metadata == {})
        return self.render(customer_id)

    def delete_customer(self, customer_id: str) -> JsonObject:
        self.get("customer", customer_id)
        for sub_id in self._listed("subscription", lambda s: s["customer"] == customer_id):
            if self.objects[sub_id]["status"] != "canceled":
                self._end_subscription(sub_id, reason="cancellation_requested", ended_at=self.now())
        self.objects[customer_id]["deleted"] = True
        return self.render(customer_id)

    def list_customers(self, params: Params) -> JsonObject:
        email = get_str(params, "email")
        in_range = self._created_filter(params)
        ids = self._listed("customer", lambda c: (email is None or c["email"] == email) and in_range(c))
        return self.paginate(ids, params, "/v1/customers")

    # --- products and prices -------------------------------------------------------------------

    def create_product(self, params: Params) -> JsonObject:
        name = get_str(params, "name", required=True) or ""
        product_id = get_str(params, "id") or objects.new_id("prod")
        if product_id in self.objects:
            raise InvalidRequest(
                f"Product already exists: {product_id}", code="resource_already_exists", param="id"
            )
        product = objects.product_shape(
            product_id=product_id,
            created=self.now(),
            name=name,
            description=get_str(params, "description"),
            active=get_bool(params, "active") is not False,
            metadata=merge_metadata({}, get_metadata(params), clear_all=False),
        )
        self._add("product", product)
        return self.render(product_id)

    def update_product(self, product_id: str, params: Params) -> JsonObject:
        product = self.get("product", product_id)
        for name in ("name", "description"):
            if name in params:
                product[name] = get_str(params, name) or None
        active = get_bool(params, "active")
        if active is not None:
            product["active"] = active
        metadata = get_metadata(params)
        product["metadata"] = merge_metadata(product["metadata"], metadata, clear_all=metadata == {})
        product["updated"] = self.now()
        return self.render(product_id)

    def list_products(self, params: Params) -> JsonObject:
        active = get_bool(params, "active")
        wanted_ids = set(get_list(params, "ids"))
        in_range = self._created_filter(params)
        ids = self._listed(
            "product",
            lambda p: (
                (active is None or p["active"] == active)
                and (not wanted_ids or p["id"] in wanted_ids)
                and in_range(p)
            ),
        )
        return self.paginate(ids, params, "/v1/products")

    def create_price(self, params: Params) -> JsonObject:
        currency = (get_str(params, "currency", required=True) or "").lower()
        product_id = get_str(params, "product")
        product_data = get_dict(params, "product_data")
        if product_id and product_data:
            raise InvalidRequest(
                "You may only specify one of these parameters: product, product_data.", param="product"
            )
        if product_data is not None:
            product_id = self.create_product(product_data)["id"]
        elif product_id:
            self.get("product", product_id, param="product", http_status=400)
        else:
            raise missing("product")
        unit_amount = get_int(params, "unit_amount")
        if unit_amount is None:
            decimal = get_str(params, "unit_amount_decimal")
            if decimal is None:
                raise missing("unit_amount")
            unit_amount = round(float(decimal))
        if unit_amount < 0:
            raise InvalidRequest("Invalid integer: must be at least 0", param="unit_amount")
        recurring = self._recurring(get_dict(params, "recurring"), "recurring")
        lookup_key = get_str(params, "lookup_key")
        self._claim_lookup_key(lookup_key, transfer=bool(get_bool(params, "transfer_lookup_key")))
        price = objects.price_shape(
            price_id=objects.new_id("price"),
            created=self.now(),
            product_id=product_id,
            currency=currency,
            unit_amount=unit_amount,
            recurring=recurring,
            lookup_key=lookup_key,
            nickname=get_str(params, "nickname"),
            active=get_bool(params, "active") is not False,
            metadata=merge_metadata({}, get_metadata(params), clear_all=False),
        )
        self._add("price", price)
        product = self.objects[product_id]
        if product["default_price"] is None:
            product["default_price"] = price["id"]
        return self.render(price["id"])

    @staticmethod
    def _recurring(recurring: Params | None, param: str) -> dict[str, Any] | None:
        if recurring is None:
            return None
        interval = get_str(recurring, "interval")
        if interval is None:
            raise missing(f"{param}[interval]")
        if interval not in _INTERVALS:
            raise InvalidRequest(
                f"Invalid {param}[interval]: must be one of day, week, month, or year",
                code="parameter_invalid_string",
                param=f"{param}[interval]",
            )
        count = get_int(recurring, "interval_count", param=f"{param}[interval_count]") or 1
        return {"interval": interval, "interval_count": count}

    def _claim_lookup_key(self, lookup_key: str | None, *, transfer: bool, owner: str | None = None) -> None:
        """Lookup keys are unique per account; ``transfer_lookup_key`` moves one to the new price."""
        if not lookup_key:
            return
        for price_id in self._ids_by_kind["price"]:
            price = self.objects[price_id]
            if price_id != owner and price["lookup_key"] == lookup_key:
                if not transfer:
                    raise InvalidRequest(
                        f"A price (`{price_id}`) already uses that lookup key.",
                        code="lookup_key_already_used",
                        param="lookup_key",
                    )
                price["lookup_key"] = None

    def update_price(self, price_id: str, params: Params) -> JsonObject:
        price = self.get("price", price_id)
        active = get_bool(params, "active")
        if active is not None:
            price["active"] = active
        if "nickname" in params:
            price["nickname"] = get_str(params, "nickname") or None
        if "lookup_key" in params:
            lookup_key = get_str(params, "lookup_key") or None
            self._claim_lookup_key(
                lookup_key, transfer=bool(get_bool(params, "transfer_lookup_key")), owner=price_id
            )
            price["lookup_key"] = lookup_key
        metadata = get_metadata(params)
        price["metadata"] = merge_metadata(price["metadata"], metadata, clear_all=metadata == {})
        return self.render(price_id)

    def list_prices(self, params: Params) -> JsonObject:
        active = get_bool(params, "active")
        currency = get_str(params, "currency")
        product = get_str(params, "product")
        price_type = get_str(params, "type")
        lookup_keys = set(get_list(params, "lookup_keys"))
        recurring = get_dict(params, "recurring") or {}
        interval = get_str(recurring, "interval")
        in_range = self._created_filter(params)

        def matches(price: JsonObject) -> bool:
            return (
                (active is None or price["active"] == active)
                and (currency is None or price["currency"] == currency.lower())
                and (product is None or price["product"] == product)
                and (price_type is None or price["type"] == price_type)
                and (not lookup_keys or price["lookup_key"] in lookup_keys)
                and (interval is None or (price["recurring"] or {}).get("interval") == interval)
                and in_range(price)
            )

        return self.paginate(self._listed("price", matches), params, "/v1/prices")

    # --- checkout sessions ---------------------------------------------------------------------

    def create_checkout_session(self, params: Params) -> JsonObject:
        mode = get_str(params, "mode", required=True)
        if mode not in ("subscription", "payment"):
            raise InvalidRequest(
                f"Invalid mode: the simulator supports `subscription` and `payment`, not `{mode}`.",
                param="mode",
            )
        customer_id = get_str(params, "customer")
        customer_email = get_str(params, "customer_email")
        if customer_id and customer_email:
            raise InvalidRequest(
                "You may only specify one of these parameters: customer, customer_email.", param="customer"
            )
        if customer_id:
            self.get("customer", customer_id, param="customer", http_status=400)

        lines = self._checkout_lines(get_list(params, "line_items"), mode)
        currencies = {self.objects[line["price"]]["currency"] for line in lines}
        if len(currencies) > 1:
            raise InvalidRequest("All line items must use the same currency.", param="line_items")
        amount_total = sum(self.objects[line["price"]]["unit_amount"] * line["quantity"] for line in lines)

        subscription_data = get_dict(params, "subscription_data") or {}
        trial_days = get_int(
            subscription_data, "trial_period_days", param="subscription_data[trial_period_days]"
        )
        if mode == "subscription" and trial_days:
            # Nothing is charged today when the subscription starts with a trial.
            amount_total = 0
        now = self.now()
        session_id = objects.new_id("cs_test")
        session = objects.checkout_session_shape(
            session_id=session_id,
            created=now,
            mode=mode,
            customer_id=customer_id,
            customer_email=customer_email,
            currency=currencies.pop(),
            amount_total=amount_total,
            success_url=get_str(params, "success_url"),
            cancel_url=get_str(params, "cancel_url"),
            client_reference_id=get_str(params, "client_reference_id"),
            metadata=merge_metadata({}, get_metadata(params), clear_all=False),
            expires_at=get_int(params, "expires_at") or now + _CHECKOUT_LIFETIME_SECONDS,
            url=f"{self._base_url()}/checkout/pay/{session_id}",
        )
        self._add("checkout.session", session)
        self._session_lines[session_id] = lines
        self._session_subscription_data[session_id] = {
            "metadata": merge_metadata({}, get_metadata(subscription_data), clear_all=False),
            "trial_period_days": trial_days,
            "description": get_str(subscription_data, "description"),
        }
        return self.render(session_id)

    def _checkout_lines(self, line_items: list[Any], mode: str) -> list[JsonObject]:
        if not line_items:
            raise missing("line_items")
        lines: list[JsonObject] = []
        for index, raw in enumerate(line_items):
            param = f"line_items[{index}]"
            if not isinstance(raw, dict):
                raise InvalidRequest(f"Invalid object: {param}", code="parameter_invalid_object", param=param)
            price_id = get_str(raw, "price")
            price_data = get_dict(raw, "price_data")
            if price_data is not None:
                price_id = self._price_from_data(price_data, f"{param}[price_data]")
            elif price_id is None:
                raise missing(f"{param}[price]")
            price = self.get("price", price_id, param=f"{param}[price]", http_status=400)
            if not price["active"]:
                raise InvalidRequest(
                    "The price specified is inactive. This field only accepts active prices.",
                    param=f"{param}[price]",
                )
            quantity = get_int(raw, "quantity", required=True, param=f"{param}[quantity]") or 0
            if quantity < 1:
                raise InvalidRequest("Quantity must be at least 1.", param=f"{param}[quantity]")
            lines.append({"id": objects.new_id("li"), "price": price_id, "quantity": quantity})
        recurring = [line for line in lines if self.objects[line["price"]]["recurring"]]
        if mode == "subscription" and not recurring:
            raise InvalidRequest(
                "You must provide at least one recurring price in `subscription` mode when using prices.",
                param="line_items",
            )
        if mode == "payment" and recurring:
            raise InvalidRequest(
                "You specified `payment` mode but passed a recurring price. Either switch to `subscription` "
                "mode or use only one-time prices.",
                param="line_items",
            )
        return lines

    def _price_from_data(self, price_data: Params, param: str) -> str:
        """Inline ``price_data``: Stripe creates an inactive, unlisted price on the fly."""
        params: Params = {
            "currency": price_data.get("currency"),
            "unit_amount": price_data.get("unit_amount"),
            "unit_amount_decimal": price_data.get("unit_amount_decimal"),
            "recurring": price_data.get("recurring"),
        }
        if "product" in price_data:
            params["product"] = price_data["product"]
        elif "product_data" in price_data:
            params["product_data"] = price_data["product_data"]
        try:
            price = self.create_price({key: value for key, value in params.items() if value is not None})
        except StripeApiError as error:
            error.param = f"{param}[{error.param}]" if error.param else param
            raise
        return price["id"]

    def checkout_line_items(self, session_id: str, params: Params) -> JsonObject:
        self.get("checkout.session", session_id)
        data = [
            objects.checkout_line_item_shape(
                line_id=line["id"],
                price=self.objects[line["price"]],
                product=self.objects[self.objects[line["price"]]["product"]],
                quantity=line["quantity"],
            )
            for line in self._session_lines[session_id]
        ]
        return objects.list_object(data, f"/v1/checkout/sessions/{session_id}/line_items")

    def list_checkout_sessions(self, params: Params) -> JsonObject:
        customer = get_str(params, "customer")
        subscription = get_str(params, "subscription")
        status = get_str(params, "status")
        in_range = self._created_filter(params)
        ids = self._listed(
            "checkout.session",
            lambda s: (
                (customer is None or s["customer"] == customer)
                and (subscription is None or s["subscription"] == subscription)
                and (status is None or s["status"] == status)
                and in_range(s)
            ),
        )
        return self.paginate(ids, params, "/v1/checkout/sessions")

    def expire_checkout_session(self, session_id: str) -> JsonObject:
        session = self.get("checkout.session", session_id)
        if session["status"] != "open":
            raise CheckoutStateError(
                f'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session '
                f'has a status of "{session["status"]}".'
            )
        session["status"] = "expired"
        session["url"] = None
        rendered = self.render(session_id)
        self._emit("checkout.session.expired", rendered)
        return rendered

    def complete_checkout(self, session_id: str, *, customer_email: str | None = None) -> JsonObject:
        """The customer pays on the hosted page: subscription + paid first invoice, then three events."""
        session = self.get("checkout.session", session_id)
        if session["status"] != "open":
            raise CheckoutStateError(
                f"Checkout Session {session_id} is {session['status']}; only open sessions can be paid."
            )
        customer_id = session["customer"]
        if customer_id is None:
            email = customer_email or session["customer_email"] or f"{session_id[-8:].lower()}@customer.test"
            customer_id = self.create_customer({"email": email})["id"]
        customer = self.objects[customer_id]

        subscription_id: str | None = None
        invoice_id: str | None = None
        if session["mode"] == "subscription":
            data = self._session_subscription_data.get(session_id, {})
            subscription_id, invoice_id = self._start_subscription(
                customer_id,
                [(line["price"], line["quantity"]) for line in self._session_lines[session_id]],
                metadata=dict(data.get("metadata") or {}),
                trial_period_days=data.get("trial_period_days"),
                description=data.get("description"),
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
        self._emit("checkout.session.completed", self.render(session_id), from_request=False)
        if subscription_id is None or invoice_id is None:
            return self.render(session_id)
        self._emit("customer.subscription.created", self.render(subscription_id), from_request=False)
        self._emit("invoice.paid", self.render(invoice_id), from_request=False)
        return self.render(subscription_id)

    # --- subscriptions ---------------------------------------------------------------------------

    def _start_subscription(
        self,
        customer_id: str,
        lines: list[tuple[str, int]],
        *,
        metadata: dict[str, str],
        trial_period_days: int | None,
        description: str | None,
    ) -> tuple[str, str]:
        """Create an active (or trialing) subscription and its paid first invoice; emits nothing."""
        now = self.now()
        trial_end = now + trial_period_days * 86_400 if trial_period_days else None
        anchor = trial_end or now
        first_price = self.objects[lines[0][0]]
        subscription_id = objects.new_id("sub")
        subscription = objects.subscription_shape(
            subscription_id=subscription_id,
            created=now,
            customer_id=customer_id,
            currency=first_price["currency"],
            metadata=metadata,
            status="trialing" if trial_end else "active",
            trial_start=now if trial_end else None,
            trial_end=trial_end,
            description=description,
        )
        self._add("subscription", subscription)
        state = _SubscriptionState(anchor=anchor, cycle=0 if trial_end else 1)
        self._sub_state[subscription_id] = state
        self._items[subscription_id] = []
        for price_id, quantity in lines:
            self._add_item(subscription_id, price_id, quantity, period_start=now)

        invoice_lines = [
            self._item_line(subscription_id, item, trial=trial_end is not None)
            for item in self._items[subscription_id]
        ]
        invoice = self._create_invoice(
            subscription_id,
            invoice_lines,
            billing_reason="subscription_create",
            period_start=now,
            period_end=now,
        )
        self._mark_paid(invoice)
        subscription["latest_invoice"] = invoice["id"]
        return subscription_id, invoice["id"]

    def _add_item(
        self, subscription_id: str, price_id: str, quantity: int, *, period_start: int
    ) -> JsonObject:
        state = self._sub_state[subscription_id]
        item = {
            "id": objects.new_id("si"),
            "created": self.now(),
            "price": price_id,
            "quantity": quantity,
            "metadata": {},
            "current_period_start": period_start,
            "current_period_end": self._period_end(state, price_id),
        }
        self._items[subscription_id].append(item)
        return item

    def _period_end(self, state: _SubscriptionState, price_id: str) -> int:
        recurring = self.objects[price_id]["recurring"]
        return objects.add_interval(
            state.anchor, recurring["interval"], recurring["interval_count"] * state.cycle
        )

    def _item_line(self, subscription_id: str, item: JsonObject, *, trial: bool = False) -> JsonObject:
        price = self.objects[item["price"]]
        product = self.objects[price["product"]]
        recurring = price["recurring"]
        interval = (
            recurring["interval"]
            if recurring["interval_count"] == 1
            else (f"{recurring['interval_count']} {recurring['interval']}s")
        )
        if trial:
            description = f"Trial period for {product['name']}"
        else:
            unit = objects.format_amount(price["unit_amount"], price["currency"])
            description = f"{item['quantity']} {_TIMES} {product['name']} (at {unit} / {interval})"
        return {
            "item_id": item["id"],
            "price_id": price["id"],
            "quantity": item["quantity"],
            "amount": 0 if trial else price["unit_amount"] * item["quantity"],
            "period_start": item["current_period_start"],
            "period_end": item["current_period_end"],
            "description": description,
            "proration": False,
        }

    def _create_invoice(
        self,
        subscription_id: str,
        lines: list[JsonObject],
        *,
        billing_reason: str,
        period_start: int,
        period_end: int,
    ) -> JsonObject:
        subscription = self.objects[subscription_id]
        customer = self.objects[subscription["customer"]]
        invoice_id = objects.new_id("in")
        # Stripe's default numbering: the customer's invoice prefix plus a per-customer sequence.
        number = f"{customer['invoice_prefix']}-{customer['next_invoice_sequence']:04d}"
        customer["next_invoice_sequence"] += 1
        rendered_lines = [
            objects.invoice_line_shape(
                line_id=objects.new_id("il"),
                invoice_id=invoice_id,
                subscription_id=subscription_id,
                subscription_item_id=line["item_id"],
                price=self.objects[line["price_id"]],
                quantity=line["quantity"],
                amount=line["amount"],
                period_start=line["period_start"],
                period_end=line["period_end"],
                description=line["description"],
                proration=line["proration"],
            )
            for line in lines
        ]
        invoice = objects.invoice_shape(
            invoice_id=invoice_id,
            created=self.now(),
            customer=customer,
            subscription=subscription,
            number=number,
            currency=subscription["currency"],
            lines=rendered_lines,
            billing_reason=billing_reason,
            period_start=period_start,
            period_end=period_end,
            base_url=self._base_url(),
        )
        if invoice["ending_balance"]:
            customer["balance"] += invoice["ending_balance"]
        return self._add("invoice", invoice)

    def _mark_paid(self, invoice: JsonObject) -> None:
        now = self.now()
        invoice.update(
            {
                "status": "paid",
                "amount_paid": invoice["amount_due"],
                "amount_remaining": 0,
                "attempted": True,
                "attempt_count": invoice["attempt_count"] + (1 if invoice["amount_due"] else 0),
                "next_payment_attempt": None,
            }
        )
        invoice["status_transitions"]["paid_at"] = now

    def _mark_failed(self, invoice: JsonObject) -> None:
        invoice["attempted"] = True
        invoice["attempt_count"] += 1
        invoice["next_payment_attempt"] = self.now() + _RETRY_DELAY_SECONDS

    def _take_payment_outcome(self, subscription_id: str, paid: bool | None) -> bool:
        """Whether this payment attempt succeeds; a pending ``fail_next_payment`` is consumed here."""
        state = self._sub_state[subscription_id]
        flagged = state.fail_next_payment
        state.fail_next_payment = False
        if paid is not None:
            return paid
        return not flagged

    def create_subscription(self, params: Params) -> JsonObject:
        customer_id = get_str(params, "customer", required=True) or ""
        self.get("customer", customer_id, param="customer", http_status=400)
        raw_items = get_list(params, "items")
        if not raw_items:
            raise missing("items")
        lines: list[tuple[str, int]] = []
        for index, raw in enumerate(raw_items):
            param = f"items[{index}]"
            price_id = get_str(raw, "price") if isinstance(raw, dict) else None
            if price_id is None:
                raise missing(f"{param}[price]")
            price = self.get("price", price_id, param=f"{param}[price]", http_status=400)
            if not price["recurring"]:
                raise InvalidRequest(
                    "The price specified is set to `type=one_time` but this field only accepts prices with "
                    "`type=recurring`.",
                    param=f"{param}[price]",
                )
            quantity = get_int(raw, "quantity", param=f"{param}[quantity]")
            lines.append((price_id, 1 if quantity is None else quantity))
        metadata = merge_metadata({}, get_metadata(params), clear_all=False)
        subscription_id, invoice_id = self._start_subscription(
            customer_id,
            lines,
            metadata=metadata,
            trial_period_days=get_int(params, "trial_period_days"),
            description=get_str(params, "description"),
        )
        self._emit("customer.subscription.created", self.render(subscription_id))
        self._emit("invoice.paid", self.render(invoice_id))
        return self.render(subscription_id)

    def list_subscriptions(self, params: Params) -> JsonObject:
        customer = get_str(params, "customer")
        price = get_str(params, "price") or get_str(params, "plan")
        status = get_str(params, "status")
        if status is not None and status not in (*_SUBSCRIPTION_STATUSES, "all", "ended"):
            raise InvalidRequest(f"Invalid status: {status}", code="parameter_invalid_string", param="status")
        in_range = self._created_filter(params)

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
                and (price is None or any(item["price"] == price for item in self._items[sub["id"]]))
                and status_matches(sub)
                and in_range(sub)
            )

        return self.paginate(self._listed("subscription", matches), params, "/v1/subscriptions")

    def update_subscription(self, subscription_id: str, params: Params) -> JsonObject:
        subscription = self.get("subscription", subscription_id)
        if subscription["status"] == "canceled" and set(params) - {
            "metadata",
            "cancellation_details",
            "expand",
        }:
            raise InvalidRequest(
                "A canceled subscription can only update its cancellation_details and metadata."
            )
        proration_behavior = get_str(params, "proration_behavior") or "create_prorations"
        if proration_behavior not in _PRORATION_BEHAVIORS:
            raise InvalidRequest(
                f"Invalid proration_behavior: must be one of {', '.join(_PRORATION_BEHAVIORS)}",
                code="parameter_invalid_string",
                param="proration_behavior",
            )
        before = self.render(subscription_id)

        metadata = get_metadata(params)
        subscription["metadata"] = merge_metadata(
            subscription["metadata"], metadata, clear_all=metadata == {}
        )
        if "description" in params:
            subscription["description"] = get_str(params, "description") or None
        details = get_dict(params, "cancellation_details")
        if details is not None:
            for name in ("comment", "feedback"):
                if name in details:
                    subscription["cancellation_details"][name] = get_str(details, name) or None
        self._apply_cancel_at(subscription, params)
        proration_lines = self._apply_items(subscription_id, get_list(params, "items"), proration_behavior)

        after = self.render(subscription_id)
        previous = self._diff(before, after)
        invoice: JsonObject | None = None
        paid = True
        if proration_lines and proration_behavior == "always_invoice":
            invoice = self._create_invoice(
                subscription_id,
                proration_lines,
                billing_reason="subscription_update",
                period_start=self.now(),
                period_end=self.now(),
            )
            paid = self._take_payment_outcome(subscription_id, None) or invoice["amount_due"] == 0
            if paid:
                self._mark_paid(invoice)
            else:
                self._mark_failed(invoice)
                subscription["status"] = "past_due"
            subscription["latest_invoice"] = invoice["id"]
            after = self.render(subscription_id)
            previous = self._diff(before, after)
        if previous:
            self._emit("customer.subscription.updated", after, previous)
        if invoice is not None:
            self._emit("invoice.paid" if paid else "invoice.payment_failed", self.render(invoice["id"]))
        return after

    def _apply_cancel_at(self, subscription: JsonObject, params: Params) -> None:
        at_period_end = get_bool(params, "cancel_at_period_end")
        has_cancel_at = "cancel_at" in params
        if at_period_end and has_cancel_at and params["cancel_at"] != "":
            raise InvalidRequest(
                "You may only specify one of these parameters: cancel_at, cancel_at_period_end.",
                param="cancel_at",
            )
        period_end = min(item["current_period_end"] for item in self._items[subscription["id"]])
        if at_period_end:
            self._schedule_cancel(subscription, period_end, at_period_end=True)
        elif has_cancel_at:
            raw = params["cancel_at"]
            if raw == "":
                self._clear_cancel(subscription)
            elif raw in ("min_period_end", "max_period_end"):
                ends = [item["current_period_end"] for item in self._items[subscription["id"]]]
                target = min(ends) if raw == "min_period_end" else max(ends)
                self._schedule_cancel(subscription, target, at_period_end=False)
            else:
                cancel_at = get_int(params, "cancel_at") or 0
                if cancel_at <= self.now():
                    raise InvalidRequest("cancel_at must be in the future.", param="cancel_at")
                self._schedule_cancel(subscription, cancel_at, at_period_end=False)
        elif at_period_end is False:
            self._clear_cancel(subscription)

    def _schedule_cancel(self, subscription: JsonObject, cancel_at: int, *, at_period_end: bool) -> None:
        subscription["cancel_at"] = cancel_at
        subscription["cancel_at_period_end"] = at_period_end
        # Stripe sets canceled_at to the time of the request that scheduled the cancellation.
        subscription["canceled_at"] = self.now()
        subscription["cancellation_details"]["reason"] = "cancellation_requested"

    @staticmethod
    def _clear_cancel(subscription: JsonObject) -> None:
        subscription["cancel_at"] = None
        subscription["cancel_at_period_end"] = False
        subscription["canceled_at"] = None
        subscription["cancellation_details"]["reason"] = None

    def _apply_items(
        self, subscription_id: str, raw_items: list[Any], proration_behavior: str
    ) -> list[JsonObject]:
        """Apply ``items[]`` changes; returns the proration lines to invoice now (always_invoice)."""
        if not raw_items:
            return []
        items = self._items[subscription_id]
        state = self._sub_state[subscription_id]
        now = self.now()
        # Prorations are fractions of the whole current cycle, also for items added mid-cycle.
        cycle = (min(i["current_period_start"] for i in items), max(i["current_period_end"] for i in items))
        prorations: list[JsonObject] = []
        for index, raw in enumerate(raw_items):
            param = f"items[{index}]"
            if not isinstance(raw, dict):
                raise InvalidRequest(f"Invalid object: {param}", code="parameter_invalid_object", param=param)
            item_id = get_str(raw, "id")
            price_id = get_str(raw, "price")
            quantity = get_int(raw, "quantity", param=f"{param}[quantity]")
            if price_id is not None:
                price = self.get("price", price_id, param=f"{param}[price]", http_status=400)
                if not price["recurring"]:
                    raise InvalidRequest(
                        "The price specified is set to `type=one_time` but this field only accepts prices "
                        "with `type=recurring`.",
                        param=f"{param}[price]",
                    )
                if price["currency"] != self.objects[subscription_id]["currency"]:
                    raise InvalidRequest(
                        "All prices on a subscription must have the same currency.", param=f"{param}[price]"
                    )
            if item_id is None:
                if price_id is None:
                    raise missing(f"{param}[price]")
                if any(item["price"] == price_id for item in items):
                    raise InvalidRequest(
                        "Cannot add multiple subscription items with the same plan: " + price_id,
                        param=f"{param}[price]",
                    )
                added = self._add_item(
                    subscription_id, price_id, 1 if quantity is None else quantity, period_start=now
                )
                prorations += self._proration(cycle, added, None, price_id, added["quantity"])
                continue
            item = next((item for item in items if item["id"] == item_id), None)
            if item is None:
                raise ResourceMissing("subscription_item", item_id, param=f"{param}[id]", http_status=400)
            if get_bool(raw, "deleted", param=f"{param}[deleted]"):
                if len(items) == 1:
                    raise InvalidRequest(
                        "A subscription must have at least one active plan. To cancel a subscription, please "
                        "use the cancel API endpoint on /v1/subscriptions.",
                        param=f"{param}[deleted]",
                    )
                prorations += self._proration(cycle, item, item["price"], None, item["quantity"])
                items.remove(item)
                continue
            old_price, old_quantity = item["price"], item["quantity"]
            new_price = price_id or old_price
            new_quantity = old_quantity if quantity is None else quantity
            if (new_price, new_quantity) != (old_price, old_quantity):
                prorations += self._proration(cycle, item, old_price, None, old_quantity)
                item["price"], item["quantity"] = new_price, new_quantity
                prorations += self._proration(cycle, item, None, new_price, new_quantity)
            metadata = get_metadata(raw)
            item["metadata"] = merge_metadata(item["metadata"], metadata, clear_all=metadata == {})

        if proration_behavior == "none" or self.objects[subscription_id]["status"] == "trialing":
            return []
        lines = [line for line in prorations if line["amount"] != 0]
        if proration_behavior == "always_invoice":
            # Pending prorations from earlier changes are swept into the immediate invoice too.
            lines = self._pending_as_lines(state) + lines
            state.pending_lines.clear()
            return lines
        state.pending_lines += [_PendingLine(**self._line_fields(line)) for line in lines]
        return []

    def _proration(
        self,
        cycle: tuple[int, int],
        item: JsonObject,
        old_price: str | None,
        new_price: str | None,
        quantity: int,
    ) -> list[JsonObject]:
        """A credit for the unused time on ``old_price`` or a charge for the rest of the cycle on ``new_price``."""
        now = self.now()
        start, end = cycle
        fraction = max(0.0, min(1.0, (end - now) / (end - start))) if end > start else 0.0
        price_id = old_price or new_price
        if price_id is None:
            return []
        price = self.objects[price_id]
        product = self.objects[price["product"]]
        when = objects.format_day(now)
        if old_price is not None:
            amount = -round(price["unit_amount"] * quantity * fraction)
            description = f"Unused time on {quantity} {_TIMES} {product['name']} after {when}"
        else:
            amount = round(price["unit_amount"] * quantity * fraction)
            description = f"Remaining time on {quantity} {_TIMES} {product['name']} after {when}"
        return [
            {
                "item_id": item["id"],
                "price_id": price_id,
                "quantity": quantity,
                "amount": amount,
                "period_start": now,
                "period_end": end,
                "description": description,
                "proration": True,
            }
        ]

    @staticmethod
    def _line_fields(line: JsonObject) -> dict[str, Any]:
        return {key: line[key] for key in _PendingLine.__dataclass_fields__}

    @staticmethod
    def _pending_as_lines(state: _SubscriptionState) -> list[JsonObject]:
        return [{**pending.__dict__, "proration": True} for pending in state.pending_lines]

    def cancel_subscription(self, subscription_id: str, params: Params) -> JsonObject:
        subscription = self.get("subscription", subscription_id)
        if subscription["status"] == "canceled":
            # Stripe treats a canceled subscription as gone for cancellation purposes.
            raise ResourceMissing("subscription", subscription_id)
        details = get_dict(params, "cancellation_details") or {}
        for name in ("comment", "feedback"):
            if name in details:
                subscription["cancellation_details"][name] = get_str(details, name) or None
        return self._end_subscription(subscription_id, reason="cancellation_requested", ended_at=self.now())

    def _end_subscription(
        self, subscription_id: str, *, reason: str, ended_at: int, from_request: bool = True
    ) -> JsonObject:
        subscription = self.objects[subscription_id]
        subscription["status"] = "canceled"
        subscription["ended_at"] = ended_at
        if subscription["canceled_at"] is None:
            subscription["canceled_at"] = ended_at
        subscription["cancellation_details"]["reason"] = reason
        self._sub_state[subscription_id].pending_lines.clear()
        rendered = self.render(subscription_id)
        self._emit("customer.subscription.deleted", rendered, from_request=from_request)
        return rendered

    # --- renewals and payments (test helpers) ------------------------------------------------------

    def fail_next_payment(self, subscription_id: str) -> None:
        self.get("subscription", subscription_id)
        self._sub_state[subscription_id].fail_next_payment = True

    def renew(self, subscription_id: str, paid: bool | None = None) -> JsonObject:
        """Jump to the end of the current period: renew (and charge) it, or end a scheduled cancellation."""
        subscription = self.get("subscription", subscription_id)
        if subscription["status"] in ("canceled", "incomplete_expired"):
            raise InvalidRequest(
                f"Subscription {subscription_id} is {subscription['status']}; it cannot renew."
            )
        items = self._items[subscription_id]
        state = self._sub_state[subscription_id]
        old_start = min(item["current_period_start"] for item in items)
        old_end = min(item["current_period_end"] for item in items)
        cancel_at = subscription["cancel_at"]
        if cancel_at is not None and cancel_at <= old_end:
            return self._end_subscription(
                subscription_id, reason="cancellation_requested", ended_at=cancel_at, from_request=False
            )

        before = self.render(subscription_id)
        state.cycle += 1
        for item in items:
            item["current_period_start"] = item["current_period_end"]
            item["current_period_end"] = self._period_end(state, item["price"])
        lines = self._pending_as_lines(state) + [self._item_line(subscription_id, item) for item in items]
        state.pending_lines.clear()
        # An invoice's own period looks back at the period just ended; the service period is on the lines.
        invoice = self._create_invoice(
            subscription_id,
            lines,
            billing_reason="subscription_cycle",
            period_start=old_start,
            period_end=old_end,
        )
        succeeded = self._take_payment_outcome(subscription_id, paid) or invoice["amount_due"] == 0
        if succeeded:
            self._mark_paid(invoice)
            subscription["status"] = "active"
        else:
            self._mark_failed(invoice)
            subscription["status"] = "past_due"
        subscription["latest_invoice"] = invoice["id"]
        after = self.render(subscription_id)
        self._emit(
            "invoice.paid" if succeeded else "invoice.payment_failed",
            self.render(invoice["id"]),
            from_request=False,
        )
        self._emit("customer.subscription.updated", after, self._diff(before, after), from_request=False)
        return after

    def pay_invoice(self, invoice_id: str, params: Params, *, paid: bool | None = None) -> JsonObject:
        """Retry an open invoice (API ``POST /v1/invoices/{id}/pay`` or the ``retry_payment`` helper)."""
        invoice = self.get("invoice", invoice_id)
        if invoice["status"] == "paid":
            raise InvalidRequest("Invoice is already paid", code="invoice_already_paid")
        if invoice["status"] != "open":
            raise InvalidRequest(f"This invoice can no longer be paid: its status is {invoice['status']}.")
        subscription_id = invoice["parent"]["subscription_details"]["subscription"]
        subscription = self.objects[subscription_id]
        out_of_band = bool(get_bool(params, "paid_out_of_band"))
        succeeded = out_of_band or self._take_payment_outcome(subscription_id, paid)
        if not succeeded:
            self._mark_failed(invoice)
            self._emit("invoice.payment_failed", self.render(invoice_id))
            raise StripeApiError(
                "Your card was declined.",
                code="card_declined",
                http_status=402,
                error_type="card_error",
            )
        self._mark_paid(invoice)
        self._emit("invoice.paid", self.render(invoice_id))
        if subscription["status"] == "past_due" and subscription["latest_invoice"] == invoice_id:
            before = self.render(subscription_id)
            subscription["status"] = "active"
            after = self.render(subscription_id)
            self._emit("customer.subscription.updated", after, self._diff(before, after))
        return self.render(invoice_id)

    # --- invoices and events -----------------------------------------------------------------------

    def list_invoices(self, params: Params) -> JsonObject:
        customer = get_str(params, "customer")
        status = get_str(params, "status")
        subscription = get_str(params, "subscription")
        in_range = self._created_filter(params)
        ids = self._listed(
            "invoice",
            lambda inv: (
                (customer is None or inv["customer"] == customer)
                and (status is None or inv["status"] == status)
                and (
                    subscription is None
                    or inv["parent"]["subscription_details"]["subscription"] == subscription
                )
                and in_range(inv)
            ),
        )
        return self.paginate(ids, params, "/v1/invoices")

    def invoice_lines(self, invoice_id: str, params: Params) -> JsonObject:
        invoice = self.get("invoice", invoice_id)
        lines = [objects.deep_copy(line) for line in invoice["lines"]["data"]]
        return objects.list_object(lines, f"/v1/invoices/{invoice_id}/lines")

    def list_events(self, params: Params) -> JsonObject:
        wanted = get_str(params, "type")
        types = set(get_list(params, "types"))
        in_range = self._created_filter(params)

        def type_matches(event_type: str) -> bool:
            if wanted is not None:
                # "customer.subscription.*" style wildcards are accepted by Stripe's type filter.
                if wanted.endswith("*"):
                    return event_type.startswith(wanted[:-1])
                return event_type == wanted
            return not types or event_type in types

        ids = self._listed("event", lambda e: type_matches(e["type"]) and in_range(e))
        return self.paginate(ids, params, "/v1/events")

    # --- search ----------------------------------------------------------------------------------

    def search(self, kind: str, params: Params, url: str) -> JsonObject:
        query = get_str(params, "query", required=True) or ""
        predicate = self._parse_query(kind, query)
        ids = self._listed(kind, predicate)
        limit = get_int(params, "limit") or 10
        page = get_str(params, "page")
        offset = int(page) if page and page.isdigit() else 0
        chunk = ids[offset : offset + limit]
        has_more = offset + limit < len(ids)
        return {
            "object": "search_result",
            "data": [self.render(object_id) for object_id in chunk],
            "has_more": has_more,
            "next_page": str(offset + limit) if has_more else None,
            "url": url,
        }

    def _parse_query(self, kind: str, query: str) -> Callable[[JsonObject], bool]:
        """A subset of Stripe's search language: ``field:'v'``, ``metadata['k']:'v'``, ``~``, ``>``, AND/OR."""
        tokens = re.split(r"\s+(AND|OR)\s+", query.strip())
        clauses = tokens[0::2]
        joiners = set(tokens[1::2])
        if len(joiners) > 1:
            raise InvalidRequest("Mixing AND and OR in one query is not supported.", param="query")
        tests = [self._parse_clause(kind, clause) for clause in clauses]
        if joiners == {"OR"}:
            return lambda obj: any(test(obj) for test in tests)
        return lambda obj: all(test(obj) for test in tests)

    def _parse_clause(self, kind: str, clause: str) -> Callable[[JsonObject], bool]:
        match = _SEARCH_CLAUSE.match(clause.strip())
        if match is None:
            raise InvalidRequest(f"Invalid search query clause: {clause}", param="query")
        field_name = match["field"]
        if field_name not in _SEARCH_FIELDS[kind]:
            raise InvalidRequest(
                f"Field `{field_name}` is an unsupported search field for resource `{kind}s`.", param="query"
            )
        raw = match["value"]
        value = raw[1:-1] if raw[:1] in ("'", '"') else raw
        op, negate, key = match["op"], bool(match["neg"]), match["key"]

        def current(obj: JsonObject) -> Any:
            if field_name == "metadata":
                return (obj.get("metadata") or {}).get(key or "")
            if kind == "invoice" and field_name == "subscription":
                return obj["parent"]["subscription_details"]["subscription"]
            return obj.get(field_name)

        def test(obj: JsonObject) -> bool:
            actual = current(obj)
            if op == ":":
                result = (actual is None) if value == "null" else str(actual).lower() == value.lower()
            elif op == "~":
                result = actual is not None and value.lower() in str(actual).lower()
            else:
                if actual is None:
                    return False
                threshold = float(value)
                result = {
                    ">": actual > threshold,
                    ">=": actual >= threshold,
                    "<": actual < threshold,
                    "<=": actual <= threshold,
                }[op]
            return result != negate

        return test
