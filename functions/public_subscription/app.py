"""PublicSubscriptionExpressJSv1: the plans anyone can buy."""

from core.api import create_resolver, lambda_entrypoint
from core.repositories.catalog import CatalogRepository
from core.schemas.catalog import PlanList, PlanOut
from core.services.catalog import public_plans

app = create_resolver()
catalog = CatalogRepository()


@app.get("/v1/pub/subscription/list", summary="List subscription plans", tags=["Public"])
def list_subscription_plans() -> PlanList:
    return PlanList(items=[PlanOut.of(plan) for plan in public_plans(catalog)])


lambda_handler = lambda_entrypoint(app)
