"""StrategyAutomatedExpressJSv1: the caller's follows of automated strategies, per exchange key."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from core import wiring
from core.api import caller_id, create_resolver, lambda_entrypoint
from core.api.fields import Uuid
from core.api.openapi_docs import answers
from core.errors import (
    ExchangeIdMismatch,
    ExchangeKeyInactive,
    ExchangeKeyTypeInvalid,
    ExchangeSymbolAlreadyFollowed,
    ExchangeSymbolMismatch,
    SubscriptionFeatureUnauthorized,
)
from core.schemas.follows import FollowCreate, FollowList, FollowOut, FollowUpdate

app = create_resolver()
KeyId = Annotated[
    Uuid, Path(description="API_KEY_ID: the exchange key", json_schema_extra={"format": "uuid"})
]
FollowId = Annotated[
    Uuid, Path(description="STRATEGY_FOLLOW_ID: the follow", json_schema_extra={"format": "uuid"})
]
TAGS = ["Strategy Automated"]


@app.get(
    "/v1/priv/strategy/follow/exchange/key/<API_KEY_ID>",
    summary="List exchange key follows",
    description="The automated strategies the key follows.",
    tags=TAGS,
)
def list_key_follows(API_KEY_ID: KeyId) -> FollowList:
    views = wiring.follow_service().of_key(caller_id(app), API_KEY_ID)
    return FollowList(items=[FollowOut.of(view) for view in views])


@app.post(
    "/v1/priv/strategy/follow/exchange/key/<API_KEY_ID>",
    summary="Create exchange key follow",
    description="The key follows the automated strategy: every signal places an order sized by the risk "
    "profile. An inactive strategy or an unknown profile is a 422.",
    tags=TAGS,
    responses=answers(
        503,
        refusals=[
            ExchangeKeyTypeInvalid,
            ExchangeKeyInactive,
            ExchangeIdMismatch,
            ExchangeSymbolAlreadyFollowed,
            SubscriptionFeatureUnauthorized,
        ],
    ),
)
def create_key_follow(API_KEY_ID: KeyId, body: FollowCreate) -> FollowOut:
    return FollowOut.of(wiring.follow_service().follow(caller_id(app), API_KEY_ID, body.to_request()))


@app.put(
    "/v1/priv/strategy/follow/<STRATEGY_FOLLOW_ID>",
    summary="Update strategy follow",
    description="Pause or resume the follow, or move it to another strategy or risk profile.",
    tags=TAGS,
    responses=answers(
        503,
        refusals=[
            ExchangeKeyInactive,
            ExchangeIdMismatch,
            ExchangeSymbolMismatch,
            SubscriptionFeatureUnauthorized,
        ],
    ),
)
def update_follow(STRATEGY_FOLLOW_ID: FollowId, body: FollowUpdate) -> FollowOut:
    return FollowOut.of(wiring.follow_service().update(caller_id(app), STRATEGY_FOLLOW_ID, body.to_change()))


lambda_handler = lambda_entrypoint(app)
