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

app = create_resolver()


@app.post("/v1/hook/strategy/<STRATEGY_ID>/signal", summary="Receive a strategy signal", tags=["Webhooks"])
def receive_signal(
    STRATEGY_ID: Annotated[Uuid, Path()], body: Annotated[dict[str, Any], Body()]
):  # 202 or 200
    received = wiring.signal_service().receive(STRATEGY_ID, body)
    answer = {"triggerId": received.trigger_id, "followers": received.followers}
    return json_response(200 if received.duplicate else 202, answer)


lambda_handler = lambda_entrypoint(app)
