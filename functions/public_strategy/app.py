"""PublicStrategyExpressJSv1: risk profiles and automated strategies."""

from core import wiring
from core.api import create_resolver, lambda_entrypoint
from core.schemas.catalog import RiskProfileList, RiskProfileOut, StrategyList, StrategyOut

app = create_resolver()


@app.get("/v1/pub/strategy/profile/list", summary="List strategy risk profiles", tags=["Public"])
def list_risk_profiles() -> RiskProfileList:
    profiles = wiring.catalog_service().risk_profiles()
    return RiskProfileList(items=[RiskProfileOut.of(profile) for profile in profiles])


@app.get("/v1/pub/strategy/list", summary="List automated strategies", tags=["Public"])
def list_strategies() -> StrategyList:
    return StrategyList(
        items=[StrategyOut.of(strategy) for strategy in wiring.catalog_service().strategies()]
    )


lambda_handler = lambda_entrypoint(app)
