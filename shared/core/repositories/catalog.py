"""Plans, risk profiles and strategies: each type is one partition, so listing is a single Query."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute

from core.models.catalog import Plan, RiskProfile, Strategy
from core.repositories.table import MainTableModel

PLAN_PARTITION = "CATALOG#PLAN"
RISK_PROFILE_PARTITION = "CATALOG#RISK_PROFILE"
STRATEGY_PARTITION = "CATALOG#STRATEGY"


class PlanItem(MainTableModel):
    name = UnicodeAttribute()
    monthly_price_usd = NumberAttribute()
    max_balance_usd = NumberAttribute()
    max_api_key = NumberAttribute()
    strategy_automated = BooleanAttribute()
    public = BooleanAttribute(default=True)
    stripe_price_id = UnicodeAttribute(null=True)


class RiskProfileItem(MainTableModel):
    name = UnicodeAttribute()
    percentage = NumberAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class StrategyItem(MainTableModel):
    active = BooleanAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    exchange_id = UnicodeAttribute()
    symbol = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


def _plan(item: PlanItem) -> Plan:
    return Plan(
        id=item.sk,
        name=item.name,
        monthly_price_usd=item.monthly_price_usd,
        max_balance_usd=int(item.max_balance_usd),
        max_api_key=int(item.max_api_key),
        strategy_automated=item.strategy_automated,
        public=item.public,
        stripe_price_id=item.stripe_price_id,
    )


def _risk_profile(item: RiskProfileItem) -> RiskProfile:
    return RiskProfile(
        id=item.sk,
        name=item.name,
        percentage=item.percentage,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def _strategy(item: StrategyItem) -> Strategy:
    return Strategy(
        id=item.sk,
        active=item.active,
        name=item.name,
        description=item.description,
        exchange_id=item.exchange_id,
        symbol=item.symbol,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def _get(model: type[MainTableModel], partition: str, item_id: str) -> MainTableModel | None:
    try:
        return model.get(partition, item_id)
    except model.DoesNotExist:
        return None


class CatalogRepository:
    def list_plans(self) -> list[Plan]:
        return [_plan(item) for item in PlanItem.query(PLAN_PARTITION)]

    def get_plan(self, plan_id: str) -> Plan | None:
        item = _get(PlanItem, PLAN_PARTITION, plan_id)
        return _plan(item) if item else None  # type: ignore[arg-type]

    def list_risk_profiles(self) -> list[RiskProfile]:
        return [_risk_profile(item) for item in RiskProfileItem.query(RISK_PROFILE_PARTITION)]

    def get_risk_profile(self, profile_id: str) -> RiskProfile | None:
        item = _get(RiskProfileItem, RISK_PROFILE_PARTITION, profile_id)
        return _risk_profile(item) if item else None  # type: ignore[arg-type]

    def list_strategies(self) -> list[Strategy]:
        return [_strategy(item) for item in StrategyItem.query(STRATEGY_PARTITION)]

    def get_strategy(self, strategy_id: str) -> Strategy | None:
        item = _get(StrategyItem, STRATEGY_PARTITION, strategy_id)
        return _strategy(item) if item else None  # type: ignore[arg-type]

    # Writes are for seeding reference data; the API never changes the catalog.
    def put_plan(self, plan: Plan) -> None:
        PlanItem(pk=PLAN_PARTITION, sk=plan.id, **plan.model_dump(exclude={"id"})).save()

    def put_risk_profile(self, profile: RiskProfile) -> None:
        RiskProfileItem(pk=RISK_PROFILE_PARTITION, sk=profile.id, **profile.model_dump(exclude={"id"})).save()

    def put_strategy(self, strategy: Strategy) -> None:
        StrategyItem(pk=STRATEGY_PARTITION, sk=strategy.id, **strategy.model_dump(exclude={"id"})).save()


class CachedCatalogRepository(CatalogRepository):
    """The plans, risk profiles and strategies as a busy container keeps them (the signal fan-out reads them
    for every follower, the alerts for every trade): reference data change only when seeded, so a read
    serves for ``max_age_seconds``."""

    def __init__(self, max_age_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._max_age = max_age_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._read: dict[tuple[str, str], tuple[float, Any]] = {}

    def _cached(self, kind: str, item_id: str, read: Callable[[str], Any]) -> Any:
        now = self._clock()
        with self._lock:
            found = self._read.get((kind, item_id))
        if found is not None and now - found[0] < self._max_age:
            return found[1]
        value = read(item_id)
        with self._lock:
            self._read[(kind, item_id)] = (now, value)
        return value

    def get_plan(self, plan_id: str) -> Plan | None:
        return self._cached("plan", plan_id, super().get_plan)  # type: ignore[no-any-return]

    def get_risk_profile(self, profile_id: str) -> RiskProfile | None:
        return self._cached("profile", profile_id, super().get_risk_profile)  # type: ignore[no-any-return]

    def get_strategy(self, strategy_id: str) -> Strategy | None:
        return self._cached("strategy", strategy_id, super().get_strategy)  # type: ignore[no-any-return]
