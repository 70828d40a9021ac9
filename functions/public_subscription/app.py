"""PublicSubscriptionExpressJSv1: the plans anyone can buy."""

from core import wiring
from core.api import create_resolver, lambda_entrypoint
from core.schemas.catalog import PlanList, PlanOut

app = create_resolver()


@app.get(
    "/v1/pub/subscription/list",
    summary="List subscription plans",
    description="The public subscription plans (private plans are not listed).",
    tags=["Public"],
)
def list_subscription_plans() -> PlanList:
    return PlanList(items=[PlanOut.of(plan) for plan in wiring.catalog_service().public_plans()])


lambda_handler = lambda_entrypoint(app)
