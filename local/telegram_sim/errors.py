"""The Bot API's error answers, and the simulator's own errors for its test helpers.

A Bot API error is ``{"ok": false, "error_code": <HTTP status>, "description": "..."}`` (plus
``parameters`` for a 429's ``retry_after``), with the error code as the HTTP status too.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any


class BotApiError(Exception):
    """An answer Telegram gives instead of a result."""

    def __init__(self, error_code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> BotApiError:
    return BotApiError(403, f"Forbidden: {detail}")


def unauthorized() -> BotApiError:
    return BotApiError(401, "Unauthorized")


def not_found() -> BotApiError:
    return BotApiError(404, "Not Found")


def too_many_requests(retry_after: int) -> BotApiError:
    return BotApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


def server_error(status: int) -> BotApiError:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Internal Server Error"
    return BotApiError(status, phrase)


class DeliveryError(RuntimeError):
    """An Update the simulator could not hand to the bot's webhook."""


class WebhookNotSet(DeliveryError):
    """No webhook is registered (``setWebhook`` was never called, or ``deleteWebhook`` was)."""


class UpdateNotAllowed(DeliveryError):
    """The webhook's ``allowed_updates`` leave this kind of Update out: Telegram would not send it."""


class WebhookUnreachable(DeliveryError):
    """The webhook refused the connection, reset it or did not answer in time."""
