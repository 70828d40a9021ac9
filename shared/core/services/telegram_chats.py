"""A linked chat that can no longer hear from the bot: the one place alerts and reports learn of it.

A chat that blocked the bot, or that no longer exists, is unlinked when a send into it is refused so: its
Telegram settings turn off, as ``/stop`` does. No later alert or report goes into it, and the user sees
Telegram as not linked until they link it again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from core.models.notifications import AlertMethod
from core.observability import logger
from core.repositories.notifications import MethodChanged, NotificationRepository
from core.timeutil import iso_now

Sent = TypeVar("Sent")


class GoneChats:
    def __init__(
        self,
        notifications: NotificationRepository,
        is_gone: Callable[[Exception], bool],
        count: Callable[[str], None],
        now: Callable[[], str] = iso_now,
    ) -> None:
        self._notifications = notifications
        self._is_gone = is_gone
        self._count = count
        self._now = now

    def send(self, method: AlertMethod, send: Callable[[], Sent]) -> Sent:
        """``send`` into the method's chat; a refusal that says the chat is gone unlinks it, then is raised."""
        try:
            return send()
        except Exception as error:
            if self._is_gone(error):
                self._unlink(method)
            raise

    def _unlink(self, method: AlertMethod) -> None:
        try:
            self._notifications.unlink_chat(method, self._now())
        except MethodChanged:
            return  # linked again (or to another chat) meanwhile: that link stays
        self._count("TelegramChatUnlinked")
        logger.info("telegram chat unlinked: the bot was blocked or the chat is gone")
