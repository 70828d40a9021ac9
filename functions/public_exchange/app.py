"""PublicExchangeExpressJSv1: the exchange's price ticker."""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query

from core import wiring
from core.api import create_resolver, lambda_entrypoint
from core.api.openapi_docs import answers
from core.errors import InvalidExchangeSymbol
from core.models.exchange import TradeType
from core.schemas.exchange import Symbol, TickerOut

app = create_resolver()


@app.get(
    "/v1/pub/exchange/ticker",
    summary="Get exchange ticker",
    description="The exchange symbol's price ticker.",
    tags=["Public"],
    responses=answers(503, refusals=[InvalidExchangeSymbol]),
)
def get_ticker(
    exchangeId: Annotated[Literal["BINANCE"], Query(description="Filter by EXCHANGE_ID")] = "BINANCE",
    symbol: Annotated[Symbol, Query(description="Filter by exchange symbol, e.g. BTC/USDT")] = "BTC/USDT",
    type: Annotated[
        Literal["SPOT", "FUTURES"], Query(description="Filter by exchange trade type")
    ] = "FUTURES",
) -> TickerOut:
    return TickerOut.of(wiring.market_service().ticker(symbol, TradeType(type)))


lambda_handler = lambda_entrypoint(app)
