"""Products and their prices: seeded in-process (``StripeSimulator.seed_plan``), listed over the API.

Every price is a monthly recurring, active price, which is how the project sells its plans; a plan finds its
price by ``lookup_key`` (``GET /v1/prices?lookup_keys[]=<plan id>``), so lookup keys are unique.
"""

from __future__ import annotations

from local.stripe_sim import objects
from local.stripe_sim.errors import InvalidRequest
from local.stripe_sim.forms import Params, get_bool, get_dict, get_list, get_str
from local.stripe_sim.listing import created_filter, paginate
from local.stripe_sim.objects import JsonObject
from local.stripe_sim.state import State


class Catalog:
    def __init__(self, state: State) -> None:
        self._state = state

    def create_product(self, name: str, metadata: dict[str, str]) -> JsonObject:
        product = objects.product_shape(
            product_id=objects.new_id("prod"),
            created=self._state.now(),
            name=name,
            description=None,
            active=True,
            metadata=dict(metadata),
        )
        return self._state.add("product", product)

    def create_monthly_price(
        self,
        product_id: str,
        unit_amount: int,
        *,
        currency: str = "usd",
        lookup_key: str | None = None,
        metadata: dict[str, str],
    ) -> JsonObject:
        product = self._state.get("product", product_id, param="product", http_status=400)
        if lookup_key and self._state.ids_of("price", lambda price: price["lookup_key"] == lookup_key):
            raise InvalidRequest(
                "A price already uses that lookup key.", code="lookup_key_already_used", param="lookup_key"
            )
        price = objects.price_shape(
            price_id=objects.new_id("price"),
            created=self._state.now(),
            product_id=product_id,
            currency=currency,
            unit_amount=unit_amount,
            recurring={"interval": "month", "interval_count": 1},
            lookup_key=lookup_key,
            nickname=None,
            active=True,
            metadata=dict(metadata),
        )
        self._state.add("price", price)
        if product["default_price"] is None:
            product["default_price"] = price["id"]
        return price

    def list_prices(self, params: Params) -> JsonObject:
        active = get_bool(params, "active")
        currency = get_str(params, "currency")
        product = get_str(params, "product")
        price_type = get_str(params, "type")
        lookup_keys = set(get_list(params, "lookup_keys"))
        interval = get_str(get_dict(params, "recurring") or {}, "interval")
        in_range = created_filter(params)

        def matches(price: JsonObject) -> bool:
            return (
                (active is None or price["active"] == active)
                and (currency is None or price["currency"] == currency.lower())
                and (product is None or price["product"] == product)
                and (price_type is None or price["type"] == price_type)
                and (not lookup_keys or price["lookup_key"] in lookup_keys)
                and (interval is None or price["recurring"]["interval"] == interval)
                and in_range(price)
            )

        return paginate(self._state, self._state.ids_of("price", matches), params, "/v1/prices")
