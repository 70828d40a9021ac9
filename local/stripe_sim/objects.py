"""Identifiers, billing-period arithmetic and the JSON shapes of the pinned Stripe API version.

Shapes follow API version ``API_VERSION`` (the one stripe-python 16.1.0 sends as ``Stripe-Version``)
as described by the SDK's typed classes (``stripe/_subscription.py``, ``_subscription_item.py``,
``_invoice.py``, ``_invoice_line_item.py``, ``checkout/_session.py``). The version-sensitive parts:

* billing periods live on subscription items (``items.data[].current_period_start/_end``); the
  subscription itself has no ``current_period_*`` since 2025-03-31.basil;
* an invoice points at its subscription through ``parent.subscription_details.subscription``
  (the top-level ``invoice.subscription`` is gone), and line items through
  ``parent.subscription_item_details`` plus ``pricing.price_details``;
* subscription items still carry the legacy ``plan`` object next to ``price``;
* ``billed_until`` on items is includable only (2026-05-27.dahlia), so it is not rendered.
"""

from __future__ import annotations

import calendar
import copy
import datetime as dt
import secrets
import string
from typing import Any

API_VERSION = "2026-10-28.endive"

JsonObject = dict[str, Any]

_ALPHABET = string.ascii_letters + string.digits

# Lengths of the random part of real Stripe ids, so ids look (and sort, and get truncated) alike.
_ID_LENGTHS = {
    "cus": 14,
    "prod": 14,
    "price": 24,
    "cs_test": 58,
    "sub": 24,
    "si": 14,
    "in": 24,
    "il": 24,
    "evt": 24,
    "req": 14,
    "li": 24,
}


def new_id(prefix: str) -> str:
    # "1" after the prefix mimics Stripe's versioned id format (sub_1Q..., price_1P...).
    marker = "a1" if prefix == "cs_test" else "1"
    length = _ID_LENGTHS.get(prefix, 24) - len(marker)
    body = "".join(secrets.choice(_ALPHABET) for _ in range(length))
    return f"{prefix}_{marker}{body}"


def new_invoice_prefix() -> str:
    return secrets.token_hex(4).upper()


def add_interval(anchor: int, interval: str, count: int) -> int:
    """``anchor`` advanced by ``count`` intervals, clamping month ends the way Stripe does.

    Periods are always computed from the billing cycle anchor (not from the previous period end)
    so a subscription anchored on Jan 31 renews Feb 28 and then Mar 31, not Mar 28.
    """
    if interval == "day":
        return anchor + count * 86_400
    if interval == "week":
        return anchor + count * 7 * 86_400
    months = count * (12 if interval == "year" else 1)
    start = dt.datetime.fromtimestamp(anchor, tz=dt.UTC)
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return int(start.replace(year=year, month=month, day=day).timestamp())


def format_amount(amount: int, currency: str) -> str:
    symbol = {"usd": "$", "eur": "€", "gbp": "£"}.get(currency.lower())
    text = f"{amount / 100:,.2f}"
    return f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"


def list_object(data: list[JsonObject], url: str, *, has_more: bool = False) -> JsonObject:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def deep_copy(obj: JsonObject) -> JsonObject:
    return copy.deepcopy(obj)


# --- shapes --------------------------------------------------------------------------------------


def customer_shape(
    *,
    customer_id: str,
    created: int,
    email: str | None,
    name: str | None,
    description: str | None,
    phone: str | None,
    metadata: dict[str, str],
) -> JsonObject:
    return {
        "id": customer_id,
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": created,
        "currency": None,
        "customer_account": None,
        "default_source": None,
        "delinquent": False,
        "description": description,
        "discount": None,
        "email": email,
        "individual_name": None,
        "business_name": None,
        "invoice_prefix": new_invoice_prefix(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": metadata,
        "name": name,
        "next_invoice_sequence": 1,
        "phone": phone,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def product_shape(
    *,
    product_id: str,
    created: int,
    name: str,
    description: str | None,
    active: bool,
    metadata: dict[str, str],
) -> JsonObject:
    return {
        "id": product_id,
        "object": "product",
        "active": active,
        "created": created,
        "default_price": None,
        "description": description,
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": metadata,
        "name": name,
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "type": "service",
        "unit_label": None,
        "updated": created,
        "url": None,
    }


def price_shape(
    *,
    price_id: str,
    created: int,
    product_id: str,
    currency: str,
    unit_amount: int,
    recurring: dict[str, Any] | None,
    lookup_key: str | None,
    nickname: str | None,
    active: bool,
    metadata: dict[str, str],
) -> JsonObject:
    return {
        "id": price_id,
        "object": "price",
        "active": active,
        "billing_scheme": "per_unit",
        "created": created,
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": lookup_key,
        "metadata": metadata,
        "nickname": nickname,
        "product": product_id,
        "recurring": (
            {
                "interval": recurring["interval"],
                "interval_count": recurring["interval_count"],
                "meter": None,
                "trial_period_days": None,
                "usage_type": "licensed",
            }
            if recurring
            else None
        ),
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring" if recurring else "one_time",
        "unit_amount": unit_amount,
        # Sent as a string: stripe-python 16 decodes *_decimal fields into Decimal.
        "unit_amount_decimal": str(unit_amount),
    }


def plan_from_price(price: JsonObject) -> JsonObject:
    """The legacy ``plan`` view of a recurring price that subscription items still carry."""
    recurring = price.get("recurring") or {"interval": "month", "interval_count": 1}
    return {
        "id": price["id"],
        "object": "plan",
        "active": price["active"],
        "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": "per_unit",
        "created": price["created"],
        "currency": price["currency"],
        "interval": recurring["interval"],
        "interval_count": recurring["interval_count"],
        "livemode": False,
        "metadata": dict(price["metadata"]),
        "meter": None,
        "nickname": price["nickname"],
        "product": price["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": "licensed",
    }


def subscription_shape(
    *,
    subscription_id: str,
    created: int,
    customer_id: str,
    currency: str,
    metadata: dict[str, str],
    status: str,
    trial_start: int | None,
    trial_end: int | None,
    description: str | None,
) -> JsonObject:
    """A subscription without ``items`` (stored separately and rendered live with their prices)."""
    return {
        "id": subscription_id,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": trial_end or created,
        "billing_cycle_anchor_config": None,
        "billing_mode": {
            "flexible": {"proration_discounts": "included"},
            "type": "flexible",
            "updated_at": created,
        },
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": created,
        "currency": currency,
        "customer": customer_id,
        "customer_account": None,
        "days_until_due": None,
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": description,
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "latest_invoice": None,
        "livemode": False,
        "metadata": metadata,
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": created,
        "status": status,
        "test_clock": None,
        "transfer_data": None,
        "trial_end": trial_end,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": trial_start,
    }


def subscription_item_shape(
    *,
    item_id: str,
    created: int,
    subscription_id: str,
    price: JsonObject,
    quantity: int,
    period_start: int,
    period_end: int,
    metadata: dict[str, str],
) -> JsonObject:
    return {
        "id": item_id,
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": created,
        "current_period_end": period_end,
        "current_period_start": period_start,
        "discounts": [],
        "metadata": metadata,
        "plan": plan_from_price(price),
        "price": deep_copy(price),
        "quantity": quantity,
        "subscription": subscription_id,
        "tax_rates": [],
    }


def invoice_line_shape(
    *,
    line_id: str,
    invoice_id: str,
    subscription_id: str,
    subscription_item_id: str,
    price: JsonObject,
    quantity: int,
    amount: int,
    period_start: int,
    period_end: int,
    description: str,
    proration: bool,
) -> JsonObject:
    return {
        "id": line_id,
        "object": "line_item",
        "amount": amount,
        "currency": price["currency"],
        "description": description,
        "discount_amounts": [],
        "discountable": not proration,
        "discounts": [],
        "invoice": invoice_id,
        "livemode": False,
        "metadata": {},
        "parent": {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": proration,
                "proration_details": {"credited_items": None},
                "subscription": subscription_id,
                "subscription_item": subscription_item_id,
            },
            "type": "subscription_item_details",
        },
        "period": {"end": period_end, "start": period_start},
        "pretax_credit_amounts": [],
        "pricing": {
            "price_details": {"price": price["id"], "product": price["product"]},
            "type": "price_details",
            "unit_amount_decimal": price["unit_amount_decimal"],
        },
        "quantity": quantity,
        "subscription": subscription_id,
        "subtotal": amount,
        "taxes": [],
    }


def invoice_shape(
    *,
    invoice_id: str,
    created: int,
    customer: JsonObject,
    subscription: JsonObject,
    number: str,
    currency: str,
    lines: list[JsonObject],
    billing_reason: str,
    period_start: int,
    period_end: int,
    base_url: str,
) -> JsonObject:
    """A finalized, not yet paid invoice; payment outcomes are applied by the store."""
    total = sum(line["amount"] for line in lines)
    amount_due = max(total, 0)
    return {
        "id": invoice_id,
        "object": "invoice",
        "account_country": "US",
        "account_name": "Local Stripe Simulator",
        "account_tax_ids": None,
        "amount_due": amount_due,
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_remaining": amount_due,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": True,
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "automatically_finalizes_at": None,
        "billing_reason": billing_reason,
        "collection_method": "charge_automatically",
        "created": created,
        "currency": currency,
        "custom_fields": None,
        "customer": customer["id"],
        "customer_account": None,
        "customer_address": None,
        "customer_email": customer["email"],
        "customer_name": customer["name"],
        "customer_phone": customer["phone"],
        "customer_shipping": None,
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "due_date": None,
        "effective_at": created,
        # A negative total (downgrade credit) becomes customer balance rather than a refund.
        "ending_balance": min(total, 0),
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": f"{base_url}/invoice/{invoice_id}",
        "invoice_pdf": f"{base_url}/invoice/{invoice_id}/pdf",
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": {
            "object": "list",
            "data": lines,
            "has_more": False,
            "total_count": len(lines),
            "url": f"/v1/invoices/{invoice_id}/lines",
        },
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None,
        "number": number,
        "on_behalf_of": None,
        "parent": {
            "quote_details": None,
            "subscription_details": {
                "metadata": dict(subscription["metadata"]),
                "subscription": subscription["id"],
            },
            "type": "subscription_details",
        },
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": period_end,
        "period_start": period_start,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": "open",
        "status_transitions": {
            "finalized_at": created,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        "subtotal": total,
        "subtotal_excluding_tax": total,
        "test_clock": None,
        "total": total,
        "total_discount_amounts": [],
        "total_excluding_tax": total,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": created,
    }


def checkout_session_shape(
    *,
    session_id: str,
    created: int,
    mode: str,
    customer_id: str | None,
    customer_email: str | None,
    currency: str | None,
    amount_total: int,
    success_url: str | None,
    cancel_url: str | None,
    client_reference_id: str | None,
    metadata: dict[str, str],
    expires_at: int,
    url: str,
) -> JsonObject:
    return {
        "id": session_id,
        "object": "checkout.session",
        "adaptive_pricing": None,
        "after_expiration": None,
        "allow_promotion_codes": None,
        "amount_subtotal": amount_total,
        "amount_total": amount_total,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": None,
        "cancel_url": cancel_url,
        "client_reference_id": client_reference_id,
        "client_secret": None,
        "collected_information": None,
        "consent": None,
        "consent_collection": None,
        "created": created,
        "currency": currency,
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer": customer_id,
        "customer_account": None,
        "customer_creation": None if customer_id else "always",
        "customer_details": None,
        "customer_email": customer_email,
        "discounts": [],
        "expires_at": expires_at,
        "invoice": None,
        "invoice_creation": None,
        "livemode": False,
        "locale": None,
        "metadata": metadata,
        "mode": mode,
        "origin_context": None,
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "always",
        "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "permissions": None,
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": None,
        "subscription": None,
        "success_url": success_url,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted",
        "url": url,
        "wallet_options": None,
    }


def checkout_line_item_shape(
    *, line_id: str, price: JsonObject, product: JsonObject, quantity: int
) -> JsonObject:
    amount = price["unit_amount"] * quantity
    return {
        "id": line_id,
        "object": "item",
        "amount_discount": 0,
        "amount_subtotal": amount,
        "amount_tax": 0,
        "amount_total": amount,
        "currency": price["currency"],
        "description": product["name"],
        "metadata": {},
        "price": deep_copy(price),
        "quantity": quantity,
    }


def event_shape(
    *,
    event_id: str,
    created: int,
    event_type: str,
    obj: JsonObject,
    previous_attributes: JsonObject | None,
    pending_webhooks: int,
    request: JsonObject,
) -> JsonObject:
    data: JsonObject = {"object": obj}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    return {
        "id": event_id,
        "object": "event",
        "api_version": API_VERSION,
        "created": created,
        "data": data,
        "livemode": False,
        "pending_webhooks": pending_webhooks,
        "request": request,
        "type": event_type,
    }


def format_day(timestamp: int) -> str:
    """Stripe's proration line wording uses dates like "24 Nov 2025"."""
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).strftime("%d %b %Y").lstrip("0")
