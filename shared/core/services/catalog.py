from __future__ import annotations

from core.models.catalog import Plan, RiskProfile, Strategy
from core.repositories.catalog import CatalogRepository


class CatalogService:
    """The reference data anyone may read: plans for sale, risk profiles, strategies."""

    def __init__(self, catalog: CatalogRepository) -> None:
        self._catalog = catalog

    def public_plans(self) -> list[Plan]:
        """Plans anyone may buy, cheapest first. Private plans are assigned to users, never listed."""
        plans = (plan for plan in self._catalog.list_plans() if plan.public)
        return sorted(plans, key=lambda p: (p.monthly_price_usd, p.name))

    def risk_profiles(self) -> list[RiskProfile]:
        return sorted(
            self._catalog.list_risk_profiles(), key=lambda profile: (profile.percentage, profile.name)
        )

    def strategies(self) -> list[Strategy]:
        return sorted(
            self._catalog.list_strategies(), key=lambda strategy: (strategy.created_at, strategy.name)
        )
