"""The one place that answers "what may this user do" under their plan.

No plan means no exchange keys, no balance and no automated strategies.
"""

from __future__ import annotations

from core.errors import ApiBalanceLimitExceeded, ApiKeyLimitExceeded, SubscriptionFeatureUnauthorized
from core.models.catalog import Plan
from core.observability import logger
from core.repositories.catalog import CatalogRepository
from core.repositories.subscription import SubscriptionRepository
from core.services.subscription import current_plan


class PlanLimits:
    def __init__(self, subscriptions: SubscriptionRepository, catalog: CatalogRepository) -> None:
        self._subscriptions = subscriptions
        self._catalog = catalog

    def plan_of(self, user_id: str) -> Plan | None:
        current = current_plan(self._subscriptions, self._catalog, user_id)
        return current.plan if current else None

    def max_api_keys(self, user_id: str) -> int:
        plan = self.plan_of(user_id)
        return plan.max_api_key if plan else 0

    def require_key_slot(self, user_id: str, keys_held: int) -> int:
        """The plan's key limit, or 2129a when the user already holds that many (or has no plan)."""
        limit = self.max_api_keys(user_id)
        if keys_held >= limit:
            raise ApiKeyLimitExceeded(f"{keys_held} of {limit} keys held")
        return limit

    def require_balance_within(self, user_id: str, total_usd: float) -> None:
        """2129b when the user's exchange balance (all active keys, in USD) exceeds the plan's maximum."""
        plan = self.plan_of(user_id)
        if plan is None or total_usd > plan.max_balance_usd:
            raise ApiBalanceLimitExceeded(f"{total_usd} USD over the plan's limit")

    def require_strategy_automation(self, user_id: str) -> None:
        plan = self.plan_of(user_id)
        if plan is None or not plan.strategy_automated:
            raise SubscriptionFeatureUnauthorized("plan does not include automated strategies")


def on_plan_changed(user_id: str, previous: Plan | None, current: Plan | None) -> None:
    """Called once whenever the plan that binds a user changes (bought, changed, ended; ``None`` = no plan).

    The limits above need nothing here: they read the current plan on every request, so keys stay but no
    new key, balance or automation beyond the new plan is accepted. What the new plan no longer allows and
    is still running must be stopped here: the automated strategies issue will turn the user's automated
    follows off when ``current`` is None or lacks ``strategy_automated``. For now it only logs.
    """
    logger.info(
        "plan changed",
        extra={
            "user_id": user_id,
            "previous_plan": previous.id if previous else None,
            "current_plan": current.id if current else None,
            "automation_lost": bool(previous and previous.strategy_automated)
            and not (current and current.strategy_automated),
        },
    )
