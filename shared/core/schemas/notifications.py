"""Shapes of the notification routes, as the API reference documents them."""

from __future__ import annotations

from pydantic import Field, StrictBool

from core.models.base import Model
from core.models.notifications import NotificationSettings
from core.services.notification_settings import AlertMethodView

# The API's name of each setting.
API_NAMES = {
    "weekly_report": "weeklyReport",
    "monthly_report": "monthlyReport",
    "email_new_order": "emailNewOrder",
    "email_take_profit": "emailTakeProfit",
    "email_stop_loss": "emailStopLoss",
    "telegram_new_order": "telegramNewOrder",
    "telegram_take_profit": "telegramTakeProfit",
    "telegram_stop_loss": "telegramStopLoss",
}
SETTING_OF_API_NAME = {api: field for field, api in API_NAMES.items()}


class NotificationSettingsUpdate(Model):
    """PUT body: every field optional, booleans only (``"true"`` or ``1`` is a 422)."""

    weeklyReport: StrictBool | None = None
    monthlyReport: StrictBool | None = None
    emailNewOrder: StrictBool | None = None
    emailTakeProfit: StrictBool | None = None
    emailStopLoss: StrictBool | None = None
    telegramNewOrder: StrictBool | None = None
    telegramTakeProfit: StrictBool | None = None
    telegramStopLoss: StrictBool | None = None

    def changes(self) -> dict[str, bool]:
        """The settings sent (a field sent as null changes nothing)."""
        sent = self.model_dump(exclude_unset=True, exclude_none=True)
        return {SETTING_OF_API_NAME[name]: value for name, value in sent.items()}


class NotificationSettingsOut(Model):
    weeklyReport: bool
    monthlyReport: bool
    emailNewOrder: bool
    emailTakeProfit: bool
    emailStopLoss: bool
    telegramNewOrder: bool
    telegramTakeProfit: bool
    telegramStopLoss: bool
    createdAt: str | None
    updatedAt: str | None

    @classmethod
    def of(cls, settings: NotificationSettings) -> NotificationSettingsOut:
        values = {api: getattr(settings, field) for field, api in API_NAMES.items()}
        return cls(**values, createdAt=settings.created_at, updatedAt=settings.updated_at)


class AlertMethodOut(Model):
    telegramBotUrl: str
    telegramAuthCode: str
    telegramActive: bool
    createdAt: str
    updatedAt: str

    @classmethod
    def of(cls, view: AlertMethodView) -> AlertMethodOut:
        return cls(
            telegramBotUrl=view.telegram_bot_url,
            telegramAuthCode=view.telegram_auth_code,
            telegramActive=view.telegram_active,
            createdAt=view.created_at,
            updatedAt=view.updated_at,
        )


class Unsubscribed(Model):
    """The one-click unsubscribe's answer: the setting the link turned off."""

    unsubscribed: str = Field(description="The setting now off, e.g. weeklyReport")
