"""The notification secrets, read from Secrets Manager at first use (cached five minutes, so a rotation is
picked up without a deploy) and never logged: the Telegram bot's token and webhook secret, the link key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.config import get_settings

CACHE_SECONDS = 300


@dataclass(frozen=True)
class TelegramCredentials:
    bot_token: str = field(repr=False)
    webhook_secret: str = field(repr=False)


def _secret(arn: str, transform: Any = None) -> Any:
    from aws_lambda_powertools.utilities import parameters

    return parameters.get_secret(arn, transform=transform, max_age=CACHE_SECONDS)


def telegram_credentials() -> TelegramCredentials | None:
    """None when the stage has no bot (its secret is not configured): Telegram is then unavailable."""
    arn = get_settings().telegram_secret_arn
    if not arn:
        return None
    secret = _secret(arn, transform="json")
    if not isinstance(secret, dict) or not secret.get("botToken"):
        return None
    return TelegramCredentials(str(secret["botToken"]), str(secret.get("webhookSecret", "")))


def link_secret() -> str:
    arn = get_settings().link_secret_arn
    if not arn:
        raise RuntimeError("LINK_SECRET_ARN is not configured")
    return str(_secret(arn))
