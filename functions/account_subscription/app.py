"""AccountSubscriptionExpressJSv1: the caller's plan (Stripe checkout and billing join this function later)."""

from core.api import caller_id, create_resolver, lambda_entrypoint
from core.repositories.catalog import CatalogRepository
from core.repositories.subscription import SubscriptionRepository
from core.schemas.subscription import UserSubscriptionOut
from core.services.subscription import current_plan

app = create_resolver()
catalog = CatalogRepository()
subscriptions = SubscriptionRepository()


@app.get("/v1/priv/account/subscription", summary="Get user subscription", tags=["Account Subscription"])
def get_subscription() -> UserSubscriptionOut | None:
    current = current_plan(subscriptions, catalog, caller_id(app))
    return UserSubscriptionOut.of(current) if current else None


lambda_handler = lambda_entrypoint(app)
