"""Plans bought through Stripe: checkout, the customer's subscription and its changes, billing history, and
the webhook events that keep each user's plan in step with Stripe.

Rules (codes of the API reference):

* a ``subscriptionId`` that names no plan: 422 ``must be valid subscription id`` (param subscriptionId);
* a plan that exists but is not for sale (private, or no Stripe price whose lookup_key is its id): 2100;
* a checkout while the customer has a live subscription (active, trialing, past_due): 3109;
* a change without one: 3104.

Stripe is the source of truth. The user's plan record is written from the subscription as Stripe has it
*now* (fetched again for every event, whatever the event says and in whatever order events arrive), and
plan limits read that record. ``past_due`` keeps the plan: Stripe is still retrying the payment and ends the
subscription itself when its retries run out.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from core.errors import (
    FieldError,
    FieldValidationError,
    InvalidSubscriptionType,
    StripeSubscriptionAlreadyExists,
    StripeSubscriptionMissing,
)
from core.models.billing import BillingEvent, BillingInvoice, BillingPrice, BillingSubscription
from core.models.catalog import Plan
from core.models.subscription import PaymentType, UserSubscription
from core.observability import logger
from core.ports import BillingGateway
from core.repositories.catalog import CatalogRepository
from core.repositories.stripe_customers import StripeCustomerRepository
from core.repositories.stripe_events import StripeEventRepository
from core.repositories.subscription import SubscriptionRepository
from core.services.subscription import ACTIVE_STATUSES, current_plan
from core.timeutil import to_iso

INVALID_SUBSCRIPTION_ID = "must be valid subscription id"
# Events that can change what a subscription grants; every other type is acknowledged and ignored.
HANDLED_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.paused",
        "customer.subscription.resumed",
        "invoice.paid",
        "invoice.payment_failed",
    }
)


# Called once whenever the plan that binds a user changes: (user id, previous plan, current plan), None = no
# plan. The wiring hands in ``core.services.plan_limits.on_plan_changed``; tests hand in a recorder.
PlanChangeListener = Callable[[str, Plan | None, Plan | None], None]


def _no_listener(user_id: str, previous: Plan | None, current: Plan | None) -> None:
    return None


class BillingConfigurationError(RuntimeError):
    """Stripe and the catalog disagree (a live subscription whose price names no plan): a 500, so Stripe
    retries the event while someone fixes the price's lookup_key."""


class EventOutcome(StrEnum):
    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


@dataclass(frozen=True)
class CheckoutResult:
    url: str
    success_url: str
    cancel_url: str
    session_id: str


@dataclass(frozen=True)
class SubscriptionChange:
    cancel_at_period_end: bool | None = None
    plan_id: str | None = None


def idempotency_key(user_id: str, purpose: str, *fingerprint: Any) -> str:
    """The same user, purpose and fingerprint always give the same key: Stripe then answers a repeated
    request with the first one's result instead of doing it twice (for 24 hours)."""
    material = "\x1f".join([user_id, purpose, *(str(part) for part in fingerprint)])
    return f"{purpose}-{hashlib.sha256(material.encode('utf-8')).hexdigest()[:48]}"


def iso_of(timestamp: int | None) -> str | None:
    """A Stripe timestamp (Unix seconds) in the API's format, ``2022-10-24T12:20:08.000Z``."""
    return None if timestamp is None else to_iso(datetime.fromtimestamp(timestamp, UTC))


def invalid_subscription_id(value: Any) -> FieldValidationError:
    return FieldValidationError(
        FieldError(value=value, msg=INVALID_SUBSCRIPTION_ID, param="subscriptionId", location="body")
    )


class BillingService:
    def __init__(
        self,
        *,
        gateway: BillingGateway,
        customers: StripeCustomerRepository,
        subscriptions: SubscriptionRepository,
        catalog: CatalogRepository,
        events: StripeEventRepository,
        success_url: str = "",
        cancel_url: str = "",
        clock: Callable[[], float] = time.time,
        on_plan_changed: PlanChangeListener = _no_listener,
    ) -> None:
        self._gateway = gateway
        self._customers = customers
        self._subscriptions = subscriptions
        self._catalog = catalog
        self._events = events
        self._success_url = success_url
        self._cancel_url = cancel_url
        self._clock = clock
        self._on_plan_changed = on_plan_changed

    # ------------------------------------------------------------ reads
    def current_subscription(self, user_id: str) -> BillingSubscription | None:
        """The customer's first live subscription (Stripe lists newest first), or None."""
        customer_id = self._customers.customer_of(user_id)
        return self._live_subscription(customer_id) if customer_id else None

    def billing_history(self, user_id: str) -> list[BillingInvoice]:
        customer_id = self._customers.customer_of(user_id)
        if customer_id is None:
            return []
        return sorted(self._gateway.paid_invoices(customer_id), key=lambda invoice: -invoice.created)

    # ------------------------------------------------------------ changes
    def start_checkout(self, user_id: str, email: str | None, plan_id: str) -> CheckoutResult:
        plan = self._plan_for_sale(plan_id)
        customer_id = self._customers.customer_of(user_id)
        if customer_id is not None and self._live_subscription(customer_id) is not None:
            raise StripeSubscriptionAlreadyExists
        price = self._price_of(plan)
        if not (self._success_url and self._cancel_url):
            raise RuntimeError("CHECKOUT_SUCCESS_URL and CHECKOUT_CANCEL_URL must be configured")
        if customer_id is None:
            customer_id = self.ensure_customer(user_id, email)
        # A repeated request (a retry, a double click) within the hour gets the same, still open, session.
        hour = int(self._clock() // 3600)
        session = self._gateway.create_checkout_session(
            customer_id=customer_id,
            price_id=price.id,
            user_id=user_id,
            plan_id=plan.id,
            success_url=self._success_url,
            cancel_url=self._cancel_url,
            idempotency_key=idempotency_key(
                user_id, "checkout", customer_id, price.id, self._success_url, self._cancel_url, hour
            ),
        )
        return CheckoutResult(session.url, self._success_url, self._cancel_url, session.id)

    def change_subscription(
        self, user_id: str, change: SubscriptionChange, request_id: str
    ) -> BillingSubscription:
        """Cancel at period end (or not) and/or move to another plan, prorated; answers the new state.

        Both are set-to-value changes, so applying one twice does no harm; the idempotency key (which
        includes the API request's id) keeps a network retry of this request from being applied twice.
        """
        plan = self._plan_for_sale(change.plan_id) if change.plan_id is not None else None
        current = self.current_subscription(user_id)
        if current is None:
            raise StripeSubscriptionMissing
        swap: tuple[str, str, str] | None = None
        if plan is not None and plan.id != current.plan_id:
            price = self._price_of(plan)
            if price.id != current.price_id:
                swap = (current.item_id, price.id, plan.id)
        cancel = change.cancel_at_period_end
        if cancel is not None and cancel == current.cancel_at_period_end:
            cancel = None
        if swap is None and cancel is None:
            return current
        updated = self._gateway.update_subscription(
            current.id,
            cancel_at_period_end=cancel,
            swap=swap,
            idempotency_key=idempotency_key(
                user_id, "subscription-update", current.id, cancel, swap, request_id
            ),
        )
        # The plan follows at once (the webhook that Stripe sends for this change confirms it).
        self.apply_subscription(user_id, updated)
        return updated

    # ------------------------------------------------------------ webhooks
    def verify_event(self, payload: str, signature: str | None) -> BillingEvent:
        """The event of a webhook delivery; ``WebhookSignatureError`` unless its signature verifies."""
        return self._gateway.verify_event(payload, signature)

    def handle_event(self, event: BillingEvent) -> EventOutcome:
        """One verified webhook event. Processing is idempotent (it reads Stripe's current state); the
        event is recorded only once that succeeded, so Stripe's retry of a failed delivery runs again."""
        if event.type not in HANDLED_EVENTS:
            return EventOutcome.IGNORED
        if self._events.seen(event.id):
            return EventOutcome.DUPLICATE
        if event.subscription_id is not None:
            self.sync_subscription(event.subscription_id, user_hint=event.user_id)
        now = self._clock()
        self._events.mark_processed(event.id, event.type, self._iso(now), int(now))
        return EventOutcome.PROCESSED

    def sync_subscription(self, subscription_id: str, user_hint: str | None = None) -> bool:
        """Writes the user's plan from the subscription as Stripe has it now."""
        fetched_at_ms = int(self._clock() * 1000)
        subscription = self._gateway.subscription(subscription_id)
        user_id = self._customers.user_of(subscription.customer_id) or subscription.user_id or user_hint
        if user_id is None:
            logger.warning(
                "Stripe subscription of a customer that is not ours ignored",
                extra={"subscription_id": subscription.id, "customer_id": subscription.customer_id},
            )
            return False
        return self.apply_subscription(user_id, subscription, fetched_at_ms)

    def apply_subscription(
        self, user_id: str, subscription: BillingSubscription, fetched_at_ms: int | None = None
    ) -> bool:
        """Records what ``subscription`` grants; False when the record already holds a newer state or
        belongs to another subscription. Tells the plan-change listener when the binding plan changed."""
        fetched_at_ms = fetched_at_ms if fetched_at_ms is not None else int(self._clock() * 1000)
        now = self._iso(self._clock())
        period_end = iso_of(subscription.current_period_end) or now
        before = current_plan(self._subscriptions, self._catalog, user_id)
        plan: Plan | None = None
        if subscription.status in ACTIVE_STATUSES:
            plan = self._catalog.get_plan(subscription.plan_id) if subscription.plan_id else None
            if plan is None:
                raise BillingConfigurationError(
                    f"subscription {subscription.id} has price {subscription.price_id} whose lookup_key "
                    f"{subscription.plan_id!r} names no plan"
                )
            record = UserSubscription(
                plan_id=plan.id, payment_type=PaymentType.STRIPE, status=subscription.status, updated_at=now
            )
            written = self._subscriptions.record_stripe_plan(
                user_id, record, subscription.id, period_end, fetched_at_ms
            )
        else:
            written = self._subscriptions.record_stripe_end(
                user_id, subscription.id, subscription.status, period_end, now, fetched_at_ms
            )
        previous = before.plan if before else None
        if written and (previous.id if previous else None) != (plan.id if plan else None):
            self._on_plan_changed(user_id, previous, plan)
        return written

    # ------------------------------------------------------------ helpers
    def _live_subscription(self, customer_id: str) -> BillingSubscription | None:
        subscriptions = self._gateway.subscriptions_of(customer_id)
        return next((s for s in subscriptions if s.status in ACTIVE_STATUSES), None)

    def _plan_for_sale(self, plan_id: str) -> Plan:
        plan = self._catalog.get_plan(plan_id)
        if plan is None:
            raise invalid_subscription_id(plan_id)
        if not plan.public:
            raise InvalidSubscriptionType(f"plan {plan.id} is private")
        return plan

    def _price_of(self, plan: Plan) -> BillingPrice:
        price = self._gateway.price_for_plan(plan.id)
        if price is None:
            logger.error("no active Stripe price has the plan's id as lookup_key", extra={"plan_id": plan.id})
            raise InvalidSubscriptionType(f"plan {plan.id} has no Stripe price")
        return price

    def ensure_customer(self, user_id: str, email: str | None) -> str:
        """The user's one customer: created once (the key makes a retried create return the same customer)
        and remembered with a conditional write, so concurrent first checkouts agree on it."""
        existing = self._customers.customer_of(user_id)
        if existing is not None:
            return existing
        created = self._gateway.create_customer(
            user_id, email, idempotency_key(user_id, "customer", email or "")
        )
        return self._customers.remember(user_id, created, self._iso(self._clock()))

    @staticmethod
    def _iso(epoch_seconds: float) -> str:
        return to_iso(datetime.fromtimestamp(epoch_seconds, UTC))
