"""Typed configuration, read once per cold start from the function's environment.

Every setting the code uses is declared here; nothing else reads ``os.environ``.
"""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, Field, field_validator


class Settings(BaseModel):
    stage: str = "local"
    table_name: str = "trading-api-local-main"
    idempotency_table_name: str = "trading-api-local-idempotency"
    # Signs pagination tokens so that a client cannot forge a DynamoDB start key.
    pagination_secret: str = Field(default="local-pagination-secret", repr=False)
    # The addresses exchange-calling functions leave from; users whitelist them on their Binance keys.
    egress_ips: list[str] = Field(default_factory=list)
    # The web app's origin; browsers are refused other origins.
    cors_allow_origin: str = "*"
    # KMS key that encrypts users' exchange API secrets.
    exchange_secrets_key_id: str = ""
    # Where exchange requests go: Binance itself ("live"), Binance's demo trading ("demo"), or a URL
    # (the local stack's simulator) that speaks the same REST API.
    exchange_endpoint: str = "live"
    exchange_timeout_ms: int = 8000
    # How many keys the daily snapshot job reads at once: the egress IP shares Binance's weight limit.
    snapshot_concurrency: int = 8
    # Stripe: the secret API key and the webhook endpoint's signing secret (both from Secrets Manager).
    # Secrets Manager secret holding {"apiKey", "webhookSecret"}, read at first use. STRIPE_API_KEY and
    # STRIPE_WEBHOOK_SECRET, when set, take precedence (tests); deployed stages keep them out of the
    # function's configuration.
    stripe_secret_arn: str = ""
    stripe_api_key: str = Field(default="", repr=False)
    stripe_webhook_secret: str = Field(default="", repr=False)
    # Where Stripe requests go: empty is Stripe itself; the local stack sets its simulator's URL.
    stripe_api_base: str = ""
    stripe_timeout_seconds: float = 8.0
    # stripe-python retries connection failures with the same idempotency key, so a retry never doubles.
    stripe_max_network_retries: int = 1
    # Where Stripe Checkout sends the customer back after paying or giving up.
    checkout_success_url: str = ""
    checkout_cancel_url: str = ""
    # The application's EventBridge bus: trades publish what happened to them there.
    event_bus_name: str = "trading-api-local-trades"
    # The trade monitor: the share of the egress IPs' exchange request weight (per minute) it may use.
    monitor_weight_budget: int = 600
    # An unfinished trade record older than this was interrupted (a crash, a timeout): the monitor finishes it.
    monitor_stale_after_seconds: int = 60
    # The signal fan-out queue: one message per follower of a strategy's trigger.
    fanout_queue_url: str = ""
    # Notifications (notifications.md). The bot's username (its URL is https://t.me/<username>); the Secrets
    # Manager secret holding {"botToken", "webhookSecret"}; where Bot API requests go (the local stack sets
    # its simulator's URL).
    telegram_bot_username: str = ""
    telegram_secret_arn: str = ""
    telegram_api_base: str = "https://api.telegram.org"
    # Alerts and reports by email: SES, from this verified sender.
    email_sender: str = ""
    # The secret (Secrets Manager) that signs the one-click unsubscribe links, and the API's public URL they
    # point at.
    link_secret_arn: str = ""
    public_api_url: str = ""
    # The Cognito user pool: the users' email addresses, and every user for the reports.
    user_pool_id: str = ""
    # The reports' queue: one message per user and report.
    report_queue_url: str = ""

    @field_validator("egress_ips", mode="before")
    @classmethod
    def split_csv(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


_ENVIRONMENT_NAMES = {
    "stage": "STAGE",
    "table_name": "TABLE_NAME",
    "idempotency_table_name": "IDEMPOTENCY_TABLE_NAME",
    "pagination_secret": "PAGINATION_SECRET",
    "egress_ips": "EGRESS_IPS",
    "cors_allow_origin": "CORS_ALLOW_ORIGIN",
    "exchange_secrets_key_id": "EXCHANGE_SECRETS_KEY_ID",
    "exchange_endpoint": "EXCHANGE_ENDPOINT",
    "exchange_timeout_ms": "EXCHANGE_TIMEOUT_MS",
    "snapshot_concurrency": "SNAPSHOT_CONCURRENCY",
    "stripe_secret_arn": "STRIPE_SECRET_ARN",
    "stripe_api_key": "STRIPE_API_KEY",
    "stripe_webhook_secret": "STRIPE_WEBHOOK_SECRET",
    "stripe_api_base": "STRIPE_API_BASE",
    "stripe_timeout_seconds": "STRIPE_TIMEOUT_SECONDS",
    "stripe_max_network_retries": "STRIPE_MAX_NETWORK_RETRIES",
    "checkout_success_url": "CHECKOUT_SUCCESS_URL",
    "checkout_cancel_url": "CHECKOUT_CANCEL_URL",
    "event_bus_name": "EVENT_BUS_NAME",
    "monitor_weight_budget": "MONITOR_WEIGHT_BUDGET",
    "monitor_stale_after_seconds": "MONITOR_STALE_AFTER_SECONDS",
    "fanout_queue_url": "FANOUT_QUEUE_URL",
    "telegram_bot_username": "TELEGRAM_BOT_USERNAME",
    "telegram_secret_arn": "TELEGRAM_SECRET_ARN",
    "telegram_api_base": "TELEGRAM_API_BASE",
    "email_sender": "EMAIL_SENDER",
    "link_secret_arn": "LINK_SECRET_ARN",
    "public_api_url": "PUBLIC_API_URL",
    "user_pool_id": "USER_POOL_ID",
    "report_queue_url": "REPORT_QUEUE_URL",
}


@cache
def get_settings() -> Settings:
    """The settings of this container; tests call ``get_settings.cache_clear()`` after changing the environment."""
    values = {field: os.environ[name] for field, name in _ENVIRONMENT_NAMES.items() if name in os.environ}
    return Settings.model_validate(values)  # strings from the environment, parsed into the fields' types
