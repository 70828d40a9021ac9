"""The bot's side of Telegram linking (notifications.md): ``/start <code>`` links a private chat, ``/stop`` unlinks.

Telegram delivers each Update at least once and retries until it gets a 2xx, so an Update is claimed by its
``update_id`` before it has any effect (a repeated one has none) and the link is the effect: the bot's answer
in the chat is best effort, a failed answer never undoes or repeats a link.
"""

from __future__ import annotations

from enum import StrEnum

from core.models.notifications import AlertMethod
from core.observability import logger
from core.ports import ChatSender
from core.repositories.notifications import CodeTaken, MethodChanged, NotificationRepository
from core.repositories.profile import ProfileRepository
from core.schemas.telegram import TelegramUpdate
from core.services.notification_settings import NotificationSettingsService
from core.services.notification_texts import bot_reply
from core.services.once import run_once
from core.timeutil import iso_now

UPDATE_LEASE_SECONDS = 60
KEEP_UPDATE_IDS_DAYS = 2  # Telegram keeps an undelivered Update for 24 hours
ATTEMPTS = 4


class UpdateOutcome(StrEnum):
    DUPLICATE = "DUPLICATE"
    IGNORED = "IGNORED"
    LINKED = "LINKED"
    ALREADY_LINKED = "ALREADY_LINKED"
    UNKNOWN_CODE = "UNKNOWN_CODE"
    UNLINKED = "UNLINKED"
    NOT_LINKED = "NOT_LINKED"
    HELP = "HELP"


class TelegramLinking:
    def __init__(
        self,
        repository: NotificationRepository,
        settings: NotificationSettingsService,
        profiles: ProfileRepository,
        bot: ChatSender,
    ) -> None:
        self._repository = repository
        self._settings = settings
        self._profiles = profiles
        self._bot = bot

    def handle(self, update: TelegramUpdate) -> UpdateOutcome:
        key = f"TELEGRAM_UPDATE#{update.update_id}"
        # An Update that fails is released: Telegram retries it, and the next delivery handles it.
        outcome = run_once(
            self._repository, key, UPDATE_LEASE_SECONDS, KEEP_UPDATE_IDS_DAYS, lambda: self._handle(update)
        )
        return outcome or UpdateOutcome.DUPLICATE

    def _handle(self, update: TelegramUpdate) -> UpdateOutcome:
        message = update.message
        if message is None or message.chat.type != "private" or not message.text:
            return UpdateOutcome.IGNORED
        if message.sender is not None and message.sender.is_bot:
            return UpdateOutcome.IGNORED
        chat_id = message.chat.id
        command, _, argument = message.text.strip().partition(" ")
        command = command.split("@", 1)[0].lower()  # /start@bot_name in a client that adds it
        username = message.sender.username if message.sender else None
        if command == "/start":
            code = argument.strip().lower()
            if not code:
                self._reply(chat_id, None, "no_code")
                return UpdateOutcome.HELP
            return self._link(chat_id, code, username)
        if command == "/stop":
            return self._unlink(chat_id)
        self._reply(chat_id, self._repository.user_of_chat(chat_id), "help")
        return UpdateOutcome.HELP

    def _link(self, chat_id: int, code: str, username: str | None) -> UpdateOutcome:
        for _ in range(ATTEMPTS):
            user_id = self._repository.user_of_code(code)
            if user_id is None:
                self._reply(chat_id, self._repository.user_of_chat(chat_id), "unknown_code")
                return UpdateOutcome.UNKNOWN_CODE
            method = self._settings.ensure_method(user_id)
            owner_id = self._repository.user_of_chat(chat_id)
            if owner_id == user_id and method.telegram_chat_id == chat_id:
                self._reply(chat_id, user_id, "already_linked")
                return UpdateOutcome.ALREADY_LINKED
            replaced: AlertMethod | None = None
            if owner_id is not None and owner_id != user_id:
                replaced = self._repository.get_method(owner_id)
                if replaced is not None and replaced.telegram_chat_id != chat_id:
                    replaced = None
            try:
                # The used code links nothing more: the user gets a new one for a later link.
                self._repository.link_chat(
                    method, chat_id, username, self._settings.draw_code(), iso_now(), replaced
                )
            except (CodeTaken, MethodChanged):
                continue
            logger.info("Telegram chat linked", extra={"user_id": user_id, "replaced_user": bool(replaced)})
            self._reply(chat_id, user_id, "linked")
            if replaced is not None:
                self._reply(chat_id, replaced.user_id, "replaced")
            if method.telegram_chat_id is not None and method.telegram_chat_id != chat_id:
                self._reply(method.telegram_chat_id, user_id, "moved")
            return UpdateOutcome.LINKED
        raise RuntimeError("the alert method kept changing while linking")

    def _unlink(self, chat_id: int) -> UpdateOutcome:
        for _ in range(ATTEMPTS):
            user_id = self._repository.user_of_chat(chat_id)
            method = self._repository.get_method(user_id) if user_id else None
            if user_id is None or method is None or method.telegram_chat_id != chat_id:
                self._reply(chat_id, None, "not_linked")
                return UpdateOutcome.NOT_LINKED
            try:
                self._repository.unlink_chat(method, iso_now())
            except MethodChanged:
                continue
            logger.info("Telegram chat unlinked", extra={"user_id": user_id})
            self._reply(chat_id, user_id, "unlinked")
            return UpdateOutcome.UNLINKED
        raise RuntimeError("the alert method kept changing while unlinking")

    def _reply(self, chat_id: int, user_id: str | None, key: str) -> None:
        profile = self._profiles.get(user_id) if user_id else None
        text = bot_reply(profile.language if profile else None, key)
        try:
            self._bot.send_message(chat_id, text, parse_mode=None)
        except Exception as error:  # the answer is a courtesy: the link stands without it
            logger.warning("Telegram reply not sent", extra={"error": type(error).__name__})
