"""Plans the local stack gives users directly (``POST /_local/token`` with ``plan``, and the tests), with no
Stripe subscription behind them. Deployed code never assigns a plan this way: Stripe's webhooks do."""

from __future__ import annotations

from core.models.catalog import Plan
from core.models.subscription import PaymentType, UserSubscription
from core.repositories.catalog import CatalogRepository
from core.repositories.subscription import subscription_item
from core.timeutil import iso_now


def find_plan(catalog: CatalogRepository, id_or_name: str) -> Plan | None:
    """A plan by id, or by name preferring a public plan (names are not unique across public and private)."""
    plan = catalog.get_plan(id_or_name)
    if plan is not None:
        return plan
    named = [plan for plan in catalog.list_plans() if plan.name.upper() == id_or_name.upper()]
    return sorted(named, key=lambda p: not p.public)[0] if named else None


def put_subscription(user_id: str, subscription: UserSubscription) -> None:
    """Writes the user's plan record as it is given (no Stripe state, no condition)."""
    subscription_item(user_id, subscription).save()


def assign_plan(user_id: str, plan: Plan) -> UserSubscription:
    """Makes ``plan`` the user's active plan, as a completed checkout does."""
    subscription = UserSubscription(plan_id=plan.id, payment_type=PaymentType.STRIPE, updated_at=iso_now())
    put_subscription(user_id, subscription)
    return subscription
