"""AccountExchangeExpressJSv1: the caller's exchange keys, their balances and the IPs to whitelist."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import Field

from core import wiring
from core.api import caller_id, create_resolver, lambda_entrypoint
from core.api.fields import Uuid
from core.api.openapi_docs import answers
from core.api.pagination import PageToken
from core.config import get_settings
from core.errors import (
    ApiBalanceLimitExceeded,
    ApiKeyLimitExceeded,
    ExchangeAuthorizationFailed,
    ExchangeBadRequest,
    ExchangeKeyAlreadyExists,
    ExchangeKeyCanWithdraw,
    ExchangeKeyLacksFutures,
)
from core.models.exchange import ExchangeId, StrategyType, TradeType
from core.schemas.exchange import (
    BalanceHistory,
    BalanceHistoryItem,
    BalanceOut,
    ExchangeKeyCreate,
    ExchangeKeyList,
    ExchangeKeyOut,
    ExchangeKeyUpdate,
    IsoDate,
    TotalBalanceOut,
)
from core.schemas.types import IntegerInput
from core.services.exchange_keys import NewExchangeKey

app = create_resolver()
KeyId = Annotated[
    Uuid, Path(description="API_KEY_ID: the exchange key", json_schema_extra={"format": "uuid"})
]
TAGS = ["Account Exchange"]
KEY_TAGS = ["Account Exchange Key"]


@app.get(
    "/v1/priv/account/exchange/whitelist/ip",
    summary="List whitelist IP addresses",
    description="The IP addresses the API calls the exchange from: restrict the exchange API key to them.",
    tags=TAGS,
)
def list_whitelist_ips() -> list[str]:
    return get_settings().egress_ips


@app.get(
    "/v1/priv/account/exchange/balance",
    summary="Get exchange total balance",
    description="The sum of the latest daily balance snapshots of the caller's active keys, in USD "
    "(not real-time data).",
    tags=TAGS,
)
def get_total_balance() -> TotalBalanceOut:
    return TotalBalanceOut(USD=wiring.exchange_key_service().total_balance_usd(caller_id(app)))


@app.get("/v1/priv/account/exchange/key/list", summary="List exchange keys", tags=KEY_TAGS)
def list_keys() -> ExchangeKeyList:
    return ExchangeKeyList(
        items=[ExchangeKeyOut.of(key) for key in wiring.exchange_key_service().list(caller_id(app))]
    )


@app.post(
    "/v1/priv/account/exchange/key",
    summary="Create exchange key",
    description="Checks the key against the exchange (it must trade futures and must not withdraw), "
    "then against the plan's key and balance limits. The secret is stored encrypted and never answered.",
    tags=KEY_TAGS,
    responses=answers(
        503,
        refusals=[
            ExchangeAuthorizationFailed,
            ExchangeKeyAlreadyExists,
            ExchangeKeyCanWithdraw,
            ExchangeKeyLacksFutures,
            ApiKeyLimitExceeded,
            ApiBalanceLimitExceeded,
        ],
    ),
)
def create_key(body: ExchangeKeyCreate) -> ExchangeKeyOut:
    request = NewExchangeKey(
        exchange_id=ExchangeId(body.exchangeId),
        trade_type=TradeType(body.tradeType),
        strategy_type=StrategyType(body.strategyType),
        name=body.name,
        api_key=body.apiKey,
        api_secret=body.apiSecretKey,
        active=body.active,
    )
    return ExchangeKeyOut.of(wiring.exchange_key_service().create(caller_id(app), request))


@app.put("/v1/priv/account/exchange/key/<API_KEY_ID>", summary="Update exchange key", tags=KEY_TAGS)
def update_key(API_KEY_ID: KeyId, body: ExchangeKeyUpdate) -> ExchangeKeyOut:
    return ExchangeKeyOut.of(wiring.exchange_key_service().rename(caller_id(app), API_KEY_ID, body.name))


@app.delete(
    "/v1/priv/account/exchange/key/<API_KEY_ID>",
    summary="Delete exchange key",
    description="Deletes the key with its encrypted secret; its strategy follows stop.",
    tags=KEY_TAGS,
    responses=answers(ok=204, ok_description="Deleted, with its encrypted secret"),
)
def delete_key(API_KEY_ID: KeyId):  # a bare Response annotation has no schema for Powertools to build
    wiring.exchange_key_service().delete(caller_id(app), API_KEY_ID)
    return Response(status_code=204)


@app.get(
    "/v1/priv/account/exchange/key/<API_KEY_ID>/balance",
    summary="Get exchange key balance",
    description="Every asset's live balance on the exchange: free, used (in orders) and total.",
    tags=KEY_TAGS,
    responses=answers(503, refusals=[ExchangeAuthorizationFailed, ExchangeBadRequest]),
)
def get_key_balance(API_KEY_ID: KeyId) -> BalanceOut:
    return BalanceOut.of(wiring.exchange_key_service().live_balance(caller_id(app), API_KEY_ID))


@app.get(
    "/v1/priv/account/exchange/key/<API_KEY_ID>/balance/history",
    summary="List exchange key balance history",
    description="The key's daily balance snapshots in USD, newest first.",
    tags=KEY_TAGS,
)
def list_key_balance_history(
    API_KEY_ID: KeyId,
    start: Annotated[IsoDate | None, Query(description="The newest date to list, YYYY-MM-DD")] = None,
    limit: Annotated[IntegerInput, Field(ge=1, le=1000), Query(description="Page size (max 1000)")] = 100,
    nextToken: Annotated[PageToken | None, Query(description="The previous page's nextToken")] = None,
) -> BalanceHistory:
    user = caller_id(app)
    scope = f"{user}:balance-history:{API_KEY_ID}:{start}"
    page = wiring.exchange_key_service().balance_history(
        user, API_KEY_ID, start, limit, wiring.page_tokens().decode(nextToken, scope)
    )
    return BalanceHistory(
        items=[BalanceHistoryItem.of(snapshot) for snapshot in page.snapshots],
        nextToken=wiring.page_tokens().encode(page.next_start_key, scope),
    )


lambda_handler = lambda_entrypoint(app)
