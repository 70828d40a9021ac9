from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.models.catalog import Plan
from core.models.subscription import UserSubscription

if TYPE_CHECKING:  # handed in by core.wiring
    from core.repositories.catalog import CatalogRepository
    from core.repositories.subscription import SubscriptionRepository

# Stripe statuses under which the plan binds. past_due keeps it: Stripe is still retrying the payment and
# ends the subscription itself when its retries run out (then canceled, or unpaid: both drop the plan).
ACTIVE_STATUSES = frozenset({"active", "trialing", "past_due"})


@dataclass(frozen=True)
class CurrentPlan:
    subscription: UserSubscription
    plan: Plan


def current_plan(
    subscriptions: SubscriptionRepository, catalog: CatalogRepository, user_id: str
) -> CurrentPlan | None:
    """The plan whose limits bind the user now, or None without an active subscription."""
    return plan_of_subscription(subscriptions.get(user_id), catalog)


def plan_of_subscription(
    subscription: UserSubscription | None, catalog: CatalogRepository
) -> CurrentPlan | None:
    """The plan a subscription record binds its user to (``current_plan`` of a record already read)."""
    if subscription is None or subscription.status not in ACTIVE_STATUSES:
        return None
    plan = catalog.get_plan(subscription.plan_id)
    if plan is None:
        return None
    return CurrentPlan(subscription=subscription, plan=plan)


class SubscriptionService:
    """The plan record that binds a user: what Stripe's webhooks wrote, or a plan assigned directly."""

    def __init__(self, subscriptions: SubscriptionRepository, catalog: CatalogRepository) -> None:
        self._subscriptions = subscriptions
        self._catalog = catalog

    def current_plan(self, user_id: str) -> CurrentPlan | None:
        return current_plan(self._subscriptions, self._catalog, user_id)
