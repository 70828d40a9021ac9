"""The Telegram Bot API (``TelegramBot``) and its errors, sorted by what a caller should do.

    bot = TelegramBot(token, api_base=settings.telegram_api_base)
    try:
        bot.send_message(chat_id, "<b>BTC/USDT</b> take profit filled")
    except TelegramChatUnavailable:
        ...  # blocked or gone: unlink the chat
    except TelegramError as error:
        if error.retryable:
            raise  # the queue retries (after error.retry_after seconds for a 429)
        ...  # permanent: count it, do not retry

Only urllib3 is imported (it comes with botocore); nothing here retries.
"""

from adapters.telegram.bot import BotUser, TelegramBot, WebhookInfo, redact
from adapters.telegram.errors import (
    TelegramBadRequest,
    TelegramBotBlocked,
    TelegramChatNotFound,
    TelegramChatUnavailable,
    TelegramError,
    TelegramNetworkError,
    TelegramPermanentError,
    TelegramRateLimited,
    TelegramRetryableError,
    TelegramServerError,
    TelegramUnauthorized,
)

__all__ = [
    "BotUser",
    "TelegramBadRequest",
    "TelegramBot",
    "TelegramBotBlocked",
    "TelegramChatNotFound",
    "TelegramChatUnavailable",
    "TelegramError",
    "TelegramNetworkError",
    "TelegramPermanentError",
    "TelegramRateLimited",
    "TelegramRetryableError",
    "TelegramServerError",
    "TelegramUnauthorized",
    "WebhookInfo",
    "redact",
]
