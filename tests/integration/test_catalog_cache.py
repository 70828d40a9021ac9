"""The busy containers' catalog: a plan, risk profile or strategy read serves for its max age, then is read again."""

from __future__ import annotations

from tests.support import PROFESSIONAL

MODERATE = "3dc38f3d-4b4e-43b3-a102-e250b7cd3551"
STRATEGY = "b9f67eb2-1d6e-4a47-a735-d0d9039c9b08"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_read_serves_for_its_max_age_then_the_seeded_change_is_seen(aws):
    from core.repositories.catalog import CachedCatalogRepository, CatalogRepository

    clock = Clock()
    cached, store = CachedCatalogRepository(60, clock), CatalogRepository()
    plan, profile = cached.get_plan(PROFESSIONAL), cached.get_risk_profile(MODERATE)
    strategy = cached.get_strategy(STRATEGY)
    assert plan is not None
    assert profile is not None
    assert strategy is not None
    # When an operator seeds new values
    store.put_plan(plan.model_copy(update={"max_balance_usd": 1}))
    store.put_risk_profile(profile.model_copy(update={"percentage": 9.0}))
    store.put_strategy(strategy.model_copy(update={"name": "Renamed"}))
    # Then the container keeps its reads for the max age
    clock.now += 59
    assert cached.get_plan(PROFESSIONAL) == plan
    assert cached.get_risk_profile(MODERATE) == profile
    assert cached.get_strategy(STRATEGY) == strategy
    # And reads them again after it
    clock.now += 2
    again, profile_again = cached.get_plan(PROFESSIONAL), cached.get_risk_profile(MODERATE)
    assert again is not None
    assert again.max_balance_usd == 1
    assert profile_again is not None
    assert profile_again.percentage == 9.0
    assert (cached.get_strategy(STRATEGY) or strategy).name == "Renamed"
    assert cached.get_plan("no-such-plan") is None
