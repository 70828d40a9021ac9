"""Shapes of the follow routes and of the automated history, as the API reference documents them."""

from __future__ import annotations

from pydantic import BaseModel, StrictBool

from core.api.fields import Uuid
from core.models.follows import FollowChange
from core.schemas.trading import history_fields
from core.schemas.types import JsonNumber
from core.services.follows import FollowView, NewFollow, StrategyTrade


class FollowCreate(BaseModel):
    """POST /v1/priv/strategy/follow/exchange/key/{API_KEY_ID}"""

    active: StrictBool = True
    strategyAutomatedId: Uuid
    strategyRiskProfileId: Uuid

    def to_request(self) -> NewFollow:
        return NewFollow(
            strategy_id=self.strategyAutomatedId,
            risk_profile_id=self.strategyRiskProfileId,
            active=self.active,
        )


class FollowUpdate(BaseModel):
    """PUT /v1/priv/strategy/follow/{STRATEGY_FOLLOW_ID}: every field optional."""

    active: StrictBool | None = None
    strategyAutomatedId: Uuid | None = None
    strategyRiskProfileId: Uuid | None = None

    def to_change(self) -> FollowChange:
        return FollowChange(
            active=self.active,
            strategy_id=self.strategyAutomatedId,
            risk_profile_id=self.strategyRiskProfileId,
        )


class FollowedStrategyOut(BaseModel):
    id: str
    active: bool
    exchangeId: str
    symbol: str


class FollowRiskProfileOut(BaseModel):
    id: str
    percentage: JsonNumber | None


class FollowOut(BaseModel):
    id: str
    active: bool
    createdAt: str
    updatedAt: str
    StrategyAutomated: FollowedStrategyOut
    StrategyRiskProfile: FollowRiskProfileOut

    @classmethod
    def of(cls, view: FollowView) -> FollowOut:
        follow, strategy, profile = view.follow, view.strategy, view.risk_profile
        return cls(
            id=follow.id,
            active=follow.active,
            createdAt=follow.created_at,
            updatedAt=follow.updated_at,
            StrategyAutomated=FollowedStrategyOut(
                id=follow.strategy_id,
                # A strategy the catalog no longer holds is not one anybody follows actively.
                active=strategy.active if strategy else False,
                exchangeId=strategy.exchange_id if strategy else follow.exchange_id,
                symbol=strategy.symbol if strategy else follow.symbol,
            ),
            StrategyRiskProfile=FollowRiskProfileOut(
                id=follow.risk_profile_id, percentage=profile.percentage if profile else None
            ),
        )


class FollowList(BaseModel):
    items: list[FollowOut]


class TriggerStrategyOut(BaseModel):
    name: str | None
    exchangeId: str | None
    symbol: str


class StrategyTriggerOut(BaseModel):
    StrategyAutomated: TriggerStrategyOut
    tradeSide: str


class StrategyHistoryItem(BaseModel):
    """One order a followed strategy placed; the fields in the reference's order."""

    orderId: str | None
    price: JsonNumber | None
    amount: JsonNumber | None
    cost: JsonNumber | None
    stop: JsonNumber | None
    stopType: str | None
    takeProfit: list[JsonNumber]
    trailingTriggerPrice: JsonNumber | None
    leverage: int | None
    callbackRate: JsonNumber | None
    riskProfilePercent: JsonNumber | None
    createdAt: str
    StrategyAutomatedTrigger: StrategyTriggerOut

    @classmethod
    def of(cls, trade: StrategyTrade) -> StrategyHistoryItem:
        record, strategy = trade.record, trade.strategy
        return cls(
            **history_fields(record),
            leverage=record.leverage,
            StrategyAutomatedTrigger=StrategyTriggerOut(
                StrategyAutomated=TriggerStrategyOut(
                    name=strategy.name if strategy else None,
                    exchangeId=strategy.exchange_id if strategy else None,
                    symbol=strategy.symbol if strategy else record.symbol,
                ),
                tradeSide=record.side.value,
            ),
        )


class StrategyHistory(BaseModel):
    items: list[StrategyHistoryItem]
    nextToken: str | None
