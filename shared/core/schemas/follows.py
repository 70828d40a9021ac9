"""Shapes of the follow routes and of the automated history, as the API reference documents them."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictBool

from core.api.fields import Uuid
from core.models.base import Model
from core.models.follows import FollowChange
from core.schemas.trading import history_fields
from core.schemas.types import DateTimeText, JsonNumber, UuidText
from core.services.follows import FollowView, NewFollow, StrategyTrade

# An input id: the validator refuses anything but a canonical UUID; the format is for the document.
UuidInput = Annotated[Uuid, Field(json_schema_extra={"format": "uuid"})]


class FollowCreate(Model):
    """POST /v1/priv/strategy/follow/exchange/key/{API_KEY_ID}"""

    active: StrictBool = Field(True, description="Follow status of the automated strategy")
    strategyAutomatedId: UuidInput = Field(
        description="STRATEGY_ID: must be active, on the key's exchange (List Strategy Automated)"
    )
    strategyRiskProfileId: UuidInput = Field(description="STRATEGY_PROFILE_ID (List Strategy Risk Profile)")

    def to_request(self) -> NewFollow:
        return NewFollow(
            strategy_id=self.strategyAutomatedId,
            risk_profile_id=self.strategyRiskProfileId,
            active=self.active,
        )


class FollowUpdate(Model):
    """PUT /v1/priv/strategy/follow/{STRATEGY_FOLLOW_ID}: every field optional."""

    active: StrictBool | None = Field(
        None, description="Follow status; true needs the key to be active and AUTHORIZED"
    )
    strategyAutomatedId: UuidInput | None = Field(
        None, description="STRATEGY_ID: must be active, with the same exchange and symbol as before"
    )
    strategyRiskProfileId: UuidInput | None = Field(None, description="STRATEGY_PROFILE_ID")

    def to_change(self) -> FollowChange:
        return FollowChange(
            active=self.active,
            strategy_id=self.strategyAutomatedId,
            risk_profile_id=self.strategyRiskProfileId,
        )


class FollowedStrategyOut(Model):
    id: UuidText = Field(description="STRATEGY_ID (List Strategy Automated)")
    active: bool = Field(description="Strategy active status")
    exchangeId: str = Field(description="EXCHANGE_ID")
    symbol: str = Field(description="Strategy exchange symbol")


class FollowRiskProfileOut(Model):
    id: UuidText = Field(description="STRATEGY_PROFILE_ID (List Strategy Risk Profile)")
    percentage: JsonNumber | None = Field(description="Risk of equity per trade, in percent")


class FollowOut(Model):
    id: UuidText = Field(description="STRATEGY_FOLLOW_ID")
    active: bool = Field(description="Follow status of the automated strategy")
    createdAt: DateTimeText = Field(description="First created datetime")
    updatedAt: DateTimeText = Field(description="Last updated datetime")
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


class FollowList(Model):
    items: list[FollowOut]


class TriggerStrategyOut(Model):
    name: str | None
    exchangeId: str | None
    symbol: str


class StrategyTriggerOut(Model):
    StrategyAutomated: TriggerStrategyOut
    tradeSide: str


class StrategyHistoryItem(Model):
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


class StrategyHistory(Model):
    items: list[StrategyHistoryItem]
    nextToken: str | None = Field(description="Pass as nextToken for the next page; null on the last")
