"""The Stripe subscription routes in-process against moto, with real stripe-python calls going over HTTP to
the Stripe simulator, whose webhooks reach the webhook function (in-process too) through a tiny receiver
(the ``billing`` fixture of ``conftest.py``).
"""

from __future__ import annotations

import re

import pytest

from core.config import get_settings
from core.repositories.catalog import CatalogRepository
from core.repositories.exchange_keys import ExchangeKeyRepository
from core.repositories.subscription import SubscriptionRepository
from core.services.plan_limits import PlanLimits
from tests.support import (
    ADVANCED,
    BASIC,
    ISO,
    PRIVATE,
    PROFESSIONAL,
    USER_A,
    USER_B,
    call,
    claims_of,
    plan_name,
    table_items,
    user_items,
)

STRIPE_KEYS = {
    "cancelAtPeriodEnd",
    "cancelAt",
    "currentPeriodStart",
    "currentPeriodEnd",
    "trialStart",
    "trialEnd",
    "plan",
}


# ---------------------------------------------------------------- checkout
def test_checkout_then_payment_makes_the_plan_visible_in_both_gets(billing):
    # When USER_A checks out BASIC
    checkout = billing.checkout(USER_A, BASIC)
    # Then Stripe holds an open session and a customer, both naming the user
    assert set(checkout) == {"url", "successUrl", "cancelUrl", "sessionId"}
    assert checkout["url"].startswith(billing.running.url)
    assert checkout["successUrl"] == checkout["cancelUrl"] == "https://example.com/account/subscription"
    session = billing.sim.get(checkout["sessionId"])
    assert (session["mode"], session["client_reference_id"]) == ("subscription", USER_A)
    assert session["metadata"] == {"userId": USER_A, "planId": BASIC}
    customer = billing.sim.get(session["customer"])
    assert customer["metadata"] == {"userId": USER_A}
    assert customer["email"] == claims_of(USER_A)["email"]
    # Nothing is bought until Stripe says so.
    assert call("GET", "/v1/priv/account/subscription", user=USER_A)[1] is None

    # When the customer pays; Then the three events are accepted and both GETs show the plan
    subscription = billing.sim.complete_checkout(checkout["sessionId"])
    assert subscription["metadata"] == {"userId": USER_A, "planId": BASIC}
    assert [event_type for _, event_type, _ in billing.answers] == [
        "checkout.session.completed",
        "customer.subscription.created",
        "invoice.paid",
    ]
    assert billing.statuses() == [200, 200, 200]

    status, body, headers = call("GET", "/v1/priv/account/subscription", user=USER_A)
    assert (status, headers["Cache-Control"]) == (200, ["no-store"])
    assert body == {
        "paymentType": "STRIPE",
        "SubscriptionType": {
            "id": BASIC,
            "name": "BASIC",
            "maxBalanceUSD": 2500,
            "maxApiKey": 2,
            "strategyAutomated": True,
        },
    }
    status, stripe_view, _ = call("GET", "/v1/priv/account/subscription/stripe", user=USER_A)
    assert status == 200
    assert set(stripe_view) == STRIPE_KEYS
    item = subscription["items"]["data"][0]
    assert stripe_view == {
        "cancelAtPeriodEnd": False,
        "cancelAt": None,
        "currentPeriodStart": stripe_view["currentPeriodStart"],
        "currentPeriodEnd": stripe_view["currentPeriodEnd"],
        "trialStart": None,
        "trialEnd": None,
        "plan": {"amount": 2000, "currency": "usd", "interval": "month", "trialPeriodDays": None},
    }
    assert ISO.match(stripe_view["currentPeriodStart"])
    assert ISO.match(stripe_view["currentPeriodEnd"])
    from core.services.billing import iso_of

    assert stripe_view["currentPeriodStart"] == iso_of(item["current_period_start"])
    assert stripe_view["currentPeriodEnd"] == iso_of(item["current_period_end"])
    # Another user sees none of it.
    assert call("GET", "/v1/priv/account/subscription/stripe", user=USER_B)[1] is None
    assert call("GET", "/v1/priv/account/subscription", user=USER_B)[1] is None


def test_one_customer_per_user_remembered_both_ways(billing):
    # When a user checks out twice (the first was abandoned)
    first = billing.checkout(USER_A, BASIC)
    second = billing.checkout(USER_A, ADVANCED)
    # Then both sessions share one customer, remembered by user and by customer
    customer = billing.sim.get(first["sessionId"])["customer"]
    assert billing.sim.get(second["sessionId"])["customer"] == customer
    assert len(billing.client.v1.customers.list().data) == 1
    assert user_items(USER_A)["STRIPE_CUSTOMER"]["customer_id"]["S"] == customer
    mapping = [item for item in table_items() if item["PK"]["S"] == f"STRIPE_CUSTOMER#{customer}"]
    assert [item["user_id"]["S"] for item in mapping] == [USER_A]


def test_a_retried_checkout_request_gets_the_same_session(billing):
    assert billing.checkout(USER_A, BASIC)["sessionId"] == billing.checkout(USER_A, BASIC)["sessionId"]


def test_a_second_checkout_while_subscribed_is_3109(billing):
    # Given USER_A is subscribed
    billing.subscribe(USER_A, BASIC)
    status, body, _ = call(
        "POST",
        "/v1/priv/account/subscription/stripe/checkout",
        user=USER_A,
        body={"subscriptionId": ADVANCED},
    )
    assert (status, body) == (433, {"error": "active stripe subscription already exist (3109)"})


@pytest.mark.parametrize(
    ("value", "msg"),
    [
        ("eefffe05-5d1d-4be8-a300-20c7c39c9fee", "must be valid subscription id"),  # the reference's example
        ("not-a-plan", "must be valid subscription id"),
        ("{eefffe05-5d1d-4be8-a300-20c7c39c9fef}", "must be valid subscription id"),
        (42, "must be a string"),
    ],
)
def test_checkout_of_an_invalid_subscription_id_is_a_422(billing, value, msg):
    status, body, _ = call(
        "POST", "/v1/priv/account/subscription/stripe/checkout", user=USER_A, body={"subscriptionId": value}
    )
    assert (status, body) == (
        422,
        {"errors": [{"value": value, "msg": msg, "param": "subscriptionId", "location": "body"}]},
    )


def test_checkout_without_a_subscription_id_is_a_422(billing):
    status, body, _ = call("POST", "/v1/priv/account/subscription/stripe/checkout", user=USER_A, body={})
    assert status == 422
    assert body["errors"] == [
        {"value": None, "msg": "is required", "param": "subscriptionId", "location": "body"}
    ]


def test_checkout_of_the_private_plan_is_2100(billing):
    status, body, _ = call(
        "POST", "/v1/priv/account/subscription/stripe/checkout", user=USER_A, body={"subscriptionId": PRIVATE}
    )
    assert (status, body) == (433, {"error": "invalid subscription type (2100)"})
    assert billing.client.v1.customers.list().data == []


# ---------------------------------------------------------------- changes
def test_a_change_without_a_subscription_is_3104(billing):
    for body in ({"cancelAtPeriodEnd": True}, {"subscriptionId": ADVANCED}, {}):
        status, answer, _ = call("PUT", "/v1/priv/account/subscription/stripe", user=USER_A, body=body)
        assert (status, answer) == (433, {"error": "active stripe subscription does not exist (3104)"})


def test_a_change_to_an_invalid_or_private_plan_is_refused(billing):
    # Given a BASIC subscription; When it is changed to an invalid id, an unknown plan, the private plan
    # or an invalid cancelAtPeriodEnd; Then each is refused
    billing.subscribe(USER_A, BASIC)
    status, body, _ = call(
        "PUT", "/v1/priv/account/subscription/stripe", user=USER_A, body={"subscriptionId": "nope"}
    )
    assert (status, body["errors"][0]["msg"]) == (422, "must be valid subscription id")
    status, body, _ = call(
        "PUT",
        "/v1/priv/account/subscription/stripe",
        user=USER_A,
        body={"subscriptionId": "eefffe05-5d1d-4be8-a300-20c7c39c9fee"},
    )
    assert (status, body["errors"][0]["param"]) == (422, "subscriptionId")
    status, body, _ = call(
        "PUT", "/v1/priv/account/subscription/stripe", user=USER_A, body={"subscriptionId": PRIVATE}
    )
    assert (status, body) == (433, {"error": "invalid subscription type (2100)"})
    status, body, _ = call(
        "PUT", "/v1/priv/account/subscription/stripe", user=USER_A, body={"cancelAtPeriodEnd": "yes"}
    )
    assert (status, body["errors"][0]["param"]) == (422, "cancelAtPeriodEnd")


def test_cancel_at_period_end_then_the_period_ends(billing):
    # Given a subscription; When its cancellation at period end is asked for
    subscription = billing.subscribe(USER_A, BASIC)
    status, body, _ = call(
        "PUT", "/v1/priv/account/subscription/stripe", user=USER_A, body={"cancelAtPeriodEnd": True}
    )
    assert status == 200
    assert set(body) == STRIPE_KEYS
    assert body["cancelAtPeriodEnd"] is True
    assert body["cancelAt"] == body["currentPeriodEnd"]
    assert call("GET", "/v1/priv/account/subscription/stripe", user=USER_A)[1] == body
    assert billing.sim.get(subscription["id"])["cancel_at_period_end"] is True
    # Until the period ends, the plan holds.
    assert plan_name(USER_A) == "BASIC"

    # When the period ends: Stripe deletes the subscription; Then the plan is gone
    billing.sim.renew(subscription["id"])
    assert billing.answers[-1][1:] == ("customer.subscription.deleted", 200)
    assert call("GET", "/v1/priv/account/subscription", user=USER_A)[1] is None
    assert call("GET", "/v1/priv/account/subscription/stripe", user=USER_A)[1] is None
    # And a new plan can be bought again.
    assert billing.checkout(USER_A, ADVANCED)["url"]


def test_a_cancellation_can_be_undone_and_asked_for_again(billing):
    # Given a subscription scheduled to cancel
    billing.subscribe(USER_A, BASIC)
    call("PUT", "/v1/priv/account/subscription/stripe", user=USER_A, body={"cancelAtPeriodEnd": True})
    # When the cancellation is undone, then asked for again; Then each request takes effect
    status, body, _ = call(
        "PUT", "/v1/priv/account/subscription/stripe", user=USER_A, body={"cancelAtPeriodEnd": False}
    )
    assert (status, body["cancelAtPeriodEnd"], body["cancelAt"]) == (200, False, None)
    status, body, _ = call(
        "PUT", "/v1/priv/account/subscription/stripe", user=USER_A, body={"cancelAtPeriodEnd": True}
    )
    assert (status, body["cancelAtPeriodEnd"]) == (200, True)  # not a stale replay of the first request


def test_a_plan_change_swaps_the_price_with_proration(billing):
    # Given a BASIC subscription; When it changes to PROFESSIONAL
    subscription = billing.subscribe(USER_A, BASIC)
    status, body, _ = call(
        "PUT", "/v1/priv/account/subscription/stripe", user=USER_A, body={"subscriptionId": PROFESSIONAL}
    )
    assert status == 200
    assert body["plan"] == {"amount": 6000, "currency": "usd", "interval": "month", "trialPeriodDays": None}
    assert body["cancelAtPeriodEnd"] is False
    items = billing.sim.get(subscription["id"])["items"]["data"]
    assert [item["price"]["lookup_key"] for item in items] == [PROFESSIONAL]
    assert items[0]["id"] == subscription["items"]["data"][0]["id"]  # the same item, its price swapped
    assert plan_name(USER_A) == "PROFESSIONAL"
    assert billing.answers[-1][1:] == ("customer.subscription.updated", 200)

    # When the period renews; Then the proration lands on that invoice
    billing.sim.renew(subscription["id"])
    status, history, _ = call("GET", "/v1/priv/account/subscription/stripe/billing/history", user=USER_A)
    assert status == 200
    assert history[0]["amountPaid"] >= 6000
    assert len(history) == 2


def test_a_plan_change_together_with_cancel_at_period_end(billing):
    # Given an ADVANCED subscription; When it changes to BASIC and cancels at period end in one request
    billing.subscribe(USER_A, ADVANCED)
    status, body, _ = call(
        "PUT",
        "/v1/priv/account/subscription/stripe",
        user=USER_A,
        body={"subscriptionId": BASIC, "cancelAtPeriodEnd": True},
    )
    # Then both apply
    assert (status, body["plan"]["amount"], body["cancelAtPeriodEnd"]) == (200, 2000, True)
    assert plan_name(USER_A) == "BASIC"


# ---------------------------------------------------------------- billing history
def test_billing_history_lists_paid_invoices_newest_first(billing):
    assert call("GET", "/v1/priv/account/subscription/stripe/billing/history", user=USER_A)[:2] == (200, [])
    # Given a paid checkout, a paid renewal and a renewal whose payment failed
    subscription = billing.subscribe(USER_A, BASIC)
    billing.sim.renew(subscription["id"])
    billing.sim.fail_next_payment(subscription["id"])
    billing.sim.renew(subscription["id"])
    # When the history is read; Then it lists the two paid invoices, newest first
    status, history, headers = call(
        "GET", "/v1/priv/account/subscription/stripe/billing/history", user=USER_A
    )
    assert (status, headers["Cache-Control"]) == (200, ["no-store"])
    assert len(history) == 2
    for invoice in history:
        assert set(invoice) == {
            "number",
            "currency",
            "amountPaid",
            "periodStart",
            "periodEnd",
            "hostedUrl",
            "pdf",
            "createdAt",
        }
        assert (invoice["currency"], invoice["amountPaid"]) == ("usd", 2000)
        assert re.fullmatch(r"[0-9A-F]{8}-\d{4}", invoice["number"])
        assert all(ISO.match(invoice[key]) for key in ("periodStart", "periodEnd", "createdAt"))
        assert invoice["hostedUrl"].startswith(billing.running.url)
        assert invoice["pdf"].endswith("/pdf")
    newest, first = history
    assert newest["number"] > first["number"]
    # Each invoice names the month it pays for (its lines' period), one after the other.
    assert first["periodStart"] == first["createdAt"]
    assert first["periodEnd"] == newest["periodStart"] < newest["periodEnd"]
    assert call("GET", "/v1/priv/account/subscription/stripe/billing/history", user=USER_B)[1] == []


# ---------------------------------------------------------------- plan limits follow Stripe
def test_the_end_of_the_subscription_removes_the_plan_and_its_limits(billing):
    # Given a BASIC subscription: two key slots
    subscription = billing.subscribe(USER_A, BASIC)
    limits = PlanLimits(SubscriptionRepository(), CatalogRepository())
    keys = ExchangeKeyRepository()
    assert limits.for_user(USER_A).require_key_slot(keys.count(USER_A)) == 2

    # When it is canceled in Stripe (e.g. from its dashboard); Then no plan and no key slot remain
    billing.client.v1.subscriptions.cancel(subscription["id"])
    assert billing.answers[-1][1:] == ("customer.subscription.deleted", 200)
    assert call("GET", "/v1/priv/account/subscription", user=USER_A)[1] is None
    from core.errors import ApiKeyLimitExceeded

    with pytest.raises(ApiKeyLimitExceeded):
        limits.for_user(USER_A).require_key_slot(keys.count(USER_A))


def test_past_due_keeps_the_plan_until_stripe_ends_the_subscription(billing):
    # Given a renewal whose payment failed: past_due keeps the plan
    subscription = billing.subscribe(USER_A, ADVANCED)
    billing.sim.renew(subscription["id"], paid=False)
    assert billing.sim.get(subscription["id"])["status"] == "past_due"
    assert plan_name(USER_A) == "ADVANCED"
    assert call("GET", "/v1/priv/account/subscription/stripe", user=USER_A)[1] is not None
    # When Stripe gives up after its retries; Then the plan ends
    billing.client.v1.subscriptions.cancel(subscription["id"])
    assert plan_name(USER_A) is None


# ---------------------------------------------------------------- Stripe unreachable or refusing
def test_stripe_unreachable_is_a_503_and_a_refusal_a_500_without_secrets(billing, monkeypatch):
    # Given a subscribed user; When Stripe is unreachable (nothing listens on port 9)
    billing.subscribe(USER_A, BASIC)
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:9")
    get_settings.cache_clear()
    status, body, _ = call("GET", "/v1/priv/account/subscription/stripe", user=USER_A)
    assert (status, body) == (503, {"message": "payment provider temporarily unavailable"})

    # When Stripe refuses our key
    monkeypatch.setenv("STRIPE_API_BASE", billing.running.url)
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_wrong_key_0123456789")
    get_settings.cache_clear()
    status, body, _ = call("GET", "/v1/priv/account/subscription/stripe", user=USER_A)
    assert (status, body) == (500, {"message": "Internal server error"})
    # The plan record is not Stripe: it still answers.
    assert plan_name(USER_A) == "BASIC"
