"""Shapes of the subscription routes, as the API reference documents them (amounts in cents, ISO dates)."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import AfterValidator, BaseModel, StrictBool, StrictStr
from pydantic_core import PydanticCustomError

from core.models.billing import BillingInvoice, BillingSubscription
from core.services.billing import INVALID_SUBSCRIPTION_ID, CheckoutResult, SubscriptionChange, iso_of
from core.services.subscription import CurrentPlan


def _subscription_id(value: str) -> str:
    if len(value) != 36:  # the canonical form only; nothing long reaches the parser
        raise PydanticCustomError("subscription_id", INVALID_SUBSCRIPTION_ID)
    try:
        parsed = uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        raise PydanticCustomError("subscription_id", INVALID_SUBSCRIPTION_ID) from None
    if str(parsed) != value.lower():
        raise PydanticCustomError("subscription_id", INVALID_SUBSCRIPTION_ID)
    return value.lower()


# A plan id: a malformed one is refused with the same message as an unknown one.
SubscriptionId = Annotated[StrictStr, AfterValidator(_subscription_id)]


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


class StripePlanOut(BaseModel):
    amount: int
    currency: str
    interval: str
    trialPeriodDays: int | None


class StripeSubscriptionOut(BaseModel):
    cancelAtPeriodEnd: bool
    cancelAt: str | None
    currentPeriodStart: str
    currentPeriodEnd: str
    trialStart: str | None
    trialEnd: str | None
    plan: StripePlanOut

    @classmethod
    def of(cls, subscription: BillingSubscription) -> StripeSubscriptionOut:
        return cls(
            cancelAtPeriodEnd=subscription.cancel_at_period_end,
            cancelAt=iso_of(subscription.cancel_at),
            currentPeriodStart=iso_of(subscription.current_period_start) or "",
            currentPeriodEnd=iso_of(subscription.current_period_end) or "",
            trialStart=iso_of(subscription.trial_start),
            trialEnd=iso_of(subscription.trial_end),
            plan=StripePlanOut(
                amount=subscription.amount,
                currency=subscription.currency,
                interval=subscription.interval,
                trialPeriodDays=subscription.trial_period_days,
            ),
        )


class CheckoutRequest(BaseModel):
    subscriptionId: SubscriptionId


class CheckoutOut(BaseModel):
    url: str
    successUrl: str
    cancelUrl: str
    # Not in the reference: the Checkout Session's id, so a client of the local stack can complete it.
    sessionId: str

    @classmethod
    def of(cls, checkout: CheckoutResult) -> CheckoutOut:
        return cls(
            url=checkout.url,
            successUrl=checkout.success_url,
            cancelUrl=checkout.cancel_url,
            sessionId=checkout.session_id,
        )


class StripeSubscriptionUpdate(BaseModel):
    cancelAtPeriodEnd: StrictBool | None = None
    subscriptionId: SubscriptionId | None = None

    def change(self) -> SubscriptionChange:
        return SubscriptionChange(cancel_at_period_end=self.cancelAtPeriodEnd, plan_id=self.subscriptionId)


class InvoiceOut(BaseModel):
    number: str | None
    currency: str
    amountPaid: int
    periodStart: str | None
    periodEnd: str | None
    hostedUrl: str | None
    pdf: str | None
    createdAt: str

    @classmethod
    def of(cls, invoice: BillingInvoice) -> InvoiceOut:
        return cls(
            number=invoice.number,
            currency=invoice.currency,
            amountPaid=invoice.amount_paid,
            periodStart=iso_of(invoice.period_start),
            periodEnd=iso_of(invoice.period_end),
            hostedUrl=invoice.hosted_url,
            pdf=invoice.pdf,
            createdAt=iso_of(invoice.created) or "",
        )
