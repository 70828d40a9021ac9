"""ExchangeExpressJSv1: a key's orders, trades and position, manual futures orders, leverage and margin."""

from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from adapters.exchange.binance import BinanceConnector
from core.api import caller_id, create_resolver, lambda_entrypoint
from core.api.fields import Uuid
from core.api.idempotency import idempotency_key, register_idempotency_errors, run_once
from core.repositories.exchange_keys import ExchangeKeyRepository
from core.repositories.trade_history import ManualOrderRepository
from core.schemas.exchange import Symbol
from core.schemas.trading import (
    LeverageBody,
    ManualOrderBody,
    MarginBody,
    SymbolBody,
    order_out,
    position_out,
    trade_out,
)
from core.secret_cipher import KmsSecretCipher
from core.services.manual_orders import ManualOrderService
from core.services.trading import TradingService

app = create_resolver()
register_idempotency_errors(app)
KeyId = Annotated[Uuid, Path()]
RequiredSymbol = Annotated[Symbol, Query()]
NO_CONTENT = {204: {"description": "Done"}}
ORDERS = ["Exchange Order"]
EXECUTE = ["Exchange Order Execute"]


@cache
def trading() -> TradingService:
    return TradingService(
        keys=ExchangeKeyRepository(),
        connector=BinanceConnector(),
        cipher=KmsSecretCipher(),
        manual_orders=ManualOrderService(ManualOrderRepository()),
    )


@app.get("/v1/priv/exchange/order/<API_KEY_ID>/list", summary="List open orders", tags=ORDERS)
def list_open_orders(API_KEY_ID: KeyId, symbol: RequiredSymbol) -> list[dict[str, Any]]:
    return [order_out(order) for order in trading().open_orders(caller_id(app), API_KEY_ID, symbol)]


@app.get("/v1/priv/exchange/order/<API_KEY_ID>/history", summary="List order history", tags=ORDERS)
def list_order_history(API_KEY_ID: KeyId, symbol: RequiredSymbol) -> list[dict[str, Any]]:
    return [order_out(order) for order in trading().order_history(caller_id(app), API_KEY_ID, symbol)]


@app.get("/v1/priv/exchange/trade/<API_KEY_ID>/history", summary="List trade history", tags=ORDERS)
def list_trade_history(API_KEY_ID: KeyId, symbol: RequiredSymbol) -> list[dict[str, Any]]:
    return [trade_out(trade) for trade in trading().trades(caller_id(app), API_KEY_ID, symbol)]


@app.get("/v1/priv/exchange/position/<API_KEY_ID>", summary="Get futures open position", tags=ORDERS)
def get_position(API_KEY_ID: KeyId, symbol: RequiredSymbol) -> dict[str, Any] | None:
    return position_out(trading().position(caller_id(app), API_KEY_ID, symbol))


@app.post("/v1/priv/exchange/order/<API_KEY_ID>", summary="Create manual order", tags=EXECUTE)
def create_manual_order(API_KEY_ID: KeyId, body: ManualOrderBody) -> list[dict[str, Any]]:
    user = caller_id(app)
    key = idempotency_key(app)
    placed = run_once(
        app,
        scope=f"manual-order:{user}:{API_KEY_ID}",
        key=key,
        body=body.model_dump(),
        action=lambda: [
            order_out(o) for o in trading().place_manual_order(user, API_KEY_ID, body.to_request(), key)
        ],
    )
    return placed


@app.delete(
    "/v1/priv/exchange/position/<API_KEY_ID>",
    summary="Cancel futures position",
    tags=EXECUTE,
    responses=NO_CONTENT,
)
def cancel_position(
    API_KEY_ID: KeyId, body: SymbolBody
):  # a bare Response annotation has no schema for Powertools
    trading().cancel_position(caller_id(app), API_KEY_ID, body.symbol)
    return Response(status_code=204)


@app.put(
    "/v1/priv/exchange/order/<API_KEY_ID>/leverage",
    summary="Change futures leverage",
    tags=EXECUTE,
    responses=NO_CONTENT,
)
def change_leverage(
    API_KEY_ID: KeyId, body: LeverageBody
):  # a bare Response annotation has no schema for Powertools
    trading().set_leverage(caller_id(app), API_KEY_ID, body.symbol, body.leverage)
    return Response(status_code=204)


@app.put(
    "/v1/priv/exchange/order/<API_KEY_ID>/margin",
    summary="Change futures margin type",
    tags=EXECUTE,
    responses=NO_CONTENT,
)
def change_margin_type(
    API_KEY_ID: KeyId, body: MarginBody
):  # a bare Response annotation has no schema for Powertools
    trading().set_margin_mode(caller_id(app), API_KEY_ID, body.symbol, body.type)
    return Response(status_code=204)


lambda_handler = lambda_entrypoint(app)
