from __future__ import annotations

from core.models.catalog import Plan, RiskProfile, Strategy
from core.repositories.catalog import CatalogRepository


def public_plans(catalog: CatalogRepository) -> list[Plan]:
    """Plans anyone may buy, cheapest first. Private plans are assigned to users, never listed."""
    return sorted(
        (plan for plan in catalog.list_plans() if plan.public), key=lambda p: (p.monthly_price_usd, p.name)
    )


def risk_profiles(catalog: CatalogRepository) -> list[RiskProfile]:
    return sorted(catalog.list_risk_profiles(), key=lambda profile: (profile.percentage, profile.name))


def strategies(catalog: CatalogRepository) -> list[Strategy]:
    return sorted(catalog.list_strategies(), key=lambda strategy: (strategy.created_at, strategy.name))


class CatalogService:
    """The reference data anyone may read: plans for sale, risk profiles, strategies."""

    def __init__(self, catalog: CatalogRepository) -> None:
        self._catalog = catalog

    def public_plans(self) -> list[Plan]:
        return public_plans(self._catalog)

    def risk_profiles(self) -> list[RiskProfile]:
        return risk_profiles(self._catalog)

    def strategies(self) -> list[Strategy]:
        return strategies(self._catalog)
