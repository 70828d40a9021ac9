from __future__ import annotations

from pydantic import BaseModel

from core.models.catalog import Plan, RiskProfile, Strategy
from core.schemas.types import JsonNumber


class PlanOut(BaseModel):
    id: str
    name: str
    monthlyPriceUSD: JsonNumber
    maxBalanceUSD: int
    maxApiKey: int
    strategyAutomated: bool

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


class PlanList(BaseModel):
    items: list[PlanOut]


class RiskProfileOut(BaseModel):
    id: str
    name: str
    percentage: JsonNumber
    createdAt: str
    updatedAt: str

    @classmethod
    def of(cls, profile: RiskProfile) -> RiskProfileOut:
        return cls(
            id=profile.id,
            name=profile.name,
            percentage=profile.percentage,
            createdAt=profile.created_at,
            updatedAt=profile.updated_at,
        )


class RiskProfileList(BaseModel):
    items: list[RiskProfileOut]


class StrategyOut(BaseModel):
    id: str
    active: bool
    name: str
    description: str | None
    exchangeId: str
    symbol: str
    createdAt: str
    updatedAt: str

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


class StrategyList(BaseModel):
    items: list[StrategyOut]
