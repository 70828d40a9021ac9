"""The Telegram bot's webhook: POST /v1/hook/telegram receives the bot's Updates (notifications.md).

Public (Telegram cannot sign in): the ``X-Telegram-Bot-Api-Secret-Token`` registered with ``setWebhook``
authenticates, compared in constant time; without it the answer is a 401 and nothing changes. Telegram
retries every non-2xx, so an Update that was handled (or that the bot ignores) is answered 200.
"""

import hmac
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import ValidationError

from core import wiring
from core.api import create_resolver, lambda_entrypoint
from core.api.errors import json_response
from core.api.openapi_docs import answers
from core.notify.secrets import telegram_credentials
from core.observability import logger
from core.schemas.telegram import TelegramUpdate, UpdateHandled

app = create_resolver()
UPDATE_SCHEMA: dict[str, Any] = {
    "description": "A Telegram Update (Bot API); the bot reads `update_id` and a private `message`.",
    "properties": {"update_id": {"type": "integer"}, "message": {"type": "object"}},
    "required": ["update_id"],
}


@app.post(
    "/v1/hook/telegram",
    summary="Receive a Telegram update",
    description="The bot's webhook: `X-Telegram-Bot-Api-Secret-Token` must be the secret registered with "
    "setWebhook. `/start <code>` links the private chat, `/stop` unlinks it; an Update is handled once.",
    tags=["Webhooks"],
    responses=answers(401, ok_description="Handled (or ignored)", ok_model=UpdateHandled),
)
def receive_update(
    # Read as it comes (an Update the bot cannot read is acknowledged, not refused): typed for the document.
    body: Annotated[dict[str, Any], Body(json_schema_extra=UPDATE_SCHEMA)],
):  # 200, or a 401 Response
    credentials = telegram_credentials()
    presented = app.current_event.headers.get("X-Telegram-Bot-Api-Secret-Token") or ""
    if (
        credentials is None
        or not credentials.webhook_secret
        or not hmac.compare_digest(presented.encode(), credentials.webhook_secret.encode())
    ):
        return json_response(401, {"message": "Unauthorized"})
    try:
        update = TelegramUpdate.model_validate(body)
    except ValidationError:
        logger.info("Telegram update not understood: ignored")
        return {"ok": True}  # a retry would not make it readable
    outcome = wiring.telegram_linking().handle(update)
    logger.info("Telegram update", extra={"update_id": update.update_id, "outcome": outcome.value})
    return {"ok": True}


lambda_handler = lambda_entrypoint(app)
