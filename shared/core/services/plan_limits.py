"""The one place that answers "what may this user do" under their plan.

No plan means no exchange keys, no balance and no automated strategies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from core.errors import ApiBalanceLimitExceeded, ApiKeyLimitExceeded, SubscriptionFeatureUnauthorized
from core.models.catalog import Plan
from core.models.subscription import UserSubscription
from core.observability import logger
from core.services.subscription import plan_of_subscription

if TYPE_CHECKING:  # handed in by core.wiring
    from core.repositories.catalog import CatalogRepository
    from core.repositories.subscription import SubscriptionRepository


@dataclass(frozen=True)
class UserLimits:
    """The rules of one user's plan, read once for a request that checks several of them."""

    plan: Plan | None

    @property
    def max_api_keys(self) -> int:
        return self.plan.max_api_key if self.plan else 0

    @property
    def max_balance_usd(self) -> float:
        return self.plan.max_balance_usd if self.plan else 0

    def require_key_slot(self, keys_held: int) -> int:
        """The plan's key limit, or 2129a when the user already holds that many (or has no plan)."""
        if keys_held >= self.max_api_keys:
            raise ApiKeyLimitExceeded(f"{keys_held} of {self.max_api_keys} keys held")
        return self.max_api_keys

    def require_balance_within(self, total_usd: float) -> None:
        """2129b when the user's exchange balance (all active keys, in USD) exceeds the plan's maximum."""
        if self.plan is None or total_usd > self.plan.max_balance_usd:
            raise ApiBalanceLimitExceeded(f"{total_usd} USD over the plan's limit")

    def require_strategy_automation(self) -> None:
        if self.plan is None or not self.plan.strategy_automated:
            raise SubscriptionFeatureUnauthorized("plan does not include automated strategies")


class PlanLimits:
    def __init__(self, subscriptions: SubscriptionRepository, catalog: CatalogRepository) -> None:
        self._subscriptions = subscriptions
        self._catalog = catalog

    def plan_of(self, user_id: str) -> Plan | None:
        return self.plan_of_subscription(self._subscriptions.get(user_id))

    def plan_of_subscription(self, subscription: UserSubscription | None) -> Plan | None:
        """``plan_of`` for a subscription record already read (the fan-out reads it with the follow)."""
        current = plan_of_subscription(subscription, self._catalog)
        return current.plan if current else None

    def for_user(self, user_id: str) -> UserLimits:
        return UserLimits(self.plan_of(user_id))

    def require_strategy_automation(self, user_id: str) -> None:
        self.for_user(user_id).require_strategy_automation()


class AutomationStopper(Protocol):
    """Turns a user's automated follows off (``core.services.follows.FollowService``)."""

    def stop_user(self, user_id: str) -> int: ...


def on_plan_changed(
    user_id: str,
    previous: Plan | None,
    current: Plan | None,
    automation: AutomationStopper | None = None,
) -> None:
    """Called once whenever the plan that binds a user changes (bought, changed, ended; ``None`` = no plan).

    The limits above need nothing here: they read the current plan on every request, so keys stay but no
    new key, balance or automation beyond the new plan is accepted. What the new plan no longer allows and
    is still running is stopped here: when ``current`` is None or lacks ``strategy_automated``, the user's
    active follows are turned off (``automation``, handed in by ``core.wiring``). A later plan that allows
    automation again does not turn them back on: the user does.
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
    if automation is not None and not (current and current.strategy_automated):
        automation.stop_user(user_id)
