"""Exchange keys, their balances and permissions, as the business logic sees them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from pydantic import Field

from core.models.base import Model


class ExchangeId(StrEnum):
    BINANCE = "BINANCE"


class TradeType(StrEnum):
    SPOT = "SPOT"
    FUTURES = "FUTURES"


class StrategyType(StrEnum):
    AUTOMATED = "AUTOMATED"
    MANUAL = "MANUAL"


class KeyStatus(StrEnum):
    AUTHORIZED = "AUTHORIZED"
    UNAUTHORIZED = "UNAUTHORIZED"
    FAILED = "FAILED"


class ExchangeKey(Model):
    id: str
    user_id: str
    exchange_id: ExchangeId
    trade_type: TradeType
    strategy_type: StrategyType
    active: bool
    name: str
    api_key: str
    status: KeyStatus
    created_at: str
    updated_at: str
    # The newest daily snapshot (or the value measured when the key was added), for the total balance.
    balance_usd: float | None = None
    balance_date: str | None = None


class Balance(Model):
    """Amounts per asset, as the exchange reports them."""

    free: dict[str, float] = Field(default_factory=dict)
    used: dict[str, float] = Field(default_factory=dict)
    total: dict[str, float] = Field(default_factory=dict)


class KeyPermissions(Model):
    can_read: bool
    can_trade_spot: bool
    can_trade_futures: bool
    can_withdraw: bool
    ip_restricted: bool


class BalanceSnapshot(Model):
    key_id: str
    date: str
    total_usd: float


SnapshotPurpose = Literal["DAILY", "EQUITY"]


class SnapshotOrder(Model):
    """One message of the snapshot queue: take ``date``'s snapshot of one key (DAILY), or read its account
    into the fan-out's equity cache (EQUITY: an AUTOMATED key, so that a signal sizes it without a read)."""

    user_id: str
    key_id: str
    date: str
    purpose: SnapshotPurpose = "DAILY"


@dataclass(frozen=True)
class KeyLimits:
    """What the plan allows a user's keys, as the key's create transaction enforces it."""

    max_keys: int
    max_balance_usd: float
