"""A follow: one exchange key following one automated strategy, sized by one risk profile."""

from __future__ import annotations

from core.models.base import Model


class Follow(Model):
    """The key's exchange and symbol are the strategy's when the follow is made: a follow switches only to
    a strategy of the same exchange and symbol, so they never change (and a symbol is followed once per key)."""

    id: str
    user_id: str
    key_id: str
    exchange_id: str
    symbol: str
    strategy_id: str
    risk_profile_id: str
    active: bool
    created_at: str
    updated_at: str


class FollowChange(Model):
    """What an update asks for; ``None`` leaves a field as it is."""

    active: bool | None = None
    strategy_id: str | None = None
    risk_profile_id: str | None = None
