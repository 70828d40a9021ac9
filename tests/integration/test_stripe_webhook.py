"""POST /v1/pub/subscription/stripe/webhook: signatures, events seen once, retries, out-of-order delivery.

Deliveries come from the Stripe simulator (signed as Stripe signs them) or are signed here.
"""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from typing import Any

import pytest

from local.stripe_sim import sign_payload
from tests.support import (
    ADVANCED,
    BASIC,
    PROFESSIONAL,
    STRIPE_WEBHOOK_SECRET,
    USER_A,
    WEBHOOK_PATH,
    Billing,
    call,
    plan_name,
    table_items,
)


@contextmanager
def webhooks_held(billing: Billing):
    """Stripe records the events but cannot reach the endpoint (they can be delivered later)."""
    url = billing.sim.webhook_url
    billing.sim.webhook_url = None
    try:
        yield
    finally:
        billing.sim.webhook_url = url


def event_of(billing: Billing, event_type: str, object_id: str) -> dict[str, Any]:
    return next(
        event
        for event in reversed(billing.sim.events)
        if event["type"] == event_type and event["data"]["object"]["id"] == object_id
    )


def post(payload: str, signature: str | None) -> tuple[int, Any]:
    headers = {"Stripe-Signature": signature} if signature is not None else {}
    status, body, _ = call("POST", WEBHOOK_PATH, raw_body=payload, headers=headers)
    return status, body


def event_items() -> list[dict[str, Any]]:
    return [item for item in table_items() if item["PK"]["S"].startswith("STRIPE_EVENT#")]


# ---------------------------------------------------------------- signatures
@pytest.fixture
def signed_event(billing) -> str:
    """A real event body (a subscription created for USER_A) that was never delivered."""
    with webhooks_held(billing):
        subscription = billing.subscribe(USER_A, BASIC)
    return json.dumps(event_of(billing, "customer.subscription.created", subscription["id"]), indent=2)


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("garbage", id="malformed"),
        pytest.param("t=1,v1=abc", id="wrong-digest"),
        pytest.param("wrong-secret", id="wrong-secret"),
        pytest.param("stale", id="older-than-5-minutes"),
        pytest.param("tampered", id="body-changed-after-signing"),
    ],
)
def test_a_delivery_that_does_not_verify_is_a_400_and_writes_nothing(billing, signed_event, signature):
    # Given a real event, signed wrongly in one way or another
    before = table_items()
    payload = signed_event
    if signature == "wrong-secret":
        signature = sign_payload(payload, "whsec_someone_else")
    elif signature == "stale":
        signature = sign_payload(payload, STRIPE_WEBHOOK_SECRET, timestamp=int(time.time()) - 301)
    elif signature == "tampered":
        signature = sign_payload(payload, STRIPE_WEBHOOK_SECRET)
        payload = payload.replace(USER_A, "0b1c5e7a-3333-4a5b-9c2d-000000000003")
    # When it is delivered; Then it is refused and nothing is written
    status, body = post(payload, signature)
    assert (status, body) == (400, {"message": "invalid Stripe signature"})
    assert table_items() == before
    assert plan_name(USER_A) is None


def test_a_verified_delivery_is_a_200_and_recorded_with_a_ttl(billing, signed_event):
    # When a correctly signed event is delivered
    status, body = post(signed_event, sign_payload(signed_event, STRIPE_WEBHOOK_SECRET))
    # Then it takes effect and is remembered for 30 days
    assert (status, body) == (200, {"received": True})
    assert plan_name(USER_A) == "BASIC"
    (record,) = event_items()
    assert record["PK"]["S"] == f"STRIPE_EVENT#{json.loads(signed_event)['id']}"
    expires = int(record["expiresAt"]["N"])
    assert 29 * 86_400 < expires - time.time() <= 30 * 86_400


def test_a_signature_just_inside_the_tolerance_is_accepted(billing, signed_event):
    signature = sign_payload(signed_event, STRIPE_WEBHOOK_SECRET, timestamp=int(time.time()) - 290)
    assert post(signed_event, signature)[0] == 200


# ---------------------------------------------------------------- each event once
def test_a_duplicate_delivery_is_a_200_with_no_effect(billing):
    # Given a processed creation, then a cancellation Stripe has not delivered yet
    subscription = billing.subscribe(USER_A, BASIC)
    created = event_of(billing, "customer.subscription.created", subscription["id"])
    with webhooks_held(billing):
        billing.client.v1.subscriptions.cancel(subscription["id"])
    records = event_items()

    # When Stripe delivers the processed creation again; Then it is acknowledged and changes nothing
    delivery = billing.sim.resend(created["id"])
    assert delivery is not None
    assert delivery.status == 200
    assert plan_name(USER_A) == "BASIC"  # not processed again (else it would read: canceled)
    assert event_items() == records

    # When the cancellation arrives; Then it is processed
    billing.sim.resend(event_of(billing, "customer.subscription.deleted", subscription["id"])["id"])
    assert plan_name(USER_A) is None


def test_a_failed_delivery_is_processed_again_when_stripe_retries(billing, monkeypatch):
    from core.config import get_settings

    # Given deliveries that failed because the webhook could not read Stripe back
    session = billing.checkout(USER_A, BASIC)
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:9")
    get_settings.cache_clear()
    billing.sim.complete_checkout(session["sessionId"])
    assert billing.statuses() == [503, 503, 503]
    assert event_items() == []
    assert plan_name(USER_A) is None

    # When Stripe is reachable again and retries them; Then each is processed
    monkeypatch.setenv("STRIPE_API_BASE", billing.running.url)
    get_settings.cache_clear()
    for event_id, _, _ in list(billing.answers):
        assert billing.sim.resend(event_id).status == 200
    assert plan_name(USER_A) == "BASIC"
    assert len(event_items()) == 3


def test_unknown_event_types_are_acknowledged_and_ignored(billing):
    # When Stripe delivers events we do not handle; Then each is a 200 and nothing is written
    before = table_items()
    billing.sim.deliver("customer.created", {"id": "cus_x", "object": "customer", "metadata": {}})
    billing.sim.deliver("product.updated", {"id": "prod_x", "object": "product"})
    assert billing.statuses() == [200, 200]
    assert table_items() == before


def test_an_event_about_a_subscription_stripe_does_not_know_fails_and_is_not_recorded(billing):
    # When an event names a subscription Stripe cannot return; Then it is a 500 (so Stripe retries), unrecorded
    billing.sim.deliver(
        "customer.subscription.updated",
        {"id": "sub_missing", "object": "subscription", "customer": "cus_missing", "metadata": {}},
    )
    assert billing.statuses() == [500]
    assert event_items() == []


# ---------------------------------------------------------------- out of order
def test_updated_delivered_before_created_ends_in_stripes_current_state(billing):
    # Given a subscription created on BASIC and changed to PROFESSIONAL, none of it delivered yet
    with webhooks_held(billing):
        subscription = billing.subscribe(USER_A, BASIC)
        item = subscription["items"]["data"][0]["id"]
        billing.client.v1.subscriptions.update(
            subscription["id"], params={"items": [{"id": item, "price": billing.price_of(PROFESSIONAL)}]}
        )
    events = [event for event in billing.sim.events if event["type"] != "invoice.paid"]
    updated = event_of(billing, "customer.subscription.updated", subscription["id"])
    assert updated["data"]["object"]["items"]["data"][0]["price"]["lookup_key"] == PROFESSIONAL

    # When Stripe delivers the update first, then the rest, the creation last
    for event in [updated, *[e for e in events if e is not updated][::-1]]:
        assert billing.sim.resend(event["id"]).status == 200
    assert billing.answers[-1][1] == "checkout.session.completed"
    # Then the plan is what Stripe says now (PROFESSIONAL), not the creation's payload (BASIC)
    assert plan_name(USER_A) == "PROFESSIONAL"


def test_the_late_deletion_of_an_old_subscription_does_not_end_the_new_one(billing):
    # Given an old subscription canceled (its deletion not delivered yet), and a new one
    old = billing.subscribe(USER_A, BASIC)
    with webhooks_held(billing):
        billing.client.v1.subscriptions.cancel(old["id"])
    billing.subscribe(USER_A, ADVANCED)
    assert plan_name(USER_A) == "ADVANCED"
    # When the old deletion arrives late; Then the new plan holds
    billing.sim.resend(event_of(billing, "customer.subscription.deleted", old["id"])["id"])
    assert billing.answers[-1][2] == 200
    assert plan_name(USER_A) == "ADVANCED"
