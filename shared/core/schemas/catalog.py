from __future__ import annotations

from pydantic import Field

from core.models.base import Model
from core.models.catalog import Plan, RiskProfile, Strategy
from core.schemas.types import JsonNumber


class PlanOut(Model):
    id: str = Field(description="SUBSCRIPTION_ID")
    name: str = Field(description="Subscription name")
    monthlyPriceUSD: JsonNumber = Field(description="Subscription monthly price in USD")
    maxBalanceUSD: int = Field(description="Max allowed account balance in USD")
    maxApiKey: int = Field(description="Max allowed account API keys")
    strategyAutomated: bool = Field(description="Whether the plan may follow automated strategies")

    @classmethod
    def of(cls, plan: Plan) -> PlanOut:
        return cls(
            id=plan.id,
            name=plan.name,
            monthlyPriceUSD=plan.monthly_price_usd,
            maxBalanceUSD=plan.max_balance_usd,
            maxApiKey=plan.max_api_key,
            strategyAutomated=plan.strategy_automated,
        )


class PlanList(Model):
    items: list[PlanOut]


class RiskProfileOut(Model):
    id: str = Field(description="STRATEGY_PROFILE_ID")
    name: str = Field(description="Strategy profile name")
    percentage: JsonNumber = Field(description="Risk of equity per trade, in percent")
    createdAt: str = Field(description="Strategy risk profile created at")
    updatedAt: str = Field(description="Strategy risk profile updated at")

    @classmethod
    def of(cls, profile: RiskProfile) -> RiskProfileOut:
        return cls(
            id=profile.id,
            name=profile.name,
            percentage=profile.percentage,
            createdAt=profile.created_at,
            updatedAt=profile.updated_at,
        )


class RiskProfileList(Model):
    items: list[RiskProfileOut]


class StrategyOut(Model):
    id: str = Field(description="STRATEGY_ID")
    active: bool = Field(description="Strategy active status")
    name: str = Field(description="Strategy display name")
    description: str | None = Field(description="Strategy description")
    exchangeId: str = Field(description="EXCHANGE_ID")
    symbol: str = Field(description="Strategy exchange symbol")
    createdAt: str = Field(description="Strategy created at")
    updatedAt: str = Field(description="Strategy updated at")

    @classmethod
    def of(cls, strategy: Strategy) -> StrategyOut:
        return cls(
            id=strategy.id,
            active=strategy.active,
            name=strategy.name,
            description=strategy.description,
            exchangeId=strategy.exchange_id,
            symbol=strategy.symbol,
            createdAt=strategy.created_at,
            updatedAt=strategy.updated_at,
        )


class StrategyList(Model):
    items: list[StrategyOut]
