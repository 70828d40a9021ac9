"""Billing rules with in-memory fakes of Stripe and the table: no network, no moto."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from core.errors import (
    FieldValidationError,
    InvalidSubscriptionType,
    StripeSubscriptionAlreadyExists,
    StripeSubscriptionMissing,
)
from core.models.billing import (
    BillingEvent,
    BillingInvoice,
    BillingPrice,
    BillingSubscription,
    CheckoutSession,
)
from core.models.catalog import Plan
from core.models.subscription import UserSubscription
from core.services.billing import (
    BillingConfigurationError,
    BillingService,
    EventOutcome,
    SubscriptionChange,
    idempotency_key,
    iso_of,
)
from local.seed import REFERENCE_DATA
from tests.support import ADVANCED, BASIC, PRIVATE, PROFESSIONAL

UNKNOWN = "eefffe05-5d1d-4be8-a300-20c7c39c9fee"
USER, OTHER = "user-1", "user-2"
T0 = 1_700_000_000.0


# ---------------------------------------------------------------- fakes
class FakeCatalog:
    def __init__(self) -> None:
        plans = json.loads(REFERENCE_DATA.read_text())["plans"]
        self.plans = {plan["id"]: Plan(**plan) for plan in plans}

    def get_plan(self, plan_id: str) -> Plan | None:
        return self.plans.get(plan_id)


class FakeCustomers:
    def __init__(self) -> None:
        self.by_user: dict[str, str] = {}
        self.by_customer: dict[str, str] = {}

    def customer_of(self, user_id: str, *, consistent: bool = False) -> str | None:
        return self.by_user.get(user_id)

    def user_of(self, customer_id: str) -> str | None:
        return self.by_customer.get(customer_id)

    def remember(self, user_id: str, customer_id: str, now: str) -> str:
        self.by_user.setdefault(user_id, customer_id)
        self.by_customer.setdefault(self.by_user[user_id], user_id)
        return self.by_user[user_id]


class FakeSubscriptions:
    """The repository's guards: an older fetch never wins; an ending only touches its own subscription."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def get(self, user_id: str) -> UserSubscription | None:
        item = self.items.get(user_id)
        return UserSubscription(**item["record"]) if item else None

    def put(self, user_id: str, subscription: UserSubscription) -> None:
        self.items[user_id] = {"record": subscription.model_dump(), "stripe_id": None, "synced_at": None}

    def _newer(self, user_id: str, fetched_at_ms: int) -> bool:
        synced = (self.items.get(user_id) or {}).get("synced_at")
        return synced is None or synced <= fetched_at_ms

    def record_stripe_plan(self, user_id, subscription, stripe_id, period_end, fetched_at_ms) -> bool:
        if not self._newer(user_id, fetched_at_ms):
            return False
        self.items[user_id] = {
            "record": subscription.model_dump(),
            "stripe_id": stripe_id,
            "synced_at": fetched_at_ms,
        }
        return True

    def record_stripe_end(self, user_id, stripe_id, status, period_end, now, fetched_at_ms) -> bool:
        item = self.items.get(user_id)
        if item is None or item["stripe_id"] != stripe_id or not self._newer(user_id, fetched_at_ms):
            return False
        item["record"]["status"] = status
        item["synced_at"] = fetched_at_ms
        return True


class FakeEvents:
    def __init__(self) -> None:
        self.processed: dict[str, str] = {}

    def seen(self, event_id: str) -> bool:
        return event_id in self.processed

    def mark_processed(self, event_id: str, event_type: str, now: str, now_epoch: int) -> bool:
        return self.processed.setdefault(event_id, event_type) == event_type


def subscription(
    sub_id: str = "sub_1",
    plan_id: str = BASIC,
    status: str = "active",
    customer: str = "cus_1",
    **changes: Any,
) -> BillingSubscription:
    return replace(
        BillingSubscription(
            id=sub_id,
            customer_id=customer,
            status=status,
            plan_id=plan_id,
            item_id=f"si_{sub_id}",
            price_id=f"price_{plan_id[:4]}",
            cancel_at_period_end=False,
            cancel_at=None,
            current_period_start=1_663_000_000,
            current_period_end=1_665_600_000,
            trial_start=None,
            trial_end=None,
            amount=2000,
            currency="usd",
            interval="month",
            trial_period_days=None,
        ),
        **changes,
    )


class FakeStripe:
    def __init__(self) -> None:
        self.prices = {
            plan: BillingPrice(id=f"price_{plan[:4]}", plan_id=plan)
            for plan in (BASIC, ADVANCED, PROFESSIONAL)
        }
        self.subscriptions: dict[str, BillingSubscription] = {}
        self.invoices: dict[str, list[BillingInvoice]] = {}
        self.customers_by_key: dict[str, str] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.unreachable = False

    def _call(self, name: str, **arguments: Any) -> None:
        if self.unreachable:
            raise ConnectionError("stripe unreachable")
        self.calls.append((name, arguments))

    def calls_of(self, name: str) -> list[dict[str, Any]]:
        return [arguments for call, arguments in self.calls if call == name]

    def price_for_plan(self, plan_id: str) -> BillingPrice | None:
        self._call("price_for_plan", plan_id=plan_id)
        return self.prices.get(plan_id)

    def create_customer(self, user_id: str, email: str | None, idempotency_key: str) -> str:
        self._call("create_customer", user_id=user_id, email=email, idempotency_key=idempotency_key)
        # Stripe answers a repeated key with the first result.
        return self.customers_by_key.setdefault(idempotency_key, f"cus_{len(self.customers_by_key) + 1}")

    def create_checkout_session(self, **arguments: Any) -> CheckoutSession:
        self._call("create_checkout_session", **arguments)
        return CheckoutSession(id="cs_1", url="https://checkout.stripe.test/cs_1")

    def subscriptions_of(self, customer_id: str) -> list[BillingSubscription]:
        self._call("subscriptions_of", customer_id=customer_id)
        found = [s for s in reversed(self.subscriptions.values()) if s.customer_id == customer_id]
        return [s for s in found if s.status != "canceled"]

    def subscription(self, subscription_id: str) -> BillingSubscription:
        self._call("subscription", subscription_id=subscription_id)
        return self.subscriptions[subscription_id]

    def update_subscription(self, subscription_id, *, cancel_at_period_end, swap, idempotency_key):
        self._call(
            "update_subscription",
            subscription_id=subscription_id,
            cancel_at_period_end=cancel_at_period_end,
            swap=swap,
            idempotency_key=idempotency_key,
        )
        current = self.subscriptions[subscription_id]
        if cancel_at_period_end is not None:
            current = replace(current, cancel_at_period_end=cancel_at_period_end)
        if swap is not None:
            current = replace(current, price_id=swap[1], plan_id=swap[2])
        self.subscriptions[subscription_id] = current
        return current

    def paid_invoices(self, customer_id: str) -> list[BillingInvoice]:
        self._call("paid_invoices", customer_id=customer_id)
        return self.invoices.get(customer_id, [])

    def verify_event(self, payload: str, signature: str | None) -> BillingEvent:
        raise NotImplementedError


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def world():
    class World:
        stripe = FakeStripe()
        customers = FakeCustomers()
        subscriptions = FakeSubscriptions()
        catalog = FakeCatalog()
        events = FakeEvents()
        clock = Clock()
        plan_changes: list[tuple[str, str | None, str | None]] = []

        def service(self) -> BillingService:
            return BillingService(
                gateway=self.stripe,
                customers=self.customers,
                subscriptions=self.subscriptions,
                catalog=self.catalog,
                events=self.events,
                success_url="https://app.test/ok",
                cancel_url="https://app.test/cancel",
                clock=self.clock,
                on_plan_changed=self.record_plan_change,
            )

        def record_plan_change(self, user_id: str, previous: Plan | None, current: Plan | None) -> None:
            """The plan-change listener: records (user, previous plan id, current plan id)."""
            self.plan_changes.append(
                (user_id, previous.id if previous else None, current.id if current else None)
            )

        def subscribe(self, user: str = USER, **fields: Any) -> BillingSubscription:
            """A user with a customer and a subscription in Stripe (as after a completed checkout)."""
            customer = self.customers.remember(user, fields.pop("customer", f"cus_{user}"), "now")
            created = subscription(customer=customer, **fields)
            self.stripe.subscriptions[created.id] = created
            return created

        def plan_of(self, user: str = USER) -> str | None:
            record = self.subscriptions.get(user)
            return record.plan_id if record and record.status in ("active", "trialing", "past_due") else None

    return World()


def event(
    event_type: str, subscription_id: str | None = "sub_1", event_id: str = "evt_1", **fields: Any
) -> BillingEvent:
    return BillingEvent(
        id=event_id,
        type=event_type,
        subscription_id=subscription_id,
        customer_id=fields.get("customer_id"),
        user_id=fields.get("user_id"),
    )


# ---------------------------------------------------------------- idempotency keys
def test_idempotency_keys_are_deterministic_and_distinct():
    key = idempotency_key(USER, "checkout", "cus_1", "price_1", 42)
    assert key == idempotency_key(USER, "checkout", "cus_1", "price_1", 42)
    assert key.startswith("checkout-")
    assert len(key) <= 255  # Stripe's limit
    others = {
        idempotency_key(OTHER, "checkout", "cus_1", "price_1", 42),
        idempotency_key(USER, "customer", "cus_1", "price_1", 42),
        idempotency_key(USER, "checkout", "cus_1", "price_2", 42),
        idempotency_key(USER, "checkout", "cus_1", "price_1", 43),
        # parts are separated: ("ab", "c") is not ("a", "bc")
        idempotency_key(USER, "checkout", "cus_1price_1", "", 42),
    }
    assert key not in others
    assert len(others) == 5


def test_iso_dates_have_milliseconds_and_z():
    assert iso_of(1666614008) == "2022-10-24T12:20:08.000Z"
    assert iso_of(None) is None


# ---------------------------------------------------------------- checkout
def test_checkout_of_an_unknown_plan_is_a_422_on_subscription_id(world):
    with pytest.raises(FieldValidationError) as raised:
        world.service().start_checkout(USER, "a@b.c", UNKNOWN)
    (error,) = raised.value.errors
    assert (error.value, error.msg, error.param, error.location) == (
        UNKNOWN,
        "must be valid subscription id",
        "subscriptionId",
        "body",
    )
    assert world.stripe.calls == []


def test_checkout_of_the_private_plan_is_2100_without_calling_stripe(world):
    with pytest.raises(InvalidSubscriptionType):
        world.service().start_checkout(USER, "a@b.c", PRIVATE)
    assert world.stripe.calls == []


def test_checkout_of_a_public_plan_without_a_stripe_price_is_2100(world):
    del world.stripe.prices[PROFESSIONAL]
    with pytest.raises(InvalidSubscriptionType):
        world.service().start_checkout(USER, "a@b.c", PROFESSIONAL)
    assert world.stripe.calls_of("create_customer") == []


@pytest.mark.parametrize("status", ["active", "trialing", "past_due"])
def test_checkout_with_a_live_subscription_is_3109(world, status):
    world.subscribe(status=status)
    with pytest.raises(StripeSubscriptionAlreadyExists):
        world.service().start_checkout(USER, "a@b.c", ADVANCED)
    assert world.stripe.calls_of("create_checkout_session") == []


@pytest.mark.parametrize("status", ["canceled", "unpaid", "incomplete_expired"])
def test_checkout_after_the_subscription_ended_is_allowed(world, status):
    world.subscribe(status=status)
    assert world.service().start_checkout(USER, "a@b.c", ADVANCED).url


def test_checkout_creates_one_customer_and_a_session_carrying_the_user(world):
    # Given a user without a Stripe customer; When they check out
    result = world.service().start_checkout(USER, "a@b.c", BASIC)
    # Then a customer is created and remembered, and the session carries the user and the plan
    assert (result.url, result.session_id) == ("https://checkout.stripe.test/cs_1", "cs_1")
    assert (result.success_url, result.cancel_url) == ("https://app.test/ok", "https://app.test/cancel")
    (customer_call,) = world.stripe.calls_of("create_customer")
    assert (customer_call["user_id"], customer_call["email"]) == (USER, "a@b.c")
    customer = world.customers.customer_of(USER)
    assert world.customers.user_of(customer) == USER
    (session,) = world.stripe.calls_of("create_checkout_session")
    assert session["customer_id"] == customer
    assert (session["user_id"], session["plan_id"], session["price_id"]) == (USER, BASIC, "price_336e")
    assert session["idempotency_key"].startswith("checkout-")

    # When a second checkout follows (the first was abandoned); Then it reuses the customer
    world.service().start_checkout(USER, "a@b.c", ADVANCED)
    assert len(world.stripe.calls_of("create_customer")) == 1
    assert world.customers.customer_of(USER) == customer


def test_a_repeated_checkout_request_carries_the_same_key_within_the_hour(world):
    service = world.service()
    # When the same checkout is asked again a minute later, another plan is asked, and an hour passes
    service.start_checkout(USER, "a@b.c", BASIC)
    world.clock.now += 60
    service.start_checkout(USER, "a@b.c", BASIC)
    service.start_checkout(USER, "a@b.c", ADVANCED)
    world.clock.now += 3600
    service.start_checkout(USER, "a@b.c", BASIC)
    # Then only the repetition within the hour shares its key
    keys = [call["idempotency_key"] for call in world.stripe.calls_of("create_checkout_session")]
    assert keys[0] == keys[1]
    assert len(set(keys)) == 3


def test_checkout_while_stripe_is_unreachable_fails_without_remembering_anything(world):
    # Given Stripe is unreachable
    world.stripe.unreachable = True
    with pytest.raises(ConnectionError):
        world.service().start_checkout(USER, "a@b.c", BASIC)
    assert world.customers.customer_of(USER) is None


# ---------------------------------------------------------------- changes
def test_a_change_without_a_customer_or_a_live_subscription_is_3104(world):
    with pytest.raises(StripeSubscriptionMissing):
        world.service().change_subscription(USER, SubscriptionChange(cancel_at_period_end=True), "req-1")
    world.subscribe(status="canceled")
    with pytest.raises(StripeSubscriptionMissing):
        world.service().change_subscription(USER, SubscriptionChange(plan_id=ADVANCED), "req-2")


def test_a_change_to_an_unknown_or_private_plan_is_refused_before_anything_else(world):
    with pytest.raises(FieldValidationError):
        world.service().change_subscription(USER, SubscriptionChange(plan_id=UNKNOWN), "req-1")
    with pytest.raises(InvalidSubscriptionType):
        world.service().change_subscription(USER, SubscriptionChange(plan_id=PRIVATE), "req-1")
    assert world.stripe.calls == []


def test_cancel_at_period_end_sets_the_flag_once(world):
    # Given a live subscription
    world.subscribe()
    service = world.service()
    # When its cancellation at period end is asked for
    updated = service.change_subscription(USER, SubscriptionChange(cancel_at_period_end=True), "req-1")
    assert updated.cancel_at_period_end is True
    (call,) = world.stripe.calls_of("update_subscription")
    assert (call["cancel_at_period_end"], call["swap"]) == (True, None)
    # When it is asked for again; Then nothing is sent: it is set already
    service.change_subscription(USER, SubscriptionChange(cancel_at_period_end=True), "req-2")
    assert len(world.stripe.calls_of("update_subscription")) == 1


def test_a_plan_change_swaps_the_item_price_and_applies_the_plan_at_once(world):
    # Given a user on BASIC, recorded
    world.subscribe(plan_id=BASIC)
    world.service().sync_subscription("sub_1")
    # When they change to PROFESSIONAL
    updated = world.service().change_subscription(USER, SubscriptionChange(plan_id=PROFESSIONAL), "req-1")
    # Then the item's price is swapped, the plan follows at once and the listener hears of both changes
    (call,) = world.stripe.calls_of("update_subscription")
    assert call["swap"] == ("si_sub_1", "price_d6e3", PROFESSIONAL)
    assert call["cancel_at_period_end"] is None
    assert updated.plan_id == PROFESSIONAL
    assert world.plan_of() == PROFESSIONAL
    assert world.plan_changes == [(USER, None, BASIC), (USER, BASIC, PROFESSIONAL)]


def test_changing_to_the_current_plan_sends_nothing(world):
    world.subscribe(plan_id=BASIC)
    world.service().change_subscription(USER, SubscriptionChange(plan_id=BASIC), "req-1")
    assert world.stripe.calls_of("update_subscription") == []


def test_update_keys_differ_per_request_and_per_change(world):
    world.subscribe()
    service = world.service()
    service.change_subscription(USER, SubscriptionChange(cancel_at_period_end=True), "req-1")
    service.change_subscription(USER, SubscriptionChange(cancel_at_period_end=False), "req-2")
    service.change_subscription(USER, SubscriptionChange(cancel_at_period_end=True), "req-3")
    keys = [call["idempotency_key"] for call in world.stripe.calls_of("update_subscription")]
    # The third request asks what the first did: it must not be answered with the first's stale result.
    assert len(set(keys)) == 3


# ---------------------------------------------------------------- billing history
def test_billing_history_is_empty_without_a_customer_and_newest_first_with_one(world):
    assert world.service().billing_history(USER) == []
    assert world.stripe.calls == []
    customer = world.customers.remember(USER, "cus_u", "now")
    invoice = BillingInvoice("A-0001", "usd", 2000, 1, 2, "https://h", "https://p", created=100)
    world.stripe.invoices[customer] = [invoice, replace(invoice, number="A-0002", created=200)]
    assert [i.number for i in world.service().billing_history(USER)] == ["A-0002", "A-0001"]


# ---------------------------------------------------------------- webhook events
def test_unknown_event_types_are_ignored_and_not_recorded(world):
    assert world.service().handle_event(event("customer.created")) is EventOutcome.IGNORED
    assert world.events.processed == {}
    assert world.stripe.calls == []


@pytest.mark.parametrize(
    "event_type",
    [
        "checkout.session.completed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "invoice.paid",
        "invoice.payment_failed",
    ],
)
def test_each_handled_event_writes_the_plan_from_the_subscription_fetched_again(world, event_type):
    world.subscribe(plan_id=ADVANCED)
    assert world.service().handle_event(event(event_type)) is EventOutcome.PROCESSED
    assert world.stripe.calls_of("subscription") == [{"subscription_id": "sub_1"}]
    assert world.plan_of() == ADVANCED
    assert world.events.processed == {"evt_1": event_type}


def test_a_duplicate_delivery_has_no_effect(world):
    # Given an event processed once, after which Stripe's subscription changed
    world.subscribe()
    service = world.service()
    service.handle_event(event("customer.subscription.created"))
    world.stripe.subscriptions["sub_1"] = replace(world.stripe.subscriptions["sub_1"], status="canceled")
    world.stripe.calls.clear()
    # When the same event is delivered again; Then nothing is read or written
    assert service.handle_event(event("customer.subscription.created")) is EventOutcome.DUPLICATE
    assert world.stripe.calls == []
    assert world.plan_of() == BASIC


def test_an_event_whose_processing_failed_is_processed_again_on_retry(world):
    # Given an event whose processing failed (Stripe unreachable): it is not recorded
    world.subscribe()
    service = world.service()
    world.stripe.unreachable = True
    with pytest.raises(ConnectionError):
        service.handle_event(event("invoice.paid"))
    assert world.events.processed == {}
    # When Stripe retries it; Then it is processed
    world.stripe.unreachable = False
    assert service.handle_event(event("invoice.paid")) is EventOutcome.PROCESSED
    assert world.plan_of() == BASIC


def test_out_of_order_events_end_in_stripes_current_state(world):
    """``updated`` (a plan change) arrives before ``created``: both read Stripe now, so the later-delivered
    ``created`` cannot put the original plan back."""
    world.subscribe(plan_id=PROFESSIONAL)  # Stripe now: already changed to PROFESSIONAL
    service = world.service()
    service.handle_event(event("customer.subscription.updated", event_id="evt_2"))
    world.clock.now += 1
    service.handle_event(event("customer.subscription.created", event_id="evt_1"))
    assert world.plan_of() == PROFESSIONAL


def test_a_late_created_event_of_a_deleted_subscription_grants_nothing(world):
    world.subscribe(status="canceled")
    world.service().handle_event(event("customer.subscription.created"))
    assert world.plan_of() is None
    assert world.plan_changes == []


def test_a_deletion_removes_the_plan_and_tells_the_listener(world):
    # Given a user on ADVANCED through Stripe
    world.subscribe(plan_id=ADVANCED)
    service = world.service()
    service.handle_event(event("customer.subscription.created", event_id="evt_1"))
    # When Stripe ends the subscription
    world.stripe.subscriptions["sub_1"] = replace(world.stripe.subscriptions["sub_1"], status="canceled")
    world.clock.now += 1
    service.handle_event(event("customer.subscription.deleted", event_id="evt_2"))
    # Then the plan is gone, and the listener heard of it being granted, then lost
    assert world.plan_of() is None
    assert world.plan_changes == [(USER, None, ADVANCED), (USER, ADVANCED, None)]


def test_the_late_end_of_an_old_subscription_does_not_end_the_new_one(world):
    # Given a user on a new subscription, their old one canceled
    world.subscribe(sub_id="sub_old", plan_id=BASIC, status="canceled")
    world.subscribe(sub_id="sub_new", plan_id=ADVANCED)
    service = world.service()
    service.handle_event(event("customer.subscription.created", "sub_new", "evt_new"))
    # When the old one's deletion arrives late
    world.clock.now += 1
    service.handle_event(event("customer.subscription.deleted", "sub_old", "evt_old"))
    # Then the new plan holds
    assert world.plan_of() == ADVANCED


def test_an_older_fetch_never_overwrites_a_newer_one(world):
    # Given the plan recorded from a fetch at T0 + 10 s
    world.subscribe(plan_id=ADVANCED)
    service = world.service()
    world.clock.now += 10
    service.sync_subscription("sub_1")
    # When a state fetched at T0 is applied; Then it is refused
    stale = replace(world.stripe.subscriptions["sub_1"], plan_id=BASIC)
    assert service.apply_subscription(USER, stale, fetched_at_ms=int(T0 * 1000)) is False
    assert world.plan_of() == ADVANCED


def test_past_due_keeps_the_plan_and_unpaid_ends_it(world):
    # Given a renewal payment failed: past_due
    world.subscribe(plan_id=ADVANCED, status="past_due")
    service = world.service()
    service.handle_event(event("invoice.payment_failed", event_id="evt_1"))
    assert world.plan_of() == ADVANCED
    # When Stripe's retries run out: unpaid
    world.stripe.subscriptions["sub_1"] = replace(world.stripe.subscriptions["sub_1"], status="unpaid")
    world.clock.now += 1
    service.handle_event(event("customer.subscription.updated", event_id="evt_2"))
    assert world.plan_of() is None


def test_the_user_is_found_by_customer_then_by_the_metadata_we_set(world):
    world.stripe.subscriptions["sub_1"] = subscription(customer="cus_unmapped", user_id=OTHER)
    world.service().handle_event(event("customer.subscription.created"))
    assert world.plan_of(OTHER) == BASIC


def test_a_subscription_of_a_customer_that_is_not_ours_is_acknowledged_and_ignored(world):
    world.stripe.subscriptions["sub_1"] = subscription(customer="cus_foreign")
    assert world.service().handle_event(event("customer.subscription.created")) is EventOutcome.PROCESSED
    assert world.subscriptions.items == {}


def test_a_checkout_without_a_subscription_changes_nothing(world):
    outcome = world.service().handle_event(event("checkout.session.completed", subscription_id=None))
    assert outcome is EventOutcome.PROCESSED
    assert world.stripe.calls == []


def test_a_live_subscription_whose_price_names_no_plan_fails_so_stripe_retries(world):
    world.subscribe(plan_id="not-a-plan")
    with pytest.raises(BillingConfigurationError):
        world.service().handle_event(event("customer.subscription.created"))
    assert world.events.processed == {}
