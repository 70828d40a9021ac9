"""Stripe through stripe-python: ``StripeBilling`` implements ``core.ports.BillingGateway``.

stripe is imported on the first call, so only the functions that talk to Stripe pay for it, and one
``StripeClient`` serves every request of a warm container. Objects are read as the API version
stripe-python pins: billing periods live on subscription items, an invoice names its subscription under
``parent.subscription_details`` and the period it bills is on its lines (its own ``period_start/_end``
look back at the previous period).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from adapters.billing.errors import stripe_errors
from core.config import get_settings
from core.errors import ServiceUnavailableError, WebhookSignatureError
from core.models.billing import (
    BillingEvent,
    BillingInvoice,
    BillingPrice,
    BillingSubscription,
    CheckoutSession,
)

# The metadata key under which this service records its user on Stripe objects.
USER_METADATA = "userId"
PLAN_METADATA = "planId"


@lru_cache(maxsize=4)
def stripe_client(api_key: str, api_base: str, timeout_seconds: float, max_network_retries: int) -> Any:
    """One client per container and configuration (tests point new simulators at it)."""
    import stripe

    options: dict[str, Any] = {
        "max_network_retries": max_network_retries,
        "http_client": stripe.RequestsClient(timeout=timeout_seconds),
    }
    if api_base:
        options["base_addresses"] = {"api": api_base}
    return stripe.StripeClient(api_key, **options)


def stripe_credential(name: str, configured: str) -> str:
    """The Stripe API key ("apiKey") or webhook signing secret ("webhookSecret").

    Read from the Secrets Manager secret named by STRIPE_SECRET_ARN (Powertools caches it for five
    minutes, so a rotated key is picked up without a deploy) unless the setting itself is given.
    """
    if configured:
        return configured
    arn = get_settings().stripe_secret_arn
    if not arn:
        return ""
    from aws_lambda_powertools.utilities import parameters

    secret = parameters.get_secret(arn, transform="json", max_age=300)
    return str(secret.get(name, "")) if isinstance(secret, dict) else ""


def _id(value: Any) -> str:
    """An id whether the field holds it or (expanded) the object itself."""
    return str(value["id"] if isinstance(value, dict) else value)


def _metadata(obj: dict[str, Any] | None) -> dict[str, Any]:
    return (obj or {}).get("metadata") or {}


def subscription_of(data: dict[str, Any]) -> BillingSubscription:
    items = data["items"]["data"]
    item = items[0]
    price = item["price"]
    plan = item.get("plan") or {}
    recurring = price.get("recurring") or {}
    amount = plan.get("amount")
    return BillingSubscription(
        id=data["id"],
        customer_id=_id(data["customer"]),
        status=data["status"],
        plan_id=price.get("lookup_key"),
        item_id=item["id"],
        price_id=price["id"],
        cancel_at_period_end=bool(data.get("cancel_at_period_end")),
        cancel_at=data.get("cancel_at"),
        current_period_start=min(entry["current_period_start"] for entry in items),
        current_period_end=min(entry["current_period_end"] for entry in items),
        trial_start=data.get("trial_start"),
        trial_end=data.get("trial_end"),
        amount=int(amount if amount is not None else price.get("unit_amount") or 0),
        currency=price["currency"],
        interval=plan.get("interval") or recurring.get("interval") or "month",
        trial_period_days=plan.get("trial_period_days") if plan else recurring.get("trial_period_days"),
        user_id=_metadata(data).get(USER_METADATA),
    )


def _is_proration(line: dict[str, Any]) -> bool:
    details = (line.get("parent") or {}).get("subscription_item_details") or {}
    return bool(details.get("proration"))


def invoice_of(data: dict[str, Any]) -> BillingInvoice:
    lines = (data.get("lines") or {}).get("data") or []
    # The service period: the regular lines' periods (prorations cover part of the previous one).
    periods = [line["period"] for line in ([ln for ln in lines if not _is_proration(ln)] or lines)]
    return BillingInvoice(
        number=data.get("number"),
        currency=data["currency"],
        amount_paid=int(data.get("amount_paid") or 0),
        period_start=min(p["start"] for p in periods) if periods else data.get("period_start"),
        period_end=max(p["end"] for p in periods) if periods else data.get("period_end"),
        hosted_url=data.get("hosted_invoice_url"),
        pdf=data.get("invoice_pdf"),
        created=int(data["created"]),
    )


def event_of(data: dict[str, Any]) -> BillingEvent:
    """The subscription, customer and user an event is about, wherever its object keeps them."""
    obj = (data.get("data") or {}).get("object") or {}
    kind = obj.get("object")
    subscription_id: str | None = None
    user_id: str | None = None
    if kind == "subscription":
        subscription_id, user_id = obj.get("id"), _metadata(obj).get(USER_METADATA)
    elif kind == "invoice":
        details = (obj.get("parent") or {}).get("subscription_details") or {}
        subscription_id = details.get("subscription") or obj.get("subscription")
        user_id = _metadata(details).get(USER_METADATA)
    elif kind == "checkout.session":
        subscription_id = obj.get("subscription")
        user_id = obj.get("client_reference_id") or _metadata(obj).get(USER_METADATA)
    customer = obj.get("customer")
    return BillingEvent(
        id=str(data["id"]),
        type=str(data["type"]),
        subscription_id=_id(subscription_id) if subscription_id else None,
        customer_id=_id(customer) if customer else None,
        user_id=user_id,
    )


class StripeBilling:
    """Explicit arguments (the local stack's) win; otherwise the settings are read at each call."""

    def __init__(
        self, api_key: str | None = None, api_base: str | None = None, webhook_secret: str | None = None
    ) -> None:
        self._api_key = api_key
        self._api_base = api_base
        self._webhook_secret = webhook_secret

    def __repr__(self) -> str:  # never show the key, even in a traceback
        return "StripeBilling()"

    @property
    def _client(self) -> Any:
        settings = get_settings()
        api_key = (
            self._api_key
            if self._api_key is not None
            else stripe_credential("apiKey", settings.stripe_api_key)
        )
        if not api_key:
            raise ServiceUnavailableError("payments are not configured")
        return stripe_client(
            api_key,
            self._api_base if self._api_base is not None else settings.stripe_api_base,
            settings.stripe_timeout_seconds,
            settings.stripe_max_network_retries,
        )

    def price_for_plan(self, plan_id: str) -> BillingPrice | None:
        with stripe_errors():
            prices = self._client.v1.prices.list(
                params={"lookup_keys": [plan_id], "active": True, "limit": 1}
            )
        if not prices.data:
            return None
        price = prices.data[0]
        return BillingPrice(id=price.id, plan_id=price.lookup_key)

    def create_customer(self, user_id: str, email: str | None, idempotency_key: str) -> str:
        params: dict[str, Any] = {"metadata": {USER_METADATA: user_id}}
        if email:
            params["email"] = email
        with stripe_errors():
            customer = self._client.v1.customers.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        return str(customer.id)

    def create_checkout_session(
        self,
        *,
        customer_id: str,
        price_id: str,
        user_id: str,
        plan_id: str,
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
    ) -> CheckoutSession:
        metadata = {USER_METADATA: user_id, PLAN_METADATA: plan_id}
        with stripe_errors():
            session = self._client.v1.checkout.sessions.create(
                params={
                    "mode": "subscription",
                    "customer": customer_id,
                    "line_items": [{"price": price_id, "quantity": 1}],
                    "success_url": success_url,
                    "cancel_url": cancel_url,
                    "client_reference_id": user_id,
                    "metadata": metadata,
                    "subscription_data": {"metadata": metadata},
                },
                options={"idempotency_key": idempotency_key},
            )
        return CheckoutSession(id=str(session.id), url=str(session.url))

    def subscriptions_of(self, customer_id: str) -> list[BillingSubscription]:
        with stripe_errors():
            page = self._client.v1.subscriptions.list(params={"customer": customer_id, "limit": 20})
        return [subscription_of(entry.to_dict()) for entry in page.data]

    def subscription(self, subscription_id: str) -> BillingSubscription:
        with stripe_errors():
            found = self._client.v1.subscriptions.retrieve(subscription_id)
        return subscription_of(found.to_dict())

    def update_subscription(
        self,
        subscription_id: str,
        *,
        cancel_at_period_end: bool | None,
        swap: tuple[str, str, str] | None,
        idempotency_key: str,
    ) -> BillingSubscription:
        params: dict[str, Any] = {}
        if cancel_at_period_end is not None:
            params["cancel_at_period_end"] = cancel_at_period_end
        if swap is not None:
            item_id, price_id, plan_id = swap
            params["items"] = [{"id": item_id, "price": price_id}]
            params["proration_behavior"] = "create_prorations"
            params["metadata"] = {PLAN_METADATA: plan_id}
        with stripe_errors():
            updated = self._client.v1.subscriptions.update(
                subscription_id, params=params, options={"idempotency_key": idempotency_key}
            )
        return subscription_of(updated.to_dict())

    def paid_invoices(self, customer_id: str) -> list[BillingInvoice]:
        with stripe_errors():
            page = self._client.v1.invoices.list(
                params={"customer": customer_id, "status": "paid", "limit": 100}
            )
        return [invoice_of(entry.to_dict()) for entry in page.data]

    def verify_event(self, payload: str, signature: str | None) -> BillingEvent:
        import stripe

        secret = (
            self._webhook_secret
            if self._webhook_secret is not None
            else stripe_credential("webhookSecret", get_settings().stripe_webhook_secret)
        )
        if not secret.strip():
            # Never verify against an empty secret: anyone could sign with it.
            raise RuntimeError("STRIPE_WEBHOOK_SECRET is not configured")
        if not signature:
            raise WebhookSignatureError("no Stripe-Signature header")
        try:
            stripe.WebhookSignature.verify_header(
                payload, signature, secret, tolerance=stripe.Webhook.DEFAULT_TOLERANCE
            )
            data = json.loads(payload)
            return event_of(data)
        except (stripe.SignatureVerificationError, ValueError, KeyError, TypeError, AttributeError):
            raise WebhookSignatureError("Stripe-Signature did not verify") from None
