"""Subscriptions over HTTP on the local stack: a new user buys a plan through Stripe Checkout (the Stripe
simulator, its webhooks delivered to the API's webhook route), changes it, cancels it, reads invoices, and
is held to the plan's limits."""

from __future__ import annotations

from tests.support import ADVANCED, BASIC, ISO, KEYS_PATH, PRIVATE, exchange_key_body

SUBSCRIPTION = "/v1/priv/account/subscription"
STRIPE = "/v1/priv/account/subscription/stripe"


def new_key(stack, token: str, name: str):
    account = stack.post("/_local/exchange/accounts", json={"balances": {"USDT": 100}}).json()
    return stack.post(KEYS_PATH, token, json=exchange_key_body(account, name=name))


def test_a_new_user_buys_changes_and_cancels_a_plan_and_is_held_to_its_limits(stack):
    # Given a new user: no plan, no Stripe subscription, no invoice, no key slot
    token, _ = stack.token("stripe-story@example.com")
    assert stack.get(SUBSCRIPTION, token).json() is None
    assert stack.get(STRIPE, token).json() is None
    assert stack.get(f"{STRIPE}/billing/history", token).json() == []
    assert new_key(stack, token, "none").json() == {"error": "exceed subscription max API key limit (2129a)"}

    # When they buy BASIC (a Checkout Session, paid on the simulator); Then its webhooks make the plan
    checkout = stack.post(f"{STRIPE}/checkout", token, json={"subscriptionId": BASIC})
    assert checkout.status_code == 200, checkout.text
    session = checkout.json()
    assert set(session) == {"url", "successUrl", "cancelUrl", "sessionId"}
    assert stack.get(SUBSCRIPTION, token).json() is None  # not paid yet
    assert stack.post(f"/_local/stripe/checkout/{session['sessionId']}/complete").status_code == 204
    assert stack.get(SUBSCRIPTION, token).json() == {
        "paymentType": "STRIPE",
        "SubscriptionType": {
            "id": BASIC,
            "name": "BASIC",
            "maxBalanceUSD": 2500,
            "maxApiKey": 2,
            "strategyAutomated": True,
        },
    }
    bought = stack.get(STRIPE, token)
    assert bought.headers["Cache-Control"] == "no-store"
    assert bought.json()["plan"] == {
        "amount": 2000,
        "currency": "usd",
        "interval": "month",
        "trialPeriodDays": None,
    }
    assert bought.json()["cancelAtPeriodEnd"] is False
    assert ISO.match(bought.json()["currentPeriodEnd"])
    again = stack.post(f"{STRIPE}/checkout", token, json={"subscriptionId": ADVANCED})
    assert (again.status_code, again.json()) == (
        433,
        {"error": "active stripe subscription already exist (3109)"},
    )

    # Then BASIC allows two keys
    assert new_key(stack, token, "one").status_code == 200
    assert new_key(stack, token, "two").status_code == 200
    third = new_key(stack, token, "three")
    assert (third.status_code, third.json()) == (
        433,
        {"error": "exceed subscription max API key limit (2129a)"},
    )

    # When they upgrade to ADVANCED (three keys), prorated; Then a third key fits, a fourth does not
    changed = stack.put(STRIPE, token, json={"subscriptionId": ADVANCED})
    assert changed.status_code == 200, changed.text
    assert changed.json()["plan"]["amount"] == 4000
    assert stack.get(SUBSCRIPTION, token).json()["SubscriptionType"]["name"] == "ADVANCED"
    assert new_key(stack, token, "three").status_code == 200
    assert new_key(stack, token, "four").status_code == 433

    # When they cancel at the end of the period; Then the plan holds until then
    canceled = stack.put(STRIPE, token, json={"cancelAtPeriodEnd": True})
    assert canceled.status_code == 200
    assert canceled.json()["cancelAtPeriodEnd"] is True
    assert canceled.json()["cancelAt"] == canceled.json()["currentPeriodEnd"]
    assert stack.get(STRIPE, token).json() == canceled.json()
    assert stack.get(SUBSCRIPTION, token).json()["SubscriptionType"]["id"] == ADVANCED

    # And one invoice is paid so far: the first month of BASIC
    history = stack.get(f"{STRIPE}/billing/history", token).json()
    assert len(history) == 1
    (invoice,) = history
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
    assert invoice["periodStart"] == bought.json()["currentPeriodStart"]
    assert invoice["periodEnd"] == bought.json()["currentPeriodEnd"]
    assert all(ISO.match(invoice[key]) for key in ("periodStart", "periodEnd", "createdAt"))


def test_errors_of_the_subscription_routes(stack):
    token, _ = stack.token("stripe-errors@example.com")
    put = stack.put(STRIPE, token, json={"cancelAtPeriodEnd": True})
    assert (put.status_code, put.json()) == (
        433,
        {"error": "active stripe subscription does not exist (3104)"},
    )
    private = stack.post(f"{STRIPE}/checkout", token, json={"subscriptionId": PRIVATE})
    assert (private.status_code, private.json()) == (433, {"error": "invalid subscription type (2100)"})
    unknown = stack.post(
        f"{STRIPE}/checkout", token, json={"subscriptionId": "eefffe05-5d1d-4be8-a300-20c7c39c9fee"}
    )
    assert (unknown.status_code, unknown.json()) == (
        422,
        {
            "errors": [
                {
                    "value": "eefffe05-5d1d-4be8-a300-20c7c39c9fee",
                    "msg": "must be valid subscription id",
                    "param": "subscriptionId",
                    "location": "body",
                }
            ]
        },
    )
    assert stack.post(f"{STRIPE}/checkout", json={"subscriptionId": BASIC}).status_code == 401
    unsigned = stack.post("/v1/pub/subscription/stripe/webhook", data='{"id": "evt_1"}')
    assert (unsigned.status_code, unsigned.json()) == (400, {"message": "invalid Stripe signature"})


def test_the_token_route_gives_plans_as_a_checkout_would(stack):
    token, _ = stack.token("stripe-token@example.com", plan="ADVANCED")
    assert stack.get(SUBSCRIPTION, token).json()["SubscriptionType"]["id"] == ADVANCED
    assert stack.get(STRIPE, token).json()["plan"]["amount"] == 4000
    assert len(stack.get(f"{STRIPE}/billing/history", token).json()) == 1
    # Again with another plan: the Stripe subscription is replaced, not doubled.
    token, _ = stack.token("stripe-token@example.com", plan="BASIC")
    assert stack.get(STRIPE, token).json()["plan"]["amount"] == 2000
    assert stack.get(SUBSCRIPTION, token).json()["SubscriptionType"]["id"] == BASIC
    # A private plan has no Stripe price: assigned directly, no Stripe subscription behind it.
    token, _ = stack.token("stripe-token@example.com", plan=PRIVATE)
    assert stack.get(SUBSCRIPTION, token).json()["SubscriptionType"] == {
        "id": PRIVATE,
        "name": "BASIC",
        "maxBalanceUSD": 2500,
        "maxApiKey": 3,
        "strategyAutomated": True,
    }
    assert stack.get(STRIPE, token).json() is None
