"""AccountSubscriptionExpressJSv1: the caller's plan, and buying, changing and paying for it through Stripe."""

from adapters.billing import StripeBilling
from core.api import caller_id, create_resolver, lambda_entrypoint
from core.config import get_settings
from core.repositories.catalog import CatalogRepository
from core.repositories.stripe_customers import StripeCustomerRepository
from core.repositories.stripe_events import StripeEventRepository
from core.repositories.subscription import SubscriptionRepository
from core.schemas.subscription import (
    CheckoutOut,
    CheckoutRequest,
    InvoiceOut,
    StripeSubscriptionOut,
    StripeSubscriptionUpdate,
    UserSubscriptionOut,
)
from core.services.billing import BillingService
from core.services.subscription import current_plan

app = create_resolver()
catalog = CatalogRepository()
subscriptions = SubscriptionRepository()
TAGS = ["Account Subscription"]


def billing() -> BillingService:
    settings = get_settings()
    return BillingService(
        gateway=StripeBilling(),
        customers=StripeCustomerRepository(),
        subscriptions=subscriptions,
        catalog=catalog,
        events=StripeEventRepository(),
        success_url=settings.checkout_success_url,
        cancel_url=settings.checkout_cancel_url,
    )


def caller_email() -> str | None:
    authorizer = app.current_event.request_context.authorizer
    email = ((authorizer.get("claims") if authorizer else None) or {}).get("email")
    return email if isinstance(email, str) and email else None


@app.get("/v1/priv/account/subscription", summary="Get user subscription", tags=TAGS)
def get_subscription() -> UserSubscriptionOut | None:
    # The plan record that Stripe's webhooks keep (the same one the plan limits read): no call to Stripe.
    current = current_plan(subscriptions, catalog, caller_id(app))
    return UserSubscriptionOut.of(current) if current else None


@app.get("/v1/priv/account/subscription/stripe", summary="Get Stripe subscription", tags=TAGS)
def get_stripe_subscription() -> StripeSubscriptionOut | None:
    subscription = billing().current_subscription(caller_id(app))
    return StripeSubscriptionOut.of(subscription) if subscription else None


@app.post(
    "/v1/priv/account/subscription/stripe/checkout", summary="Create Stripe subscription checkout", tags=TAGS
)
def create_checkout(body: CheckoutRequest) -> CheckoutOut:
    return CheckoutOut.of(billing().start_checkout(caller_id(app), caller_email(), body.subscriptionId))


@app.put("/v1/priv/account/subscription/stripe", summary="Update Stripe subscription", tags=TAGS)
def update_stripe_subscription(body: StripeSubscriptionUpdate) -> StripeSubscriptionOut:
    request_id = app.current_event.request_context.request_id
    updated = billing().change_subscription(caller_id(app), body.change(), request_id)
    return StripeSubscriptionOut.of(updated)


@app.get(
    "/v1/priv/account/subscription/stripe/billing/history", summary="List Stripe billing history", tags=TAGS
)
def list_billing_history() -> list[InvoiceOut]:
    return [InvoiceOut.of(invoice) for invoice in billing().billing_history(caller_id(app))]


lambda_handler = lambda_entrypoint(app)
