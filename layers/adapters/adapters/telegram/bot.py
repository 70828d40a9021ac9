"""The Telegram Bot API over urllib3: the few methods the notifications use, typed, without retries.

urllib3 ships with botocore, so this adds no dependency. One ``TelegramBot`` keeps a small connection
pool, so a warm Lambda reuses its TLS connection to api.telegram.org. The client does not retry:
a failed send leaves as a ``TelegramError`` whose class (and ``retryable``) tells the caller whether to
retry it (the alert queue does, with its own backoff and dead-letter queue) or to stop.

The bot token is part of every URL path (``/bot<token>/<method>``). It never reaches an exception
(their messages are scrubbed and raised without the urllib3 error chained to them), a ``repr``, or a log
line: urllib3 logs request paths at DEBUG level, so its loggers get a filter that redacts them.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import urllib3
from urllib3.exceptions import HTTPError

from adapters.telegram.errors import TelegramError, TelegramNetworkError, TelegramServerError, error_for

DEFAULT_API_BASE = "https://api.telegram.org"
USER_AGENT = "trading-api-telegram/1"
_TOKEN_IN_PATH = re.compile(r"/bot[^/\s'\"?]*")
_TOKEN_SHAPE = re.compile(r"\b\d{3,}:[A-Za-z0-9_-]{20,}")
_URLLIB3_LOGGERS = (
    "urllib3.connectionpool",
    "urllib3.poolmanager",
    "urllib3.util.retry",
    "urllib3.connection",
)


def redact(text: str, token: str | None = None) -> str:
    """``text`` without the bot token: none in a ``/bot...`` path, none of the token's shape, and
    (given) not the token itself wherever it appears."""
    if token:
        text = text.replace(token, "<token>").replace(quote(token, safe=""), "<token>")
    text = _TOKEN_IN_PATH.sub("/bot<token>", text)
    return _TOKEN_SHAPE.sub("<token>", text)


class _RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/bot" in message or _TOKEN_SHAPE.search(message):
            record.msg, record.args = redact(message), None
        return True


@functools.cache
def _guard_urllib3_logs() -> None:
    """Once per process: urllib3's request lines (``"POST /bot<token>/sendMessage" 200``) lose the token."""
    guard = _RedactTokens()
    for name in _URLLIB3_LOGGERS:
        logging.getLogger(name).addFilter(guard)


@dataclass(frozen=True)
class BotUser:
    """``getMe``: who the bot is."""

    id: int
    username: str
    first_name: str
    is_bot: bool


@dataclass(frozen=True)
class WebhookInfo:
    """``getWebhookInfo``: where Telegram posts Updates, and how that went lately."""

    url: str
    pending_update_count: int
    allowed_updates: tuple[str, ...]
    last_error_message: str | None


class TelegramBot:
    """One bot, by its token, against ``api_base`` (the Telegram simulator's URL locally)."""

    def __init__(self, token: str, api_base: str = DEFAULT_API_BASE, timeout_seconds: float = 5.0) -> None:
        token = token.strip()
        if not token or "/" in token or any(char.isspace() for char in token):
            raise ValueError("a Telegram bot token is required (<bot id>:<secret>)")
        _guard_urllib3_logs()
        self._token = token
        self._api_base = api_base.rstrip("/")
        self._http = urllib3.PoolManager(
            num_pools=2,
            maxsize=4,
            retries=False,
            timeout=urllib3.Timeout(connect=timeout_seconds, read=timeout_seconds),
            headers={"User-Agent": USER_AGENT},
        )

    def __repr__(self) -> str:  # never the token, even in a traceback's locals
        return f"TelegramBot(api_base={self._api_base!r})"

    def close(self) -> None:
        self._http.clear()

    # --- methods --------------------------------------------------------------------------------

    def get_me(self) -> BotUser:
        result = _object(self._call("getMe", {}))
        return BotUser(
            id=int(result["id"]),
            username=str(result.get("username", "")),
            first_name=str(result.get("first_name", "")),
            is_bot=bool(result.get("is_bot")),
        )

    def set_webhook(
        self,
        url: str,
        secret_token: str,
        allowed_updates: Sequence[str] = ("message",),
        *,
        drop_pending_updates: bool = False,
    ) -> None:
        """Telegram posts the Updates of ``allowed_updates`` to ``url`` with ``secret_token`` in the
        ``X-Telegram-Bot-Api-Secret-Token`` header."""
        self._call(
            "setWebhook",
            {
                "url": url,
                "secret_token": secret_token,
                "allowed_updates": list(allowed_updates),
                "drop_pending_updates": drop_pending_updates,
            },
        )

    def delete_webhook(self, *, drop_pending_updates: bool = False) -> None:
        self._call("deleteWebhook", {"drop_pending_updates": drop_pending_updates})

    def get_webhook_info(self) -> WebhookInfo:
        result = _object(self._call("getWebhookInfo", {}))
        allowed = result.get("allowed_updates")
        last_error = result.get("last_error_message")
        return WebhookInfo(
            url=str(result.get("url", "")),
            pending_update_count=int(result.get("pending_update_count", 0)),
            allowed_updates=tuple(str(kind) for kind in allowed) if isinstance(allowed, list) else (),
            last_error_message=str(last_error) if last_error is not None else None,
        )

    def send_message(
        self, chat_id: int, text: str, parse_mode: str | None = "HTML", *, disable_link_preview: bool = True
    ) -> int:
        """Send ``text`` to the chat; the new message's id."""
        params: dict[str, Any] = {"chat_id": chat_id, "text": text}
        if parse_mode:
            params["parse_mode"] = parse_mode
        if disable_link_preview:
            params["link_preview_options"] = {"is_disabled": True}
        return _message_id(self._call("sendMessage", params))

    def send_photo(
        self,
        chat_id: int,
        png: bytes,
        caption: str | None = None,
        parse_mode: str | None = "HTML",
        *,
        filename: str = "chart.png",
    ) -> int:
        """Upload ``png`` as a photo (multipart/form-data) with an optional caption; the new message's id."""
        fields: dict[str, str | tuple[str, bytes, str]] = {
            "chat_id": str(chat_id),
            "photo": (filename, png, "image/png"),
        }
        if caption:
            fields["caption"] = caption
            if parse_mode:
                fields["parse_mode"] = parse_mode
        return _message_id(self._call("sendPhoto", fields=fields))

    # --- transport ------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        fields: Mapping[str, str | tuple[str, bytes, str]] | None = None,
    ) -> Any:
        if fields is not None:
            body, content_type = urllib3.encode_multipart_formdata(dict(fields))
        else:
            body, content_type = json.dumps(dict(params or {})).encode("utf-8"), "application/json"
        failure: TelegramError | None = None
        try:
            response = self._http.request(
                "POST",
                f"{self._api_base}/bot{self._token}/{method}",
                body=body,
                headers={"Content-Type": content_type},
                redirect=False,
            )
        except (HTTPError, OSError) as error:
            # urllib3's messages name the URL, so the token: keep a scrubbed description only.
            failure = TelegramNetworkError(0, redact(f"{type(error).__name__}: {error}", self._token)[:300])
        if failure is not None:
            raise failure  # raised outside the except block: no urllib3 error (or token) in its context
        return self._result(response.status, response.data)

    def _result(self, status: int, data: bytes) -> Any:
        try:
            answer = json.loads(data)
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or "ok" not in answer:
            # Not the Bot API speaking (a proxy's HTML error page ...): keep the status only.
            if status >= 500 or status < 400:
                raise TelegramServerError(status, f"unexpected answer (HTTP {status})")
            raise error_for(status, f"HTTP {status}", None)
        if answer.get("ok") is True:
            return answer.get("result")
        parameters = answer.get("parameters")
        retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
        raise error_for(
            int(answer.get("error_code") or status),
            redact(str(answer.get("description") or f"HTTP {status}"), self._token),
            int(retry_after) if isinstance(retry_after, int | float) else None,
        )


def _object(result: Any) -> dict[str, Any]:
    if not isinstance(result, dict):
        raise TelegramServerError(200, "unexpected result")
    return result


def _message_id(result: Any) -> int:
    message_id = _object(result).get("message_id")
    if not isinstance(message_id, int):
        raise TelegramServerError(200, "answer without a message_id")
    return message_id
