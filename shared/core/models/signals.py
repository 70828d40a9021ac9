"""A strategy's signal, the trigger it records, and what became of it on each follower's account."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from core.models.base import Model
from core.models.trading import EntryType, Side, StopTriggerType


class SignalAction(StrEnum):
    OPEN = "OPEN"
    CLOSE = "CLOSE"


class Outcome(StrEnum):
    PLACED = "PLACED"
    SKIPPED = "SKIPPED"
    FAILED = "FAILED"


class SkipReason(StrEnum):
    SLIPPAGE = "SLIPPAGE"
    BELOW_MINIMUM = "BELOW_MINIMUM"
    KEY_INACTIVE = "KEY_INACTIVE"
    PLAN = "PLAN"
    INSUFFICIENT_MARGIN = "INSUFFICIENT_MARGIN"


class Signal(Model):
    """A checked signal: a manual order without an amount, plus how to fan it out."""

    action: SignalAction = SignalAction.OPEN
    side: Side | None = None
    type: EntryType = EntryType.MARKET
    price: float | None = None
    take_profit_prices: list[float] = Field(default_factory=list)
    stop_trigger_price: float | None = None
    stop_trigger_type: StopTriggerType | None = None
    stop_price: float | None = None
    leverage: int = 1
    signal_id: str | None = None
    timestamp: str | None = None
    max_slippage_percent: float | None = None
    move_stop_to_entry_after_take_profit: bool = False


class Trigger(Model):
    """``StrategyAutomatedTrigger``: one signal of one strategy, recorded before it fans out."""

    id: str
    strategy_id: str
    signal: Signal
    received_at: str
    followers: int = 0
    dispatched: bool = False  # every message is on the queue


class FollowerOutcome(Model):
    trigger_id: str
    follow_id: str
    key_id: str
    user_id: str
    outcome: Outcome
    reason: str | None = None
    amount: float | None = None
    trade_id: str | None = None


class FanOutOrder(Model):
    """One queue message: one trigger on one follower's account (or, without a follow, the track record)."""

    trigger_id: str
    strategy_id: str
    follow_id: str | None = None
    user_id: str | None = None
    key_id: str | None = None
