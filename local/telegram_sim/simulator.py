"""``TelegramSimulator``: one bot's side of Telegram, in memory and thread-safe.

It answers the Bot API methods the project calls (``getMe``, ``setWebhook``, ``deleteWebhook``,
``getWebhookInfo``, ``sendMessage``, ``sendPhoto``; names are case-insensitive, as Telegram's are) with
Telegram's result and error shapes, and plays the users: ``deliver_update`` is a user writing to the
bot, posted to the registered webhook with its secret token as Telegram posts it.

Telegram's rules it keeps: a bot can only write to a private chat whose user wrote to it first
(``chat not found`` otherwise) and not to one that blocked it (403); a user who writes again has
unblocked the bot. Message ids count per chat, both ways; update ids grow across the bot.
One deliberate difference: a webhook may be plain ``http://`` on any port (the local stack has no TLS).

Every state change happens under one lock, which is never held while an Update is being delivered: the
webhook may call the Bot API back before it answers.
"""

from __future__ import annotations

import datetime
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from local.telegram_sim import errors
from local.telegram_sim.errors import BotApiError, UpdateNotAllowed, WebhookNotSet, WebhookUnreachable
from local.telegram_sim.formatting import parse_text, utf16_len
from local.telegram_sim.params import (
    Params,
    Upload,
    bool_param,
    chat_id_param,
    json_param,
    text_param,
)
from local.telegram_sim.photos import photo_dimensions, photo_sizes
from local.telegram_sim.webhook import post_update

DEFAULT_TOKEN = "123456:local-test-token"  # the local bot's placeholder, not a secret
DEFAULT_USERNAME = "trading_api_local_bot"
SEND_METHODS = ("sendMessage", "sendPhoto")
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
# Sent when allowed_updates is empty or was never given.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_BOT_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")


@dataclass(frozen=True)
class Webhook:
    """The registered webhook, as ``setWebhook`` left it."""

    url: str
    secret_token: str | None
    allowed_updates: tuple[str, ...] | None  # None: never given (every update but the opt-in kinds)
    max_connections: int = 40

    @property
    def secret(self) -> str | None:
        return self.secret_token

    def allows(self, update_type: str) -> bool:
        if self.allowed_updates:
            return update_type in self.allowed_updates
        return update_type not in _OPT_IN_UPDATES


@dataclass(frozen=True)
class Delivery:
    """One POST of one Update to the webhook, as the webhook answered it (``status`` None: no answer)."""

    update_id: int
    url: str
    status: int | None
    error: str | None
    secret_token_sent: bool


@dataclass(frozen=True)
class ApiCall:
    """One Bot API request that passed the token check: the method as named in the path, the
    parameters (uploads shown by name and size), and the answer's status."""

    method: str
    params: dict[str, Any]
    status: int


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    disconnect: bool = False  # an injected fault: close the connection without answering


@dataclass
class _Fault:
    status: int
    remaining: int
    retry_after: int
    methods: frozenset[str]
    disconnect: bool


@dataclass
class _Chat:
    id: int
    first_name: str
    username: str | None
    language_code: str | None
    blocked: bool = False
    last_message_id: int = 0

    def chat(self) -> dict[str, Any]:
        return {"id": self.id, "first_name": self.first_name, **self._username(), "type": "private"}

    def user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        user.update(self._username())
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def _username(self) -> dict[str, str]:
        return {"username": self.username} if self.username else {}


@dataclass(frozen=True)
class _Sent:
    chat_id: int
    message: dict[str, Any]
    text: str
    photo: bool


class TelegramSimulator:
    """The bot ``username`` with ``token``; see the module docstring for what it keeps of Telegram."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        username: str = DEFAULT_USERNAME,
        *,
        first_name: str = "Trading API (local)",
        clock: Callable[[], float] = time.time,
        webhook_timeout_seconds: float = 30.0,
    ) -> None:
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or not secret:
            raise ValueError("a bot token looks like <bot id>:<secret>")
        self.token = token
        self.username = username
        self.bot_id = int(bot_id)
        self.first_name = first_name
        self.webhook_timeout_seconds = webhook_timeout_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._methods: dict[str, Callable[[Params], tuple[Any, str | None]]] = {
            "getme": self._get_me,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
        }
        self._reset_state()

    def _reset_state(self) -> None:
        self._webhook: Webhook | None = None
        self._allowed_updates: tuple[str, ...] | None = None  # kept across setWebhook calls that omit it
        self._chats: dict[int, _Chat] = {}
        self._sent: list[_Sent] = []
        self._files: dict[str, bytes] = {}
        self._photo_sizes: dict[str, list[dict[str, Any]]] = {}
        self._faults: list[_Fault] = []
        self._calls: list[ApiCall] = []
        self._updates: dict[int, dict[str, Any]] = {}
        self._last_update_id = 0
        self._pending: set[int] = set()
        self._deliveries: list[Delivery] = []
        self._last_error: tuple[int, str] | None = None

    def reset(self) -> None:
        """Forget everything: webhook, chats, messages, faults, updates."""
        with self._lock:
            self._reset_state()

    # --- the Bot API ----------------------------------------------------------------------------

    def handle(self, token: str, method: str, read_params: Callable[[], Params]) -> Answer:
        """Answer ``/bot<token>/<method>``; ``read_params`` decodes the request once the token checked out."""
        if token != self.token:
            return Answer(401, errors.unauthorized().to_body())
        handler = self._methods.get(method.lower())
        if handler is None:
            return Answer(404, errors.not_found().to_body())
        with self._lock:
            fault = self._take_fault(method)
        if fault is not None:
            self._record(method, {}, fault.status)
            if fault.disconnect:
                return Answer(0, {}, disconnect=True)
            if fault.status == 429:
                error = errors.too_many_requests(fault.retry_after)
                return Answer(429, error.to_body(), {"Retry-After": str(fault.retry_after)})
            return Answer(fault.status, errors.server_error(fault.status).to_body())
        params: Params = {}
        try:
            params = read_params()
            with self._lock:
                result, description = handler(params)
        except BotApiError as error:
            self._record(method, params, error.error_code)
            return Answer(error.error_code, error.to_body())
        self._record(method, params, 200)
        body: dict[str, Any] = {"ok": True, "result": result}
        if description:
            body["description"] = description
        return Answer(200, body)

    def _get_me(self, params: Params) -> tuple[Any, str | None]:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }, None

    def _set_webhook(self, params: Params) -> tuple[Any, str | None]:
        url = (text_param(params, "url") or "").strip()
        if not url:
            return self._remove_webhook(params)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise errors.bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = text_param(params, "secret_token")
        if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
            raise errors.bad_request("secret token contains unallowed characters")
        if "allowed_updates" in params:
            allowed = json_param(params, "allowed_updates")
            if allowed is not None and not (
                isinstance(allowed, list) and all(isinstance(kind, str) for kind in allowed)
            ):
                raise errors.bad_request("can't parse allowed_updates JSON array")
            self._allowed_updates = tuple(allowed or ())
        max_connections = text_param(params, "max_connections") or ""
        webhook = Webhook(
            url=url,
            secret_token=secret or None,
            allowed_updates=self._allowed_updates,
            max_connections=int(max_connections) if max_connections.isdigit() else 40,
        )
        if bool_param(params, "drop_pending_updates"):
            self._pending.clear()
        unchanged = webhook == self._webhook
        self._webhook = webhook
        return True, "Webhook is already set" if unchanged else "Webhook was set"

    def _delete_webhook(self, params: Params) -> tuple[Any, str | None]:
        return self._remove_webhook(params)

    def _remove_webhook(self, params: Params) -> tuple[Any, str | None]:
        if bool_param(params, "drop_pending_updates"):
            self._pending.clear()
        was_set = self._webhook is not None
        self._webhook = None
        self._last_error = None
        return True, "Webhook was deleted" if was_set else "Webhook is already deleted"

    def _get_webhook_info(self, params: Params) -> tuple[Any, str | None]:
        webhook = self._webhook
        info: dict[str, Any] = {
            "url": webhook.url if webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if webhook is not None:
            info["max_connections"] = webhook.max_connections
            info["ip_address"] = "127.0.0.1"
            if webhook.allowed_updates:
                info["allowed_updates"] = list(webhook.allowed_updates)
            if self._last_error is not None:
                info["last_error_date"], info["last_error_message"] = self._last_error
        return info, None

    def _send_message(self, params: Params) -> tuple[Any, str | None]:
        chat_id = chat_id_param(params)
        text = text_param(params, "text")
        if text is None or not text.strip():
            raise errors.bad_request("message text is empty")
        chat = self._writable_chat(chat_id)
        plain, entities = parse_text(text, text_param(params, "parse_mode"), json_param(params, "entities"))
        if not plain:
            raise errors.bad_request("message text is empty")
        if utf16_len(plain) > MAX_TEXT_LENGTH:
            raise errors.bad_request("message is too long")
        content: dict[str, Any] = {"text": plain}
        if entities:
            content["entities"] = entities
        preview = json_param(params, "link_preview_options")
        if bool_param(params, "disable_web_page_preview") or (
            isinstance(preview, dict) and preview.get("is_disabled")
        ):
            content["link_preview_options"] = {"is_disabled": True}
        content.update(self._reply_markup(params))
        return self._deliver_to_chat(chat, content, plain, photo=False), None

    def _send_photo(self, params: Params) -> tuple[Any, str | None]:
        chat_id = chat_id_param(params)
        photo = params.get("photo")
        if isinstance(photo, str) and photo.startswith("attach://"):
            photo = params.get(photo.removeprefix("attach://"))
        if photo is None or photo == "":
            raise errors.bad_request("there is no photo in the request")
        chat = self._writable_chat(chat_id)
        if isinstance(photo, Upload):
            width, height = photo_dimensions(photo.data)
            sizes = photo_sizes(width, height, len(photo.data))
            for size in sizes:
                self._files[size["file_id"]] = photo.data
                self._photo_sizes[size["file_id"]] = sizes
        elif isinstance(photo, str) and photo in self._photo_sizes:
            sizes = self._photo_sizes[photo]  # a photo sent before, by its file_id
        else:
            raise errors.bad_request("wrong file identifier/HTTP URL specified")
        caption, entities = parse_text(
            text_param(params, "caption") or "",
            text_param(params, "parse_mode"),
            json_param(params, "caption_entities"),
        )
        if utf16_len(caption) > MAX_CAPTION_LENGTH:
            raise errors.bad_request("message caption is too long")
        content: dict[str, Any] = {"photo": [dict(size) for size in sizes]}
        if caption:
            content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
        content.update(self._reply_markup(params))
        return self._deliver_to_chat(chat, content, caption, photo=True), None

    def _writable_chat(self, chat_id: int | str) -> _Chat:
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise errors.bad_request("chat not found")
        if chat.blocked:
            raise errors.forbidden("bot was blocked by the user")
        return chat

    @staticmethod
    def _reply_markup(params: Params) -> dict[str, Any]:
        markup = json_param(params, "reply_markup")
        if isinstance(markup, dict) and isinstance(markup.get("inline_keyboard"), list):
            return {"reply_markup": {"inline_keyboard": markup["inline_keyboard"]}}
        return {}

    def _deliver_to_chat(
        self, chat: _Chat, content: dict[str, Any], text: str, *, photo: bool
    ) -> dict[str, Any]:
        chat.last_message_id += 1
        message = {
            "message_id": chat.last_message_id,
            "from": self._bot_user(),
            "chat": chat.chat(),
            "date": self._now(),
            **content,
        }
        self._sent.append(_Sent(chat.id, message, text, photo))
        return message

    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.first_name, "username": self.username}

    def _now(self) -> int:
        return int(self._clock())

    def _record(self, method: str, params: Params, status: int) -> None:
        shown = {name: repr(value) if isinstance(value, Upload) else value for name, value in params.items()}
        with self._lock:
            self._calls.append(ApiCall(method, shown, status))

    # --- faults ---------------------------------------------------------------------------------

    def inject_fault(
        self,
        status: int = 500,
        count: int = 1,
        *,
        retry_after: int = 1,
        methods: Iterable[str] = SEND_METHODS,
        disconnect: bool = False,
    ) -> None:
        """The next ``count`` calls of ``methods`` fail with ``status`` (429 carries ``retry_after``), or
        with the connection closed unanswered when ``disconnect``; nothing is sent. Faults queue up in
        the order they were injected."""
        if count < 1:
            raise ValueError("count must be at least 1")
        if not disconnect and not 400 <= status <= 599:
            raise ValueError("a fault answers an error status (400 to 599)")
        fault = _Fault(status, count, retry_after, frozenset(name.lower() for name in methods), disconnect)
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, method: str) -> _Fault | None:
        for fault in self._faults:
            if method.lower() in fault.methods:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    # --- the users ------------------------------------------------------------------------------

    def deliver_update(
        self,
        chat_id: int,
        text: str,
        username: str | None = None,
        *,
        first_name: str | None = None,
        language_code: str | None = None,
    ) -> int:
        """The user ``chat_id`` writes ``text`` to the bot in their private chat: a new Update is posted
        to the webhook. Returns the webhook's HTTP status.

        Raises ``WebhookNotSet`` without a webhook, ``UpdateNotAllowed`` when its ``allowed_updates``
        exclude messages, ``WebhookUnreachable`` when it cannot be reached.
        """
        if chat_id <= 0:
            raise ValueError("a user's private chat has a positive id")
        with self._lock:
            chat = self._open(chat_id, username, first_name, language_code)
            chat.last_message_id += 1
            message: dict[str, Any] = {
                "message_id": chat.last_message_id,
                "from": chat.user(),
                "chat": chat.chat(),
                "date": self._now(),
                "text": text,
            }
            command = _BOT_COMMAND.match(text)
            if command:
                message["entities"] = [
                    {"offset": 0, "length": utf16_len(command.group(0)), "type": "bot_command"}
                ]
            update = self._new_update({"message": message})
        return self._deliver(update)

    def deliver_raw_update(self, update: dict[str, Any]) -> int:
        """Post any Update (an edited message, a group's message ...); a missing ``update_id`` is assigned."""
        with self._lock:
            body = {key: value for key, value in update.items() if key != "update_id"}
            if "update_id" in update:
                stored = dict(update)
                self._updates[int(update["update_id"])] = stored
                self._last_update_id = max(self._last_update_id, int(update["update_id"]))
            else:
                stored = self._new_update(body)
        return self._deliver(stored)

    def redeliver(self, update_id: int | None = None) -> int:
        """Post an Update again, same ``update_id`` (the last one by default), as Telegram does after a
        webhook answered anything but 2xx."""
        with self._lock:
            chosen = self._last_update_id if update_id is None else update_id
            update = self._updates.get(chosen)
        if update is None:
            raise KeyError(f"no update {chosen}")
        return self._deliver(update)

    def _new_update(self, body: dict[str, Any]) -> dict[str, Any]:
        self._last_update_id += 1
        update = {"update_id": self._last_update_id, **body}
        self._updates[self._last_update_id] = update
        return update

    def _deliver(self, update: dict[str, Any]) -> int:
        update_id = int(update["update_id"])
        update_type = next((key for key in update if key != "update_id"), "")
        with self._lock:
            webhook = self._webhook
            if webhook is None:
                self._pending.add(update_id)
                raise WebhookNotSet("no webhook is set: call setWebhook first")
            if not webhook.allows(update_type):
                raise UpdateNotAllowed(
                    f"allowed_updates {list(webhook.allowed_updates or ())} leave out {update_type}"
                )
        body = json.dumps(update, ensure_ascii=False).encode("utf-8")
        try:
            status, reason = post_update(
                webhook.url, webhook.secret_token, body, self.webhook_timeout_seconds
            )
        except OSError as error:
            detail = f"{type(error).__name__}: {error}"
            self._delivered(
                Delivery(update_id, webhook.url, None, detail, webhook.secret_token is not None), detail
            )
            raise WebhookUnreachable(f"webhook {webhook.url} unreachable: {detail}") from error
        problem = None if 200 <= status < 300 else f"Wrong response from the webhook: {status} {reason}"
        self._delivered(
            Delivery(update_id, webhook.url, status, None, webhook.secret_token is not None), problem
        )
        return status

    def _delivered(self, delivery: Delivery, problem: str | None) -> None:
        with self._lock:
            self._deliveries.append(delivery)
            if problem is None:
                self._pending.discard(delivery.update_id)
            else:
                self._pending.add(delivery.update_id)
                self._last_error = (self._now(), problem)

    def open_chat(
        self,
        chat_id: int,
        username: str | None = None,
        *,
        first_name: str | None = None,
        language_code: str | None = None,
    ) -> None:
        """The user ``chat_id`` has started the bot, without an Update being delivered: the bot may write
        to the chat from now on."""
        if chat_id <= 0:
            raise ValueError("a user's private chat has a positive id")
        with self._lock:
            self._open(chat_id, username, first_name, language_code)

    def _open(
        self, chat_id: int, username: str | None, first_name: str | None, language_code: str | None
    ) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = _Chat(chat_id, first_name or username or f"User {chat_id}", username, language_code)
            self._chats[chat_id] = chat
        chat.username = username or chat.username
        chat.first_name = first_name or chat.first_name
        chat.language_code = language_code or chat.language_code
        chat.blocked = False  # writing to a bot one blocked unblocks it
        return chat

    def block_chat(self, chat_id: int) -> None:
        """The user blocks the bot: sending to the chat answers 403 until the user writes again."""
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None:
                chat = _Chat(chat_id, f"User {chat_id}", None, None)
                self._chats[chat_id] = chat
            chat.blocked = True

    def unblock_chat(self, chat_id: int) -> None:
        with self._lock:
            if chat_id in self._chats:
                self._chats[chat_id].blocked = False

    # --- what happened --------------------------------------------------------------------------

    @property
    def webhook(self) -> Webhook | None:
        with self._lock:
            return self._webhook

    def messages(self, chat_id: int) -> list[dict[str, Any]]:
        """What the bot sent to ``chat_id``, oldest first: ``{"chatId", "text", "photo", "date"}``, the text
        as the user reads it (HTML tags applied, entities decoded; a photo's caption, "" without one) and
        the date as ISO-8601 UTC (``2026-12-02T10:24:43Z``)."""
        with self._lock:
            sent = [entry for entry in self._sent if entry.chat_id == chat_id]
        return [
            {
                "chatId": entry.chat_id,
                "text": entry.text,
                "photo": entry.photo,
                "date": datetime.datetime.fromtimestamp(entry.message["date"], datetime.UTC).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                ),
            }
            for entry in sent
        ]

    def sent_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The Message objects the Bot API answered for ``chat_id``, oldest first."""
        with self._lock:
            return [json.loads(json.dumps(entry.message)) for entry in self._sent if entry.chat_id == chat_id]

    def photo_file(self, file_id: str) -> bytes:
        """The uploaded bytes behind any of a sent photo's ``file_id``s."""
        with self._lock:
            return self._files[file_id]

    @property
    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    def calls(self, method: str | None = None) -> list[ApiCall]:
        """The Bot API requests with a valid token, oldest first (of one method, case-insensitive)."""
        with self._lock:
            return [call for call in self._calls if method is None or call.method.lower() == method.lower()]
