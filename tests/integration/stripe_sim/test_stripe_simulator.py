"""The Stripe simulator driven through the real stripe-python client over HTTP.

Everything a test asserts about Stripe objects is read back through stripe-python, so the tests
also prove that the SDK's request encoding and response parsing work against the simulator.
"""

from __future__ import annotations

import http.client
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
import stripe
from stripe._api_version import _ApiVersion

from local.stripe_sim import (
    API_VERSION,
    CheckoutStateError,
    ResourceMissing,
    RunningSimulator,
    StripeSimulator,
    start_simulator,
)

if TYPE_CHECKING:
    from tests.integration.stripe_sim.conftest import WebhookReceiver

CHECKOUT_EVENTS = ["checkout.session.completed", "customer.subscription.created", "invoice.paid"]


def _subscribe(
    client: stripe.StripeClient, sim: StripeSimulator, price_id: str, email: str = "trader@example.com"
) -> tuple[stripe.Customer, stripe.Subscription]:
    customer = client.v1.customers.create(params={"email": email, "metadata": {"user_id": "u-1"}})
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "line_items": [{"price": price_id, "quantity": 1}],
            "success_url": "http://127.0.0.1:3000/billing/success?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": "http://127.0.0.1:3000/billing/cancel",
            "client_reference_id": "u-1",
            "metadata": {"user_id": "u-1"},
            "subscription_data": {"metadata": {"user_id": "u-1", "plan": "pro"}},
        }
    )
    created = sim.complete_checkout(session.id)
    return customer, client.v1.subscriptions.retrieve(created["id"])


def test_api_version_is_the_one_stripe_python_pins() -> None:
    # If stripe-python is upgraded this fails: re-check the object shapes against the new version.
    assert API_VERSION == _ApiVersion.CURRENT


def test_customer_create_retrieve_and_list_by_email(stripe_client: stripe.StripeClient) -> None:
    created = stripe_client.v1.customers.create(
        params={"email": "ada@example.com", "name": "Ada", "metadata": {"user_id": "u-42"}}
    )
    assert created.id.startswith("cus_")
    assert re.fullmatch(r"[0-9A-F]{8}", created.invoice_prefix or "")

    fetched = stripe_client.v1.customers.retrieve(created.id)
    assert (fetched.email, fetched.name, fetched.metadata["user_id"]) == ("ada@example.com", "Ada", "u-42")

    stripe_client.v1.customers.create(params={"email": "other@example.com"})
    listed = stripe_client.v1.customers.list(params={"email": "ada@example.com"})
    assert [customer.id for customer in listed.data] == [created.id]


def test_seeded_price_is_listed_by_lookup_key(
    stripe_client: stripe.StripeClient, sim: StripeSimulator
) -> None:
    price_id = sim.seed_plan("Pro", 20, lookup_key="pro_monthly", metadata={"tier": "pro"})
    sim.seed_plan("Basic", 9.99, lookup_key="basic_monthly")

    prices = stripe_client.v1.prices.list(
        params={"lookup_keys": ["pro_monthly"], "active": True, "expand": ["data.product"]}
    )
    assert [price.id for price in prices.data] == [price_id]
    price = prices.data[0]
    assert (price.unit_amount, price.currency, price.type) == (2000, "usd", "recurring")
    assert price.recurring is not None
    assert (price.recurring.interval, price.recurring.interval_count) == ("month", 1)
    assert isinstance(price.product, stripe.Product)
    assert price.product.name == "Pro"
    assert stripe_client.v1.prices.retrieve(price_id).metadata["tier"] == "pro"


def test_checkout_session_url_carries_the_session_id(
    stripe_client: stripe.StripeClient, sim: StripeSimulator, stripe_sim: RunningSimulator
) -> None:
    price_id = sim.seed_plan("Pro", 20, lookup_key="pro_monthly")
    customer = stripe_client.v1.customers.create(params={"email": "a@example.com"})
    session = stripe_client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "line_items": [{"price": price_id, "quantity": 1}],
            "success_url": "http://127.0.0.1:3000/ok",
            "cancel_url": "http://127.0.0.1:3000/cancel",
            "client_reference_id": "u-1",
        }
    )
    assert session.id.startswith("cs_test_")
    assert session.url == f"{stripe_sim.url}/checkout/pay/{session.id}"
    assert (session.status, session.payment_status, session.subscription) == ("open", "unpaid", None)
    assert session.amount_total == 2000
    again = stripe_client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["line_items"]})
    assert again.client_reference_id == "u-1"
    assert again.line_items is not None
    assert again.line_items.data[0].price is not None
    assert again.line_items.data[0].price.id == price_id


def test_completed_checkout_creates_an_active_subscription_and_a_paid_invoice(
    stripe_client: stripe.StripeClient, sim: StripeSimulator
) -> None:
    price_id = sim.seed_plan("Pro", 20, lookup_key="pro_monthly")
    customer, _ = _subscribe(stripe_client, sim, price_id)

    subscriptions = stripe_client.v1.subscriptions.list(params={"customer": customer.id, "status": "active"})
    assert len(subscriptions.data) == 1
    subscription = subscriptions.data[0]
    assert subscription.status == "active"
    assert subscription.customer == customer.id
    assert subscription.metadata["plan"] == "pro"
    assert (subscription.cancel_at, subscription.cancel_at_period_end) == (None, False)
    assert (subscription.trial_start, subscription.trial_end) == (None, None)
    # Since 2025-03-31.basil billing periods live on the items only.
    assert "current_period_end" not in subscription
    item = subscription["items"].data[0]
    assert item.current_period_end > item.current_period_start
    assert (item.price.id, item.price.unit_amount, item.price.currency) == (price_id, 2000, "usd")
    assert item.price.recurring is not None
    assert item.price.recurring.interval == "month"
    assert (item.plan.amount, item.plan.currency, item.plan.interval) == (2000, "usd", "month")
    assert item.plan.trial_period_days is None

    invoices = stripe_client.v1.invoices.list(params={"customer": customer.id, "status": "paid"})
    assert len(invoices.data) == 1
    invoice = invoices.data[0]
    assert invoice.id == subscription.latest_invoice
    assert re.fullmatch(rf"{customer.invoice_prefix}-0001", invoice.number or "")
    assert (invoice.amount_paid, invoice.currency, invoice.status) == (2000, "usd", "paid")
    assert invoice.hosted_invoice_url
    assert invoice.invoice_pdf
    assert invoice.parent is not None
    assert invoice.parent.subscription_details is not None
    assert invoice.parent.subscription_details.subscription == subscription.id
    assert invoice.lines.data[0].period.end == item.current_period_end
    by_subscription = stripe_client.v1.invoices.list(params={"subscription": subscription.id})
    assert [inv.id for inv in by_subscription.data] == [invoice.id]

    completed = next(event for event in sim.events if event["type"] == "checkout.session.completed")
    session = stripe_client.v1.checkout.sessions.retrieve(completed["data"]["object"]["id"])
    assert (session.status, session.payment_status, session.subscription) == (
        "complete",
        "paid",
        subscription.id,
    )

    expanded = stripe_client.v1.subscriptions.retrieve(
        subscription.id, params={"expand": ["latest_invoice", "customer", "no.such.path"]}
    )
    assert isinstance(expanded.latest_invoice, stripe.Invoice)
    assert expanded.latest_invoice.amount_paid == 2000
    assert isinstance(expanded.customer, stripe.Customer)


def test_checkout_events_are_delivered_in_order_with_valid_signatures(
    stripe_client: stripe.StripeClient, sim: StripeSimulator, webhook_receiver: WebhookReceiver
) -> None:
    price_id = sim.seed_plan("Pro", 20, lookup_key="pro_monthly")
    customer, subscription = _subscribe(stripe_client, sim, price_id)

    assert webhook_receiver.rejected == []
    assert webhook_receiver.types == CHECKOUT_EVENTS
    completed, created, paid = webhook_receiver.events
    assert completed.data.object["client_reference_id"] == "u-1"
    assert completed.data.object["subscription"] == subscription.id
    assert created.data.object["id"] == subscription.id
    assert paid.data.object["parent"]["subscription_details"]["subscription"] == subscription.id
    assert paid.data.object["customer"] == customer.id
    assert all(event.api_version == API_VERSION for event in webhook_receiver.events)
    assert [d.status for d in sim.deliveries] == [200, 200, 200]
    # The same events are retrievable through the Events API.
    assert stripe_client.v1.events.retrieve(completed.id).type == "checkout.session.completed"
    assert stripe_client.v1.events.retrieve(paid.id).type == "invoice.paid"


def test_tampered_webhook_body_fails_verification(
    stripe_client: stripe.StripeClient, sim: StripeSimulator, webhook_receiver: WebhookReceiver
) -> None:
    price_id = sim.seed_plan("Pro", 20)
    _subscribe(stripe_client, sim, price_id)
    original = webhook_receiver.received[-1]
    secret = webhook_receiver.secret
    stripe.Webhook.construct_event(original.raw_body, original.signature, secret)

    tampered = original.raw_body.replace(b'"amount_paid": 2000', b'"amount_paid": 1')
    assert tampered != original.raw_body
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(tampered, original.signature, secret)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(original.raw_body, original.signature, "whsec_wrong")


def test_idempotency_key_replay_returns_the_first_response(stripe_client: stripe.StripeClient) -> None:
    first = stripe_client.v1.customers.create(
        params={"email": "once@example.com"}, options={"idempotency_key": "create-once"}
    )
    replay = stripe_client.v1.customers.create(
        params={"email": "once@example.com"}, options={"idempotency_key": "create-once"}
    )
    assert replay.id == first.id
    assert replay.last_response is not None
    assert replay.last_response.headers.get("Idempotent-Replayed") == "true"
    assert len(stripe_client.v1.customers.list(params={"email": "once@example.com"}).data) == 1

    with pytest.raises(stripe.IdempotencyError):
        stripe_client.v1.customers.create(
            params={"email": "different@example.com"}, options={"idempotency_key": "create-once"}
        )


def test_cancel_at_period_end_sets_cancel_at_and_emits_updated(
    stripe_client: stripe.StripeClient, sim: StripeSimulator, webhook_receiver: WebhookReceiver
) -> None:
    # Given an active subscription
    price_id = sim.seed_plan("Pro", 20)
    _, subscription = _subscribe(stripe_client, sim, price_id)
    period_end = subscription["items"].data[0].current_period_end

    # When it is set to cancel at period end; Then cancel_at is the period end and an update is emitted
    updated = stripe_client.v1.subscriptions.update(subscription.id, params={"cancel_at_period_end": True})
    assert (updated.cancel_at_period_end, updated.cancel_at, updated.status) == (True, period_end, "active")
    assert updated.cancellation_details is not None
    assert updated.cancellation_details.reason == "cancellation_requested"
    event = webhook_receiver.events[-1]
    assert event.type == "customer.subscription.updated"
    assert event.data.object["cancel_at"] == period_end
    assert event.data.previous_attributes is not None
    assert event.data.previous_attributes["cancel_at"] is None
    assert event.data.previous_attributes["cancel_at_period_end"] is False
    assert event.request is not None
    assert event.request.id is not None

    # When that is undone; Then nothing is scheduled any more
    resumed = stripe_client.v1.subscriptions.update(subscription.id, params={"cancel_at_period_end": False})
    assert (resumed.cancel_at_period_end, resumed.cancel_at, resumed.canceled_at) == (False, None, None)

    # Renewing through a scheduled cancellation ends the subscription instead.
    stripe_client.v1.subscriptions.update(subscription.id, params={"cancel_at_period_end": True})
    sim.renew(subscription.id)
    assert stripe_client.v1.subscriptions.retrieve(subscription.id).status == "canceled"
    assert webhook_receiver.types[-1] == "customer.subscription.deleted"


def test_price_swap_replaces_the_item_price_and_prorates_on_the_next_invoice(
    stripe_client: stripe.StripeClient, sim: StripeSimulator, webhook_receiver: WebhookReceiver
) -> None:
    # Given a subscription to Basic ($10)
    basic = sim.seed_plan("Basic", 10, lookup_key="basic_monthly")
    pro = sim.seed_plan("Pro", 20, lookup_key="pro_monthly")
    _, subscription = _subscribe(stripe_client, sim, basic)
    item = subscription["items"].data[0]

    # When its item moves to Pro ($20), prorated
    swapped = stripe_client.v1.subscriptions.update(
        subscription.id,
        params={"items": [{"id": item.id, "price": pro}], "proration_behavior": "create_prorations"},
    )

    # Then the same item carries the new price, and only the update is emitted
    new_item = swapped["items"].data[0]
    assert (new_item.id, new_item.price.id, new_item.plan.amount) == (item.id, pro, 2000)
    assert webhook_receiver.types[-1] == "customer.subscription.updated"
    updated = webhook_receiver.events[-1]
    assert updated.data.previous_attributes is not None
    assert updated.data.previous_attributes["items"]["data"][0]["price"]["id"] == basic
    assert stripe_client.v1.subscriptions.list(params={"price": pro}).data[0].id == subscription.id
    # And the renewal invoice bills the new price plus the difference for the rest of the first period
    sim.renew(subscription.id)
    renewal = stripe_client.v1.invoices.retrieve(str(sim.get(subscription.id)["latest_invoice"]))
    assert renewal.billing_reason == "subscription_cycle"
    assert [line.amount for line in renewal.lines.data][-1] == 2000
    assert 2000 < (renewal.amount_paid or 0) <= 3000


def test_cancel_emits_subscription_deleted(
    stripe_client: stripe.StripeClient, sim: StripeSimulator, webhook_receiver: WebhookReceiver
) -> None:
    price_id = sim.seed_plan("Pro", 20)
    customer, subscription = _subscribe(stripe_client, sim, price_id)

    canceled = stripe_client.v1.subscriptions.cancel(subscription.id)
    assert canceled.status == "canceled"
    assert canceled.ended_at is not None
    assert canceled.canceled_at is not None
    assert webhook_receiver.types[-1] == "customer.subscription.deleted"
    assert webhook_receiver.events[-1].data.object["status"] == "canceled"

    assert stripe_client.v1.subscriptions.list(params={"customer": customer.id}).data == []
    every = stripe_client.v1.subscriptions.list(params={"customer": customer.id, "status": "all"})
    assert [sub.id for sub in every.data] == [subscription.id]
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.subscriptions.cancel(subscription.id)


def test_renewal_success_failure_and_recovery(
    stripe_client: stripe.StripeClient, sim: StripeSimulator, webhook_receiver: WebhookReceiver
) -> None:
    # Given an active subscription
    price_id = sim.seed_plan("Pro", 20)
    customer, subscription = _subscribe(stripe_client, sim, price_id)
    first_end = subscription["items"].data[0].current_period_end

    # When it renews and is paid; Then the next period starts where the first ended
    sim.renew(subscription.id)
    renewed = stripe_client.v1.subscriptions.retrieve(subscription.id)
    assert renewed["items"].data[0].current_period_start == first_end
    assert webhook_receiver.types[-2:] == ["invoice.paid", "customer.subscription.updated"]

    # When the next renewal's payment fails; Then it is past_due with an open invoice
    sim.fail_next_payment(subscription.id)
    sim.renew(subscription.id)
    past_due = stripe_client.v1.subscriptions.retrieve(subscription.id, params={"expand": ["latest_invoice"]})
    assert past_due.status == "past_due"
    assert webhook_receiver.types[-2:] == ["invoice.payment_failed", "customer.subscription.updated"]
    assert isinstance(past_due.latest_invoice, stripe.Invoice)
    assert (past_due.latest_invoice.status, past_due.latest_invoice.amount_paid) == ("open", 0)

    # When the following renewal is paid; Then it is active again, its invoices numbered in sequence
    sim.renew(subscription.id)
    assert stripe_client.v1.subscriptions.retrieve(subscription.id).status == "active"
    numbers = [inv.number for inv in stripe_client.v1.invoices.list(params={"customer": customer.id}).data]
    assert numbers == [f"{customer.invoice_prefix}-000{n}" for n in (4, 3, 2, 1)]


def test_resend_delivers_the_same_event_again(
    stripe_client: stripe.StripeClient, sim: StripeSimulator, webhook_receiver: WebhookReceiver
) -> None:
    price_id = sim.seed_plan("Pro", 20)
    _subscribe(stripe_client, sim, price_id)
    paid_event = next(event for event in sim.events if event["type"] == "invoice.paid")

    delivery = sim.resend(paid_event["id"])
    assert delivery is not None
    assert delivery.status == 200
    assert [event.id for event in webhook_receiver.events].count(paid_event["id"]) == 2

    custom = sim.deliver("customer.subscription.trial_will_end", sim.events[1]["data"]["object"]["id"])
    assert webhook_receiver.events[-1].id == custom["id"]


def test_complete_checkout_rejects_unknown_and_completed_sessions(
    stripe_client: stripe.StripeClient, sim: StripeSimulator
) -> None:
    with pytest.raises(KeyError):
        sim.complete_checkout("cs_test_missing")
    price_id = sim.seed_plan("Pro", 20)
    session = stripe_client.v1.checkout.sessions.create(
        params={"mode": "subscription", "line_items": [{"price": price_id, "quantity": 1}]}
    )
    sim.complete_checkout(session.id)
    with pytest.raises(ValueError, match="complete"):
        sim.complete_checkout(session.id)
    assert issubclass(CheckoutStateError, ValueError)
    assert issubclass(ResourceMissing, KeyError)


def test_hosted_checkout_page_pays_and_redirects(
    stripe_client: stripe.StripeClient, sim: StripeSimulator, stripe_sim: RunningSimulator
) -> None:
    price_id = sim.seed_plan("Pro", 20)
    session = stripe_client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer_email": "browser@example.com",
            "line_items": [{"price": price_id, "quantity": 1}],
            "success_url": "http://127.0.0.1:3000/done?id={CHECKOUT_SESSION_ID}",
        }
    )
    assert session.url is not None
    target = urlsplit(session.url)
    connection = http.client.HTTPConnection(target.hostname or "", target.port, timeout=5)
    try:
        connection.request("GET", target.path)
        page = connection.getresponse()
        assert page.status == 200
        assert b"<form" in page.read()
        connection.request("POST", target.path, body=b"", headers={"Content-Length": "0"})
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    assert response.status == 303
    assert response.getheader("Location") == f"http://127.0.0.1:3000/done?id={session.id}"
    completed = stripe_client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["customer"]})
    assert completed.status == "complete"
    assert isinstance(completed.customer, stripe.Customer)
    assert completed.customer.email == "browser@example.com"


def test_wrong_api_key_raises_authentication_error(stripe_sim: RunningSimulator) -> None:
    client = stripe.StripeClient(
        "sk_test_wrong", base_addresses={"api": stripe_sim.url}, max_network_retries=0
    )
    with pytest.raises(stripe.AuthenticationError) as raised:
        client.v1.customers.list()
    assert raised.value.http_status == 401


def test_unknown_id_raises_invalid_request_error_404(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.subscriptions.retrieve("sub_doesnotexist")
    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"
    assert "sub_doesnotexist" in str(raised.value.user_message)


def test_unknown_parameter_is_rejected_like_stripe(stripe_client: stripe.StripeClient) -> None:
    params: Any = {"email": "x@example.com", "favourite_colour": "blue"}
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.customers.create(params=params)
    assert (raised.value.code, raised.value.param) == ("parameter_unknown", "favourite_colour")


def test_list_pagination_through_auto_paging(stripe_client: stripe.StripeClient) -> None:
    created = [stripe_client.v1.customers.create(params={"email": f"c{n}@example.com"}).id for n in range(12)]
    page = stripe_client.v1.customers.list(params={"limit": 5})
    assert page.has_more
    assert [customer.id for customer in page.auto_paging_iter()] == list(reversed(created))


def test_legacy_global_configuration(
    stripe_sim: RunningSimulator, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stripe, "api_key", api_key)
    monkeypatch.setattr(stripe, "api_base", stripe_sim.url)
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    customer = stripe.Customer.create(email="legacy@example.com")
    assert stripe.Customer.retrieve(customer.id).email == "legacy@example.com"


@pytest.mark.parametrize(
    ("create", "param"),
    [
        pytest.param(
            lambda client, price: client.v1.checkout.sessions.create(
                params={
                    "mode": "subscription",
                    "line_items": [{"price": price, "quantity": 1}],
                    "subscription_data": {"trial_period_days": 7},
                }
            ),
            "subscription_data[trial_period_days]",
            id="trials",
        ),
        pytest.param(
            lambda client, price: client.v1.checkout.sessions.create(
                params={"mode": "payment", "line_items": [{"price": price, "quantity": 1}]}
            ),
            "mode",
            id="payment-mode",
        ),
        pytest.param(
            lambda client, price: client.v1.checkout.sessions.create(
                params={
                    "mode": "subscription",
                    "line_items": [
                        {
                            "price_data": {"currency": "usd", "unit_amount": 100, "product": "prod_x"},
                            "quantity": 1,
                        }
                    ],
                }
            ),
            "line_items[0][price_data]",
            id="inline-prices",
        ),
    ],
)
def test_what_the_simulator_does_not_implement_is_refused_not_ignored(
    stripe_client: stripe.StripeClient, sim: StripeSimulator, create: Any, param: str
) -> None:
    price_id = sim.seed_plan("Pro", 20)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        create(stripe_client, price_id)
    assert raised.value.param == param


def test_cancel_at_a_date_is_refused_not_ignored(
    stripe_client: stripe.StripeClient, sim: StripeSimulator
) -> None:
    _, subscription = _subscribe(stripe_client, sim, sim.seed_plan("Pro", 20))
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.subscriptions.update(subscription.id, params={"cancel_at": 4_102_444_800})
    assert raised.value.param == "cancel_at"


def test_the_receivers_answer_is_recorded_for_each_delivery(
    webhook_receiver: WebhookReceiver,
) -> None:
    # Given a receiver that answers 500 (as a failing endpoint would)
    webhook_receiver.answer_status = 500
    simulator = StripeSimulator(webhook_secret=webhook_receiver.secret, webhook_url=webhook_receiver.url)
    with start_simulator(simulator=simulator) as running:
        client = stripe.StripeClient(
            simulator.api_key, base_addresses={"api": running.url}, max_network_retries=0
        )
        price_id = simulator.seed_plan("Pro", 20)
        session = client.v1.checkout.sessions.create(
            params={"mode": "subscription", "line_items": [{"price": price_id, "quantity": 1}]}
        )
        # When the checkout is paid
        simulator.complete_checkout(session.id)
        # Then every event was delivered once, and each delivery records the failure
        assert [(d.event_type, d.status, d.succeeded) for d in simulator.deliveries] == [
            (event_type, 500, False) for event_type in CHECKOUT_EVENTS
        ]
    assert webhook_receiver.types == CHECKOUT_EVENTS


def test_hosted_invoice_page_and_pdf(stripe_client: stripe.StripeClient, sim: StripeSimulator) -> None:
    price_id = sim.seed_plan("Pro", 20)
    session = stripe_client.v1.checkout.sessions.create(
        params={"mode": "subscription", "line_items": [{"price": price_id, "quantity": 1}]}
    )
    sim.complete_checkout(session.id)
    invoice = stripe_client.v1.invoices.list(params={"status": "paid"}).data[0]
    assert invoice.hosted_invoice_url is not None
    assert invoice.invoice_pdf is not None
    hosted = urlsplit(invoice.hosted_invoice_url)
    connection = http.client.HTTPConnection(hosted.hostname or "", hosted.port, timeout=5)
    try:
        connection.request("GET", hosted.path)
        page = connection.getresponse()
        assert (page.status, page.getheader("Content-Type")) == (200, "text/html; charset=utf-8")
        assert (invoice.number or "").encode() in page.read()
        connection.request("GET", urlsplit(invoice.invoice_pdf).path)
        pdf = connection.getresponse()
        assert (pdf.status, pdf.getheader("Content-Type")) == (200, "application/pdf")
        assert pdf.read().startswith(b"%PDF-")
    finally:
        connection.close()
