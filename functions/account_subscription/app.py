"""AccountSubscriptionExpressJSv1: the caller's plan, and buying, changing and paying for it through Stripe."""

from core import wiring
from core.api import caller_id, create_resolver, lambda_entrypoint
from core.api.openapi_docs import answers
from core.errors import InvalidSubscriptionType, StripeSubscriptionAlreadyExists, StripeSubscriptionMissing
from core.schemas.subscription import (
    CheckoutOut,
    CheckoutRequest,
    InvoiceOut,
    StripeSubscriptionOut,
    StripeSubscriptionUpdate,
    UserSubscriptionOut,
)

app = create_resolver()
TAGS = ["Account Subscription"]
STRIPE_TAGS = ["Account Subscription Stripe"]


def caller_email() -> str | None:
    authorizer = app.current_event.request_context.authorizer
    email = ((authorizer.get("claims") if authorizer else None) or {}).get("email")
    return email if isinstance(email, str) and email else None


@app.get(
    "/v1/priv/account/subscription",
    summary="Get user subscription",
    description="The caller's plan and how it is paid; `null` without one.",
    tags=TAGS,
)
def get_subscription() -> UserSubscriptionOut | None:
    # The plan record that Stripe's webhooks keep (the same one the plan limits read): no call to Stripe.
    current = wiring.subscription_service().current_plan(caller_id(app))
    return UserSubscriptionOut.of(current) if current else None


@app.get(
    "/v1/priv/account/subscription/stripe",
    summary="Get Stripe subscription",
    description="The caller's first active Stripe subscription (amounts in cents); `null` without one.",
    tags=STRIPE_TAGS,
    responses=answers(503),
)
def get_stripe_subscription() -> StripeSubscriptionOut | None:
    subscription = wiring.billing_service().current_subscription(caller_id(app))
    return StripeSubscriptionOut.of(subscription) if subscription else None


@app.post(
    "/v1/priv/account/subscription/stripe/checkout",
    summary="Create Stripe subscription checkout",
    description="A Stripe Checkout Session for the plan: send the user to `url`.",
    tags=STRIPE_TAGS,
    responses=answers(503, refusals=[InvalidSubscriptionType, StripeSubscriptionAlreadyExists]),
)
def create_checkout(body: CheckoutRequest) -> CheckoutOut:
    checkout = wiring.billing_service().start_checkout(caller_id(app), caller_email(), body.subscriptionId)
    return CheckoutOut.of(checkout)


@app.put(
    "/v1/priv/account/subscription/stripe",
    summary="Update Stripe subscription",
    description="Cancel at the period's end (or undo it) and/or change the plan.",
    tags=STRIPE_TAGS,
    responses=answers(503, refusals=[InvalidSubscriptionType, StripeSubscriptionMissing]),
)
def update_stripe_subscription(body: StripeSubscriptionUpdate) -> StripeSubscriptionOut:
    request_id = app.current_event.request_context.request_id
    updated = wiring.billing_service().change_subscription(caller_id(app), body.change(), request_id)
    return StripeSubscriptionOut.of(updated)


@app.get(
    "/v1/priv/account/subscription/stripe/billing/history",
    summary="List Stripe billing history",
    description="The caller's paid invoices, newest first.",
    tags=STRIPE_TAGS,
    responses=answers(503),
)
def list_billing_history() -> list[InvoiceOut]:
    return [InvoiceOut.of(invoice) for invoice in wiring.billing_service().billing_history(caller_id(app))]


lambda_handler = lambda_entrypoint(app)
