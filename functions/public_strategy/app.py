"""PublicStrategyExpressJSv1: risk profiles, automated strategies and each strategy's public track record."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import Field

from core import wiring
from core.api import create_resolver, lambda_entrypoint
from core.api.fields import Uuid
from core.api.pagination import PageToken
from core.models.strategy_track import Interval
from core.schemas.catalog import RiskProfileList, RiskProfileOut, StrategyList, StrategyOut
from core.schemas.strategy_performance import (
    HistoryItemOut,
    HistoryOut,
    PerformanceOut,
    StrategyTradeOut,
    StrategyTradesOut,
)

app = create_resolver()
StrategyId = Annotated[
    Uuid, Path(description="STRATEGY_ID: the automated strategy", json_schema_extra={"format": "uuid"})
]
IntervalQuery = Annotated[
    Interval, Query(description="Range interval: 1d (UTC days) or 1M (calendar months)")
]
Limit = Annotated[int, Field(ge=1, le=1000), Query(description="How many periods, newest first (max 1000)")]


@app.get(
    "/v1/pub/strategy/profile/list",
    summary="List strategy risk profiles",
    description="How much of the equity a follower risks per trade, by profile.",
    tags=["Public"],
)
def list_risk_profiles() -> RiskProfileList:
    profiles = wiring.catalog_service().risk_profiles()
    return RiskProfileList(items=[RiskProfileOut.of(profile) for profile in profiles])


@app.get(
    "/v1/pub/strategy/list",
    summary="List automated strategies",
    description="The automated strategies a key can follow.",
    tags=["Public"],
)
def list_strategies() -> StrategyList:
    return StrategyList(
        items=[StrategyOut.of(strategy) for strategy in wiring.catalog_service().strategies()]
    )


@app.get(
    "/v1/pub/strategy/<STRATEGY_ID>/history",
    summary="List strategy history",
    description="The strategy's track record by period, newest first; periods without trades have nulls "
    "and zero counts.",
    tags=["Public"],
)
def strategy_history(
    STRATEGY_ID: StrategyId, interval: IntervalQuery = Interval.DAY, limit: Limit = 30
) -> HistoryOut:
    periods = wiring.strategy_performance_service().history(STRATEGY_ID, interval, limit)
    return HistoryOut(items=[HistoryItemOut.of(period) for period in periods])


@app.get(
    "/v1/pub/strategy/<STRATEGY_ID>/performance",
    summary="Get strategy performance",
    description="The totals of the strategy history's range.",
    tags=["Public"],
)
def strategy_performance(
    STRATEGY_ID: StrategyId, interval: IntervalQuery = Interval.DAY, limit: Limit = 30
) -> PerformanceOut:
    return PerformanceOut.of(wiring.strategy_performance_service().performance(STRATEGY_ID, interval, limit))


@app.get(
    "/v1/pub/strategy/<STRATEGY_ID>/trades",
    summary="List the strategy's closed trades",
    description="The strategy's own trades, newest first: entry, exits and return.",
    tags=["Public"],
)
def strategy_trades(
    STRATEGY_ID: StrategyId,
    limit: Annotated[int, Field(ge=1, le=1000), Query(description="Page size (max 1000)")] = 30,
    nextToken: Annotated[PageToken | None, Query(description="The previous page's nextToken")] = None,
) -> StrategyTradesOut:
    scope = f"strategy-trades:{STRATEGY_ID}"
    tokens = wiring.page_tokens()
    page = wiring.strategy_performance_service().trades(STRATEGY_ID, limit, tokens.decode(nextToken, scope))
    return StrategyTradesOut(
        items=[StrategyTradeOut.of(trade) for trade in page.trades],
        nextToken=tokens.encode(page.next_start_key, scope),
    )


lambda_handler = lambda_entrypoint(app)
