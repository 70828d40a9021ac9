"""A local Telegram Bot API simulator that the project's Telegram adapter talks to unchanged.

from local.telegram_sim import TelegramSimulator, start_simulator

running = start_simulator(simulator=TelegramSimulator("123456:local-test-token", "trading_api_local_bot"))
bot = TelegramBot("123456:local-test-token", api_base=running.url)
bot.set_webhook("http://127.0.0.1:3000/v1/hook/telegram", "s3cret")
running.simulator.deliver_update(1001, "/start 8pvv88pj", username="alice")  # -> the webhook's status
running.simulator.messages(1001)  # [{"chatId": 1001, "text": "...", "photo": False, "date": "..."}]
running.simulator.inject_fault(429, count=2, retry_after=3)  # the next two sends are throttled
running.stop()
"""

from local.telegram_sim.errors import (
    BotApiError,
    DeliveryError,
    UpdateNotAllowed,
    WebhookNotSet,
    WebhookUnreachable,
)
from local.telegram_sim.server import RunningSimulator, start_simulator
from local.telegram_sim.simulator import (
    DEFAULT_TOKEN,
    DEFAULT_USERNAME,
    ApiCall,
    Delivery,
    TelegramSimulator,
    Webhook,
)
from local.telegram_sim.webhook import SECRET_HEADER

__all__ = [
    "DEFAULT_TOKEN",
    "DEFAULT_USERNAME",
    "SECRET_HEADER",
    "ApiCall",
    "BotApiError",
    "Delivery",
    "DeliveryError",
    "RunningSimulator",
    "TelegramSimulator",
    "UpdateNotAllowed",
    "Webhook",
    "WebhookNotSet",
    "WebhookUnreachable",
    "start_simulator",
]
