"""A user's notification settings and alert method: reading them, changing them, the Telegram auth code."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from core.errors import FieldError, FieldValidationError
from core.models.notifications import TELEGRAM_SETTINGS, AlertMethod, NotificationSettings
from core.repositories.notifications import CodeTaken, NotificationRepository
from core.timeutil import iso_now

# Eight characters of an alphabet without look-alikes (no 0/o, 1/l/i): easy to type after /start.
CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
CODE_LENGTH = 8
TELEGRAM_NOT_LINKED = "account must be linked to Telegram"


def new_auth_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@dataclass(frozen=True)
class AlertMethodView:
    telegram_bot_url: str
    telegram_auth_code: str
    telegram_active: bool
    created_at: str
    updated_at: str


class NotificationSettingsService:
    def __init__(
        self,
        repository: NotificationRepository,
        bot_url: str,
        new_code: Callable[[], str] = new_auth_code,
        api_names: Mapping[str, str] | None = None,
    ) -> None:
        self._repository = repository
        self._bot_url = bot_url
        self._new_code = new_code
        # The API's name of each setting, for the 422 that names the fields it refuses.
        self._api_names = dict(api_names or {})

    def get(self, user_id: str) -> NotificationSettings | None:
        """None until the first update (the defaults apply meanwhile)."""
        return self._repository.get_settings(user_id)

    def update(self, user_id: str, changes: Mapping[str, bool]) -> NotificationSettings:
        """Partial update. A Telegram setting turns on only while a chat is linked: every such field is a 422."""
        turning_on = [field for field in TELEGRAM_SETTINGS if changes.get(field) is True]
        if turning_on:
            method = self._repository.get_method(user_id)
            if method is None or not method.telegram_active:
                raise FieldValidationError(
                    *(
                        FieldError(True, TELEGRAM_NOT_LINKED, self._api_names.get(field, field), "body")
                        for field in turning_on
                    )
                )
        return self._repository.update_settings(user_id, changes, now=iso_now())

    def method(self, user_id: str) -> AlertMethodView:
        """The bot's URL and the user's auth code (created on the first read) and whether Telegram is linked."""
        method = self.ensure_method(user_id)
        return AlertMethodView(
            telegram_bot_url=self._bot_url,
            telegram_auth_code=method.telegram_auth_code,
            telegram_active=method.telegram_active,
            created_at=method.created_at,
            updated_at=method.updated_at,
        )

    def ensure_method(self, user_id: str) -> AlertMethod:
        for _ in range(5):  # a code collision (31^8 codes) or a concurrent first read: try again
            existing = self._repository.get_method(user_id)
            if existing is not None:
                return existing
            try:
                created = self._repository.create_method(user_id, self._new_code(), now=iso_now())
            except CodeTaken:
                continue
            if created is not None:
                return created
        raise RuntimeError("could not create an alert method")

    def draw_code(self) -> str:
        return self._new_code()
