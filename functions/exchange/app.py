"""ExchangeExpressJSv1: a key's orders, trades and position, manual futures orders, leverage and margin."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from core.api import caller_id, create_resolver, lambda_entrypoint
from core.api.fields import Uuid
from core.api.idempotency import idempotency_key, run_once
from core.api.openapi_docs import answers
from core.errors import (
    ExchangeAuthorizationFailed,
    ExchangeBadRequest,
    ExchangeKeyInactive,
    ExchangeKeyTypeInvalid,
    ExchangeKeyTypeUnsupported,
    InvalidExchangeSymbol,
)
from core.observability import metrics
from core.schemas.exchange import Symbol
from core.schemas.orders import OrderOut, PositionOut, TradeOut
from core.schemas.trading import LeverageBody, ManualOrderBody, MarginBody, SymbolBody
from core.wiring import trading_service

app = create_resolver()
KeyId = Annotated[
    Uuid, Path(description="API_KEY_ID: the exchange key", json_schema_extra={"format": "uuid"})
]
RequiredSymbol = Annotated[Symbol, Query(description="Exchange symbol, e.g. BTC/USDT")]
ORDERS = ["Exchange Order"]
EXECUTE = ["Exchange Order Execute"]
# What the exchange may answer through any key, and the key rules of core.services.trading.
EXCHANGE_REFUSALS = [ExchangeAuthorizationFailed, InvalidExchangeSymbol, ExchangeBadRequest]
KEY_RULES = [ExchangeKeyTypeInvalid, ExchangeKeyInactive]
READ = answers(503, refusals=[*EXCHANGE_REFUSALS, ExchangeKeyTypeInvalid])
TRADE = [*EXCHANGE_REFUSALS, *KEY_RULES]


@app.get("/v1/priv/exchange/order/<API_KEY_ID>/list", summary="List open orders", tags=ORDERS, responses=READ)
def list_open_orders(API_KEY_ID: KeyId, symbol: RequiredSymbol) -> list[OrderOut]:
    return [OrderOut.of(order) for order in trading_service().open_orders(caller_id(app), API_KEY_ID, symbol)]


@app.get(
    "/v1/priv/exchange/order/<API_KEY_ID>/history", summary="List order history", tags=ORDERS, responses=READ
)
def list_order_history(API_KEY_ID: KeyId, symbol: RequiredSymbol) -> list[OrderOut]:
    return [
        OrderOut.of(order) for order in trading_service().order_history(caller_id(app), API_KEY_ID, symbol)
    ]


@app.get(
    "/v1/priv/exchange/trade/<API_KEY_ID>/history", summary="List trade history", tags=ORDERS, responses=READ
)
def list_trade_history(API_KEY_ID: KeyId, symbol: RequiredSymbol) -> list[TradeOut]:
    return [TradeOut.of(fill) for fill in trading_service().trades(caller_id(app), API_KEY_ID, symbol)]


@app.get(
    "/v1/priv/exchange/position/<API_KEY_ID>",
    summary="Get futures open position",
    tags=ORDERS,
    responses=READ,
)
def get_position(API_KEY_ID: KeyId, symbol: RequiredSymbol) -> PositionOut | None:
    position = trading_service().position(caller_id(app), API_KEY_ID, symbol)
    return PositionOut.of(position) if position is not None else None


@app.post(
    "/v1/priv/exchange/order/<API_KEY_ID>",
    summary="Create manual order",
    description="Places the entry, its take-profit ladder and its stop loss as one trade. Send an "
    "`Idempotency-Key` to make a retry safe.",
    tags=EXECUTE,
    responses=answers(
        409,
        503,
        ok_description="The orders placed: the entry, then the take profits and the stop",
        refusals=[*TRADE, ExchangeKeyTypeUnsupported],
    ),
    openapi_extensions={"x-idempotent": True},
)
def create_manual_order(API_KEY_ID: KeyId, body: ManualOrderBody) -> list[OrderOut]:
    user = caller_id(app)
    key = idempotency_key(app)

    def place() -> list[dict[str, Any]]:  # JSON-ready: the idempotency record stores the answer
        placed = trading_service().place_manual_order(user, API_KEY_ID, body.to_request(), key)
        return [OrderOut.of(order).model_dump() for order in placed.orders]

    orders = run_once(
        app, scope=f"manual-order:{user}:{API_KEY_ID}", key=key, body=body.model_dump(), action=place
    )
    return orders  # type: ignore[return-value]  # dicts of OrderOut, which Powertools validates as declared


@app.delete(
    "/v1/priv/exchange/position/<API_KEY_ID>",
    summary="Cancel futures position",
    tags=EXECUTE,
    responses=answers(503, ok=204, ok_description="Done", refusals=TRADE),
)
def cancel_position(
    API_KEY_ID: KeyId, body: SymbolBody
):  # a bare Response annotation has no schema for Powertools
    trading_service().cancel_position(caller_id(app), API_KEY_ID, body.symbol)
    return Response(status_code=204)


@app.put(
    "/v1/priv/exchange/order/<API_KEY_ID>/leverage",
    summary="Change futures leverage",
    tags=EXECUTE,
    responses=answers(503, ok=204, ok_description="Done", refusals=TRADE),
)
def change_leverage(
    API_KEY_ID: KeyId, body: LeverageBody
):  # a bare Response annotation has no schema for Powertools
    trading_service().set_leverage(caller_id(app), API_KEY_ID, body.symbol, body.leverage)
    return Response(status_code=204)


@app.put(
    "/v1/priv/exchange/order/<API_KEY_ID>/margin",
    summary="Change futures margin type",
    tags=EXECUTE,
    responses=answers(503, ok=204, ok_description="Done", refusals=TRADE),
)
def change_margin_type(
    API_KEY_ID: KeyId, body: MarginBody
):  # a bare Response annotation has no schema for Powertools
    trading_service().set_margin_mode(caller_id(app), API_KEY_ID, body.symbol, body.type)
    return Response(status_code=204)


lambda_handler = metrics.log_metrics(lambda_entrypoint(app))
