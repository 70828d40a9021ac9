"""AccountTradeHistoryExpressJSv1: the orders placed for the caller by followed strategies, and by hand."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import Field

from core import wiring
from core.api import caller_id, create_resolver, lambda_entrypoint
from core.api.pagination import PageToken
from core.schemas.exchange import IsoDate
from core.schemas.follows import StrategyHistory, StrategyHistoryItem
from core.schemas.trading import ManualHistory, ManualHistoryItem
from core.schemas.types import IntegerInput

app = create_resolver()


@app.get(
    "/v1/priv/account/trade/strategy/history",
    summary="List strategy automated history",
    description="The orders followed strategies placed for the caller, newest first.",
    tags=["Account Trade History"],
)
def list_strategy_history(
    start: Annotated[IsoDate | None, Query(description="The newest date to list, YYYY-MM-DD")] = None,
    limit: Annotated[IntegerInput, Field(ge=1, le=1000), Query(description="Page size (max 1000)")] = 30,
    nextToken: Annotated[PageToken | None, Query(description="The previous page's nextToken")] = None,
) -> StrategyHistory:
    user = caller_id(app)
    scope = f"{user}:strategy-history:{start}"
    tokens = wiring.page_tokens()
    page = wiring.strategy_history_service().history(user, start, limit, tokens.decode(nextToken, scope))
    return StrategyHistory(
        items=[StrategyHistoryItem.of(trade) for trade in page.trades],
        nextToken=tokens.encode(page.next_start_key, scope),
    )


@app.get(
    "/v1/priv/account/trade/manual/history",
    summary="List manual trading history",
    description="The caller's manual orders, newest first.",
    tags=["Account Trade History"],
)
def list_manual_history(
    start: Annotated[IsoDate | None, Query(description="The newest date to list, YYYY-MM-DD")] = None,
    limit: Annotated[int, Field(ge=1, le=1000), Query(description="Page size (max 1000)")] = 30,
    nextToken: Annotated[str | None, Query(description="The previous page's nextToken")] = None,
) -> ManualHistory:
    user = caller_id(app)
    scope = f"{user}:manual-history:{start}"
    tokens = wiring.page_tokens()
    page = wiring.trade_history_service().manual_history(user, start, limit, tokens.decode(nextToken, scope))
    return ManualHistory(
        items=[ManualHistoryItem.of(record) for record in page.records],
        nextToken=tokens.encode(page.next_start_key, scope),
    )


lambda_handler = lambda_entrypoint(app)
