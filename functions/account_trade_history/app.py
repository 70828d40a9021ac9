"""AccountTradeHistoryExpressJSv1: the caller's manual orders (strategy orders join with the strategy issue)."""

from functools import cache
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import Field

from core.api import caller_id, create_resolver, lambda_entrypoint
from core.api.pagination import PageTokenCodec
from core.config import get_settings
from core.repositories.trade_history import ManualOrderRepository
from core.schemas.exchange import IsoDate
from core.schemas.trading import ManualHistory, ManualHistoryItem

app = create_resolver()
history = ManualOrderRepository()


@cache
def page_tokens() -> PageTokenCodec:
    return PageTokenCodec(get_settings().pagination_secret)


@app.get(
    "/v1/priv/account/trade/manual/history",
    summary="List manual trading history",
    tags=["Account Trade History"],
)
def list_manual_history(
    start: Annotated[IsoDate | None, Query()] = None,
    limit: Annotated[int, Field(ge=1, le=1000), Query()] = 30,
    nextToken: Annotated[str | None, Query()] = None,
) -> ManualHistory:
    user = caller_id(app)
    scope = f"{user}:manual-history:{start}"
    page = history.history(user, start, limit, page_tokens().decode(nextToken, scope))
    return ManualHistory(
        items=[ManualHistoryItem.of(record) for record in page.records],
        nextToken=page_tokens().encode(page.next_start_key, scope),
    )


lambda_handler = lambda_entrypoint(app)
