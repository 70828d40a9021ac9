"""The fan-out's catalog: a plan or risk profile read serves for its max age, then is read again."""

from __future__ import annotations

from tests.support import PROFESSIONAL

MODERATE = "3dc38f3d-4b4e-43b3-a102-e250b7cd3551"


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
    assert plan is not None
    assert profile is not None
    # When an operator seeds new values
    store.put_plan(plan.model_copy(update={"max_balance_usd": 1}))
    store.put_risk_profile(profile.model_copy(update={"percentage": 9.0}))
    # Then the container keeps its reads for the max age
    clock.now += 59
    assert cached.get_plan(PROFESSIONAL) == plan
    assert cached.get_risk_profile(MODERATE) == profile
    # And reads them again after it
    clock.now += 2
    again, profile_again = cached.get_plan(PROFESSIONAL), cached.get_risk_profile(MODERATE)
    assert again is not None
    assert again.max_balance_usd == 1
    assert profile_again is not None
    assert profile_again.percentage == 9.0
    assert cached.get_plan("no-such-plan") is None
