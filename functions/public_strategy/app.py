"""PublicStrategyExpressJSv1: risk profiles and automated strategies."""

from core.api import create_resolver, lambda_entrypoint
from core.repositories.catalog import CatalogRepository
from core.schemas.catalog import RiskProfileList, RiskProfileOut, StrategyList, StrategyOut
from core.services.catalog import risk_profiles, strategies

app = create_resolver()
catalog = CatalogRepository()


@app.get("/v1/pub/strategy/profile/list", summary="List strategy risk profiles", tags=["Public"])
def list_risk_profiles() -> RiskProfileList:
    return RiskProfileList(items=[RiskProfileOut.of(profile) for profile in risk_profiles(catalog)])


@app.get("/v1/pub/strategy/list", summary="List automated strategies", tags=["Public"])
def list_strategies() -> StrategyList:
    return StrategyList(items=[StrategyOut.of(strategy) for strategy in strategies(catalog)])


lambda_handler = lambda_entrypoint(app)
