from __future__ import annotations

from pydantic import BaseModel

from core.services.subscription import CurrentPlan


class SubscriptionTypeOut(BaseModel):
    id: str
    name: str
    maxBalanceUSD: int
    maxApiKey: int
    strategyAutomated: bool


class UserSubscriptionOut(BaseModel):
    paymentType: str
    SubscriptionType: SubscriptionTypeOut

    @classmethod
    def of(cls, current: CurrentPlan) -> UserSubscriptionOut:
        plan = current.plan
        return cls(
            paymentType=current.subscription.payment_type.value,
            SubscriptionType=SubscriptionTypeOut(
                id=plan.id,
                name=plan.name,
                maxBalanceUSD=plan.max_balance_usd,
                maxApiKey=plan.max_api_key,
                strategyAutomated=plan.strategy_automated,
            ),
        )
