"""StrategyAutomatedExpressJSv1: the caller's follows of automated strategies, per exchange key."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from core import wiring
from core.api import caller_id, create_resolver, lambda_entrypoint
from core.api.fields import Uuid
from core.schemas.follows import FollowCreate, FollowList, FollowOut, FollowUpdate

app = create_resolver()
KeyId = Annotated[Uuid, Path()]
FollowId = Annotated[Uuid, Path()]
TAGS = ["Strategy Automated"]


@app.get("/v1/priv/strategy/follow/exchange/key/<API_KEY_ID>", summary="List exchange key follows", tags=TAGS)
def list_key_follows(API_KEY_ID: KeyId) -> FollowList:
    views = wiring.follow_service().of_key(caller_id(app), API_KEY_ID)
    return FollowList(items=[FollowOut.of(view) for view in views])


@app.post(
    "/v1/priv/strategy/follow/exchange/key/<API_KEY_ID>", summary="Create exchange key follow", tags=TAGS
)
def create_key_follow(API_KEY_ID: KeyId, body: FollowCreate) -> FollowOut:
    return FollowOut.of(wiring.follow_service().follow(caller_id(app), API_KEY_ID, body.to_request()))


@app.put("/v1/priv/strategy/follow/<STRATEGY_FOLLOW_ID>", summary="Update strategy follow", tags=TAGS)
def update_follow(STRATEGY_FOLLOW_ID: FollowId, body: FollowUpdate) -> FollowOut:
    return FollowOut.of(wiring.follow_service().update(caller_id(app), STRATEGY_FOLLOW_ID, body.to_change()))


lambda_handler = lambda_entrypoint(app)
