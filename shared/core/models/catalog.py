"""Reference data every user sees: plans, risk profiles and automated strategies."""

from __future__ import annotations

from core.models.base import Model


class Plan(Model):
    """A subscription plan and the limits it grants. Private plans are assigned, never listed or sold."""

    id: str
    name: str
    monthly_price_usd: float
    max_balance_usd: int
    max_api_key: int
    strategy_automated: bool
    public: bool = True
    stripe_price_id: str | None = None


class RiskProfile(Model):
    """The share of equity a follower risks on one strategy trade."""

    id: str
    name: str
    percentage: float
    created_at: str
    updated_at: str


class Strategy(Model):
    id: str
    active: bool
    name: str
    description: str | None = None
    exchange_id: str
    symbol: str
    created_at: str
    updated_at: str
