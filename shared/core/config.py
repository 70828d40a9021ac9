"""Typed configuration, read once per cold start from the function's environment.

Every setting the code uses is declared here; nothing else reads ``os.environ``.
"""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, Field, field_validator, model_validator

LOCAL_STAGE = "local"


class Settings(BaseModel):
    stage: str = "local"
    table_name: str = "trading-api-local-main"
    idempotency_table_name: str = "trading-api-local-idempotency"
    # Signs pagination tokens so that a client cannot forge a DynamoDB start key: the Secrets Manager secret,
    # read at first use (``core.wiring.page_tokens``). PAGINATION_SECRET, when set, takes precedence (tests).
    # Outside the local stage a function refuses to start without one of them.
    pagination_secret_arn: str = ""
    pagination_secret: str = Field(default="", repr=False)
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
    # Binance paces us with 429/418 and Retry-After (ccxt's own limiter is off): a throttled request is sent
    # again up to this many times, when Retry-After is at most this long; a longer wait answers 503.
    exchange_throttle_retries: int = 2
    exchange_retry_after_max_seconds: float = 5.0
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
    # The fan-out worker (strategies.md "Scale"). Records of one SQS batch handled at once (threads); the
    # mapping's maximum concurrency (containers at once), which divides the weight share below.
    fanout_record_concurrency: int = 5
    fanout_max_concurrency: int = 40
    # A follower is sized from its key's last account read if it is at most this old; an older one is read
    # again, within the fan-out's share of the egress IPs' request weight per minute (all its containers).
    fanout_equity_max_age_seconds: int = 900
    fanout_read_weight_budget: int = 600
    # How long a symbol's mark price read serves every follower of a container (one read, not one each).
    fanout_price_max_age_ms: int = 1000
    # How long one delivery of a follower's message holds it (more than the worker's timeout).
    fanout_lease_seconds: int = 60
    # How long a plan, risk profile or strategy read serves a busy container (the fan-out reads them for every
    # follower, the alerts for every trade): reference data change when seeded.
    catalog_max_age_seconds: int = 60
    # The daily snapshot: its queue (one message per key), and its share of the egress IPs' request weight
    # per minute (USD-M, spot) over every container of its worker (at most ``snapshot_max_concurrency``).
    snapshot_queue_url: str = ""
    snapshot_weight_budget: int = 1200
    snapshot_spot_weight_budget: int = 3000
    snapshot_max_concurrency: int = 2
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

    # reCAPTCHA v3 on the API's writes (core.api.recaptcha): required in prod (the template sets it), the
    # site secret in Secrets Manager, the lowest score let through, the actions the web app sends (empty:
    # any), and where siteverify is (the local stack points it at its fake).
    recaptcha_required: bool = False
    recaptcha_secret_arn: str = ""
    recaptcha_min_score: float = Field(default=0.5, ge=0.0, le=1.0)
    recaptcha_actions: list[str] = Field(default_factory=list)
    recaptcha_verify_url: str = "https://www.google.com/recaptcha/api/siteverify"
    recaptcha_timeout_seconds: float = 3.0

    @model_validator(mode="after")
    def secrets_configured(self) -> Settings:
        """A function refuses to start without the secrets its stage needs."""
        if self.stage != LOCAL_STAGE and not (self.pagination_secret_arn or self.pagination_secret):
            raise ValueError(f"PAGINATION_SECRET_ARN is not configured (stage {self.stage})")
        if self.recaptcha_required and not self.recaptcha_secret_arn:
            raise ValueError("RECAPTCHA_SECRET_ARN is not configured, and reCAPTCHA is required")
        return self

    @field_validator("egress_ips", "recaptcha_actions", mode="before")
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
    "pagination_secret_arn": "PAGINATION_SECRET_ARN",
    "recaptcha_required": "RECAPTCHA_REQUIRED",
    "recaptcha_secret_arn": "RECAPTCHA_SECRET_ARN",
    "recaptcha_min_score": "RECAPTCHA_MIN_SCORE",
    "recaptcha_actions": "RECAPTCHA_ACTIONS",
    "recaptcha_verify_url": "RECAPTCHA_VERIFY_URL",
    "egress_ips": "EGRESS_IPS",
    "cors_allow_origin": "CORS_ALLOW_ORIGIN",
    "exchange_secrets_key_id": "EXCHANGE_SECRETS_KEY_ID",
    "exchange_endpoint": "EXCHANGE_ENDPOINT",
    "exchange_timeout_ms": "EXCHANGE_TIMEOUT_MS",
    "exchange_throttle_retries": "EXCHANGE_THROTTLE_RETRIES",
    "exchange_retry_after_max_seconds": "EXCHANGE_RETRY_AFTER_MAX_SECONDS",
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
    "fanout_record_concurrency": "FANOUT_RECORD_CONCURRENCY",
    "fanout_max_concurrency": "FANOUT_MAX_CONCURRENCY",
    "fanout_equity_max_age_seconds": "FANOUT_EQUITY_MAX_AGE_SECONDS",
    "fanout_read_weight_budget": "FANOUT_READ_WEIGHT_BUDGET",
    "fanout_price_max_age_ms": "FANOUT_PRICE_MAX_AGE_MS",
    "fanout_lease_seconds": "FANOUT_LEASE_SECONDS",
    "catalog_max_age_seconds": "CATALOG_MAX_AGE_SECONDS",
    "snapshot_queue_url": "SNAPSHOT_QUEUE_URL",
    "snapshot_weight_budget": "SNAPSHOT_WEIGHT_BUDGET",
    "snapshot_spot_weight_budget": "SNAPSHOT_SPOT_WEIGHT_BUDGET",
    "snapshot_max_concurrency": "SNAPSHOT_MAX_CONCURRENCY",
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
