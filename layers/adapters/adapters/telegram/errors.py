"""What a failed Bot API call means to its caller: retry it later, or stop.

| Telegram answer                                   | exception                 | retryable |
|---------------------------------------------------|---------------------------|-----------|
| 429 ``Too Many Requests`` (``retry_after`` s)     | ``TelegramRateLimited``   | yes, after ``retry_after`` |
| 5xx, or an answer that is not the Bot API's       | ``TelegramServerError``   | yes |
| no answer: refused, reset, timed out              | ``TelegramNetworkError`` (``error_code`` 0) | yes |
| 403 (blocked by the user, user deactivated ...)   | ``TelegramBotBlocked``    | no: the chat is gone |
| 400 ``chat not found``                            | ``TelegramChatNotFound``  | no: the chat is gone |
| 401, or 404 (Telegram's answer to a malformed token) | ``TelegramUnauthorized`` | no: the bot token is wrong |
| any other 4xx (bad HTML, text too long ...)       | ``TelegramBadRequest``    | no: our request is wrong |

Every class carries ``retryable`` and derives from ``TelegramRetryableError`` or ``TelegramPermanentError``;
``TelegramChatUnavailable`` is the pair "blocked or not found", after which a caller unlinks the chat.
Telegram tells its 400s and 403s apart by description only, so those are read from the description.
"""

from __future__ import annotations

from typing import Any, ClassVar


class TelegramError(Exception):
    """A Bot API call that did not succeed: Telegram's ``error_code`` (0 without an answer) and
    ``description``. Never carries the bot token."""

    retryable: ClassVar[bool] = False

    def __init__(self, error_code: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(
            f"Telegram {error_code}: {description}" if error_code else f"Telegram: {description}"
        )
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"{type(self).__name__}(error_code={self.error_code!r}, description={self.description!r})"

    def __reduce__(self) -> tuple[Any, ...]:  # picklable with its keyword argument
        return (_rebuild, (type(self), self.error_code, self.description, self.retry_after))


def _rebuild(
    cls: type[TelegramError], error_code: int, description: str, retry_after: int | None
) -> TelegramError:
    return cls(error_code, description, retry_after=retry_after)


class TelegramRetryableError(TelegramError):
    """Temporary: the same call may succeed later."""

    retryable = True


class TelegramRateLimited(TelegramRetryableError):
    """429: wait ``retry_after`` seconds (None if Telegram did not say) before the next call."""


class TelegramServerError(TelegramRetryableError):
    """Telegram (or a proxy before it) failed: 5xx, or an answer that is not the Bot API's."""


class TelegramNetworkError(TelegramRetryableError):
    """No answer: the connection was refused or reset, or it timed out."""


class TelegramPermanentError(TelegramError):
    """Retrying the same call cannot help."""


class TelegramUnauthorized(TelegramPermanentError):
    """The bot token is wrong or revoked."""


class TelegramBadRequest(TelegramPermanentError):
    """Telegram refused the request itself (malformed HTML, text too long, no photo ...)."""


class TelegramChatUnavailable(TelegramPermanentError):
    """The chat cannot receive messages from the bot any more."""


class TelegramBotBlocked(TelegramChatUnavailable):
    """403: the user blocked the bot (or deleted their account, or never started the bot)."""


class TelegramChatNotFound(TelegramChatUnavailable, TelegramBadRequest):
    """400 ``chat not found``: no such chat, or its user never wrote to the bot."""


_CHAT_NOT_FOUND = ("chat not found", "user not found", "peer_id_invalid", "chat_id is empty")


def error_for(error_code: int, description: str, retry_after: int | None) -> TelegramError:
    """The exception for a Bot API error answer."""
    if error_code == 429 or retry_after is not None:
        return TelegramRateLimited(error_code, description, retry_after=retry_after)
    if error_code >= 500:
        return TelegramServerError(error_code, description)
    if error_code in (401, 404):
        return TelegramUnauthorized(error_code, description)
    if error_code == 403:
        return TelegramBotBlocked(error_code, description)
    if error_code == 400 and any(marker in description.lower() for marker in _CHAT_NOT_FOUND):
        return TelegramChatNotFound(error_code, description)
    if 400 <= error_code < 500:
        return TelegramBadRequest(error_code, description)
    return TelegramServerError(error_code, description)
