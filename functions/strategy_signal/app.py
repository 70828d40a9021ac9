"""A strategy's signal route: POST /v1/hook/strategy/{STRATEGY_ID}/signal (TradingView alerts and the like).

Public (no Cognito): the body's ``secret`` authenticates. Nothing here talks to the exchange: the signal
is checked, recorded as a trigger and handed to the fan-out queue; the answer is a 202 at once.
"""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from core import wiring
from core.api import create_resolver, lambda_entrypoint
from core.api.errors import json_response
from core.api.fields import Uuid
from core.api.openapi_docs import answers
from core.errors import StrategyInactive
from core.schemas.signal import SIGNAL_EXAMPLE, SignalAccepted, SignalRequest

app = create_resolver()
# Documented as SignalRequest; read as any JSON object, since the secret is checked before the rest.
SignalJson = Annotated[
    dict[str, Any],
    Body(
        json_schema_extra=SignalRequest.model_json_schema(),
        openapi_examples={"open": {"summary": "Open a long trade", "value": SIGNAL_EXAMPLE}},
    ),
]


@app.post(
    "/v1/hook/strategy/<STRATEGY_ID>/signal",
    summary="Receive a strategy signal",
    description="A strategy's signal (TradingView alerts and the like), authenticated by the strategy's "
    "secret instead of a token: recorded as a trigger and fanned out to every active follower. Answered "
    "at once with 202; a repeated signalId is answered 200 with the first signal's trigger.",
    tags=["Webhooks"],
    responses={
        **answers(
            401, 503, ok=202, ok_description="Accepted", ok_model=SignalAccepted, refusals=[StrategyInactive]
        ),
        200: {
            "description": "A signalId already received: the first signal's trigger",
            "content": {"application/json": {"model": SignalAccepted}},
        },
    },
)
def receive_signal(
    STRATEGY_ID: Annotated[
        Uuid, Path(description="STRATEGY_ID: the automated strategy", json_schema_extra={"format": "uuid"})
    ],
    body: SignalJson,
):  # 202 or 200
    received = wiring.signal_service().receive(STRATEGY_ID, body)
    answer = {"triggerId": received.trigger_id, "followers": received.followers}
    return json_response(200 if received.duplicate else 202, answer)


lambda_handler = lambda_entrypoint(app)
