"""The parts of Telegram's Update (Bot API) the bot reads; everything else in it is ignored."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from core.models.base import Model


class _Lenient(Model):
    model_config = ConfigDict(extra="ignore")


class TelegramChat(_Lenient):
    id: int
    type: str


class TelegramSender(_Lenient):
    id: int
    is_bot: bool = False
    username: str | None = Field(default=None, max_length=64)
    language_code: str | None = Field(default=None, max_length=16)


class TelegramMessage(_Lenient):
    message_id: int
    chat: TelegramChat
    sender: TelegramSender | None = Field(default=None, alias="from")
    text: str | None = Field(default=None, max_length=4096)


class TelegramUpdate(_Lenient):
    update_id: int
    message: TelegramMessage | None = None


class UpdateHandled(Model):
    """The webhook's answer to an Update it handled (or ignores): Telegram stops retrying on any 2xx."""

    ok: bool = Field(description="Always true")
