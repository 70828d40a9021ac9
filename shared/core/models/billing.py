"""What the payment provider (Stripe) tells the business logic, reduced to the fields it uses.

Times are Unix seconds, amounts are in the currency's minor unit (cents), as Stripe gives them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BillingPrice:
    id: str
    plan_id: str | None  # the price's lookup_key: the id of the plan it sells


@dataclass(frozen=True)
class BillingSubscription:
    id: str
    customer_id: str
    status: str  # active, trialing, past_due, unpaid, canceled, incomplete, incomplete_expired, paused
    plan_id: str | None  # the lookup_key of its (first) item's price
    item_id: str
    price_id: str
    cancel_at_period_end: bool
    cancel_at: int | None
    current_period_start: int
    current_period_end: int
    trial_start: int | None
    trial_end: int | None
    amount: int
    currency: str
    interval: str
    trial_period_days: int | None
    user_id: str | None = None  # the metadata this service set on it


@dataclass(frozen=True)
class BillingInvoice:
    number: str | None
    currency: str
    amount_paid: int
    period_start: int | None  # the service period its subscription lines cover
    period_end: int | None
    hosted_url: str | None
    pdf: str | None
    created: int


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str


@dataclass(frozen=True)
class BillingEvent:
    """A verified webhook event, reduced to what locates the subscription it concerns."""

    id: str
    type: str
    subscription_id: str | None
    customer_id: str | None
    user_id: str | None  # client_reference_id or the metadata this service set
