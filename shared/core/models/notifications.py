"""A user's notification settings and alert method (Telegram linking), as ``notifications.md`` defines them."""

from __future__ import annotations

from enum import StrEnum

from core.models.base import Model

# The settings' fields in the reference's order, with the defaults that count while nothing is stored:
# email on, Telegram off, reports on.
SETTING_DEFAULTS: dict[str, bool] = {
    "weekly_report": True,
    "monthly_report": True,
    "email_new_order": True,
    "email_take_profit": True,
    "email_stop_loss": True,
    "telegram_new_order": False,
    "telegram_take_profit": False,
    "telegram_stop_loss": False,
}
TELEGRAM_SETTINGS = ("telegram_new_order", "telegram_take_profit", "telegram_stop_loss")


class NotificationSettings(Model):
    weekly_report: bool = True
    monthly_report: bool = True
    email_new_order: bool = True
    email_take_profit: bool = True
    email_stop_loss: bool = True
    telegram_new_order: bool = False
    telegram_take_profit: bool = False
    telegram_stop_loss: bool = False
    created_at: str | None = None  # None: never stored, the defaults
    updated_at: str | None = None

    def enabled(self, setting: str) -> bool:
        return bool(getattr(self, setting))


class AlertMethod(Model):
    """The user's Telegram link: the code that links a chat, and the chat once linked."""

    user_id: str
    telegram_auth_code: str
    telegram_chat_id: int | None = None
    telegram_username: str | None = None
    created_at: str
    updated_at: str

    @property
    def telegram_active(self) -> bool:
        return self.telegram_chat_id is not None


class AlertKind(StrEnum):
    """The three alerts a user can choose, and the trade event that raises each."""

    NEW_ORDER = "Order Placed"
    TAKE_PROFIT = "Take Profit Filled"
    STOP_LOSS = "Stop Loss Filled"

    @property
    def email_setting(self) -> str:
        return {"Order Placed": "email_new_order", "Take Profit Filled": "email_take_profit"}.get(
            self.value, "email_stop_loss"
        )

    @property
    def telegram_setting(self) -> str:
        return "telegram" + self.email_setting.removeprefix("email")


class ReportKind(StrEnum):
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"

    @property
    def setting(self) -> str:
        return "weekly_report" if self is ReportKind.WEEKLY else "monthly_report"


class Channel(StrEnum):
    EMAIL = "EMAIL"
    TELEGRAM = "TELEGRAM"
