"""Shapes of the subscription routes, as the API reference documents them (amounts in cents, ISO dates)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool, StrictStr
from pydantic_core import PydanticCustomError

from core.models.base import Model
from core.models.billing import BillingInvoice, BillingSubscription
from core.schemas.types import UuidText
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
SubscriptionId = Annotated[
    StrictStr, AfterValidator(_subscription_id), Field(json_schema_extra={"format": "uuid"})
]


class SubscriptionTypeOut(Model):
    id: UuidText = Field(description="SUBSCRIPTION_ID, of a public or a private plan")
    name: str = Field(description="Active subscription type name")
    maxBalanceUSD: int = Field(description="Max allowed balance in USD")
    maxApiKey: int = Field(description="Max allowed API keys")
    strategyAutomated: bool = Field(description="Whether the plan may follow automated strategies")


class UserSubscriptionOut(Model):
    paymentType: str = Field(description="Active subscription payment type, e.g. STRIPE")
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


class StripePlanOut(Model):
    amount: int = Field(description="The unit amount in cents to be charged")
    currency: str = Field(description="Three-letter ISO currency code, in lowercase")
    interval: str = Field(description="How often the subscription is billed: day, week, month or year")
    trialPeriodDays: int | None = Field(description="Default number of trial days")


class StripeSubscriptionOut(Model):
    cancelAtPeriodEnd: bool = Field(
        description="Whether the subscription cancels at the current period's end"
    )
    cancelAt: str | None = Field(
        description="If the subscription has been canceled, the date of that cancellation"
    )
    currentPeriodStart: str = Field(description="Start of the current period that has been invoiced")
    currentPeriodEnd: str = Field(description="End of the current period; a new invoice is created then")
    trialStart: str | None = Field(description="If the subscription has a trial, its beginning")
    trialEnd: str | None = Field(description="If the subscription has a trial, its end")
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


class CheckoutRequest(Model):
    subscriptionId: SubscriptionId = Field(description="Public SUBSCRIPTION_ID to get the checkout URL for")


class CheckoutOut(Model):
    url: str = Field(description="Stripe subscription checkout for SUBSCRIPTION_ID")
    successUrl: str = Field(description="Redirect URL after checkout is a success")
    cancelUrl: str = Field(description="Redirect URL after checkout is canceled")
    # Not in the reference: the Checkout Session's id, so a client of the local stack can complete it.
    sessionId: str = Field(
        description="The Checkout Session's id (POST /_local/stripe/checkout/{sessionId}/complete)"
    )

    @classmethod
    def of(cls, checkout: CheckoutResult) -> CheckoutOut:
        return cls(
            url=checkout.url,
            successUrl=checkout.success_url,
            cancelUrl=checkout.cancel_url,
            sessionId=checkout.session_id,
        )


class StripeSubscriptionUpdate(Model):
    cancelAtPeriodEnd: StrictBool | None = Field(
        None, description="Whether the subscription should cancel at the end of the current period"
    )
    subscriptionId: SubscriptionId | None = Field(
        None, description="Public SUBSCRIPTION_ID to change the subscription plan to"
    )

    def change(self) -> SubscriptionChange:
        return SubscriptionChange(cancel_at_period_end=self.cancelAtPeriodEnd, plan_id=self.subscriptionId)


class InvoiceOut(Model):
    number: str | None = Field(description="The invoice number on the emails the customer receives")
    currency: str = Field(description="Three-letter ISO currency code, in lowercase")
    amountPaid: int = Field(description="The amount paid, in cents")
    periodStart: str | None = Field(description="Start of the usage period the invoice covers")
    periodEnd: str | None = Field(description="End of the usage period the invoice covers")
    hostedUrl: str | None = Field(description="The hosted invoice page")
    pdf: str | None = Field(description="The link to download the invoice's PDF")
    createdAt: str = Field(description="When the invoice was created")

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


class WebhookReceived(Model):
    """The answer to a verified Stripe event."""

    received: Literal[True] = Field(description="Always true: Stripe stops retrying on any 2xx")
