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
}


@cache
def get_settings() -> Settings:
    """The settings of this container; tests call ``get_settings.cache_clear()`` after changing the environment."""
    values = {field: os.environ[name] for field, name in _ENVIRONMENT_NAMES.items() if name in os.environ}
    return Settings(**values)
