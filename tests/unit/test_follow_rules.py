"""The follow rules with in-memory stand-ins: which refusal comes first, what is written, what stops."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.errors import (
    ExchangeIdMismatch,
    ExchangeKeyInactive,
    ExchangeKeyTypeInvalid,
    ExchangeSymbolAlreadyFollowed,
    ExchangeSymbolMismatch,
    FieldValidationError,
    NotFoundError,
    SubscriptionFeatureUnauthorized,
)
from core.models.catalog import Plan, RiskProfile, Strategy
from core.models.exchange import ExchangeId, ExchangeKey, KeyStatus, StrategyType, TradeType
from core.models.follows import Follow, FollowChange
from core.services.follows import FollowService, NewFollow
from core.services.plan_limits import UserLimits, on_plan_changed

USER = "user-a"
OTHER = "user-b"
STAMP = "2022-09-09T01:57:36.304Z"
BTC_1, BTC_2, ETH, OFF = "s-btc-1", "s-btc-2", "s-eth", "s-off"
LOW, HIGH = "p-low", "p-high"


def strategy(
    strategy_id: str, symbol: str = "BTC/USDT", active: bool = True, exchange: str = "BINANCE"
) -> Strategy:
    return Strategy(
        id=strategy_id,
        active=active,
        name=strategy_id,
        exchange_id=exchange,
        symbol=symbol,
        created_at=STAMP,
        updated_at=STAMP,
    )


def key(key_id: str = "k1", user: str = USER, **fields: object) -> ExchangeKey:
    values: dict[str, object] = {
        "id": key_id,
        "user_id": user,
        "exchange_id": ExchangeId.BINANCE,
        "trade_type": TradeType.FUTURES,
        "strategy_type": StrategyType.AUTOMATED,
        "active": True,
        "name": "bot",
        "api_key": "x" * 64,
        "status": KeyStatus.AUTHORIZED,
        "created_at": STAMP,
        "updated_at": STAMP,
        **fields,
    }
    return ExchangeKey.model_validate(values)


class FakeCatalog:
    def __init__(self) -> None:
        self.strategies = {
            s.id: s
            for s in (
                strategy(BTC_1),
                strategy(BTC_2),
                strategy(ETH, "ETH/USDT"),
                strategy(OFF, active=False),
            )
        }
        self.profiles = {
            LOW: RiskProfile(id=LOW, name="LOW", percentage=1.5, created_at=STAMP, updated_at=STAMP),
            HIGH: RiskProfile(id=HIGH, name="HIGH", percentage=3, created_at=STAMP, updated_at=STAMP),
        }

    def get_strategy(self, strategy_id: str) -> Strategy | None:
        return self.strategies.get(strategy_id)

    def get_risk_profile(self, profile_id: str) -> RiskProfile | None:
        return self.profiles.get(profile_id)

    def list_strategies(self) -> list[Strategy]:
        return list(self.strategies.values())

    def list_risk_profiles(self) -> list[RiskProfile]:
        return list(self.profiles.values())


class FakeKeys:
    def __init__(self, *keys: ExchangeKey) -> None:
        self.keys = {(k.user_id, k.id): k for k in keys}

    def get(self, user_id: str, key_id: str) -> ExchangeKey | None:
        return self.keys.get((user_id, key_id))


class FakeFollows:
    """The repository's contract: one symbol per key, versions, the followers index of active follows."""

    def __init__(self, keys: FakeKeys) -> None:
        self.items: dict[str, tuple[Follow, int]] = {}
        self.keys = keys
        self.lose_races = 0  # the next N replaces find the version changed

    def get(self, user_id: str, follow_id: str) -> tuple[Follow, int] | None:
        found = self.items.get(follow_id)
        return found if found and found[0].user_id == user_id else None

    def of_key(self, key_id: str) -> list[Follow]:
        return [f for f, _ in self.items.values() if f.key_id == key_id]

    def of_user(self, user_id: str) -> list[Follow]:
        return [f for f, _ in self.items.values() if f.user_id == user_id]

    def active_followers(self, strategy_id: str) -> Iterator[Follow]:
        return iter([f for f, _ in self.items.values() if f.active and f.strategy_id == strategy_id])

    def _key_live(self, follow: Follow) -> bool:
        found = self.keys.get(follow.user_id, follow.key_id)
        return found is not None and found.active and found.status is KeyStatus.AUTHORIZED

    def create(self, follow: Follow) -> None:
        if follow.active and not self._key_live(follow):
            raise ExchangeKeyInactive
        if any(f.key_id == follow.key_id and f.symbol == follow.symbol for f, _ in self.items.values()):
            raise ExchangeSymbolAlreadyFollowed
        self.items[follow.id] = (follow, 1)

    def replace(self, follow: Follow, version: int, key_must_be_live: bool = True) -> bool:
        if self.lose_races:
            self.lose_races -= 1
            return False
        found = self.keys.get(follow.user_id, follow.key_id)
        if follow.active and (
            found is None or not found.active or (key_must_be_live and not self._key_live(follow))
        ):
            raise ExchangeKeyInactive
        if self.items[follow.id][1] != version:
            return False
        self.items[follow.id] = (follow, version + 1)
        return True

    def deactivate(self, follow: Follow, now: str) -> bool:
        current, version = self.items[follow.id]
        self.items[follow.id] = (current.model_copy(update={"active": False, "updated_at": now}), version + 1)
        return True


class FakeLimits:
    def __init__(self, automation: bool = True) -> None:
        self.automation = automation

    def require_strategy_automation(self, user_id: str) -> None:
        if not self.automation:
            raise SubscriptionFeatureUnauthorized


@pytest.fixture
def keys() -> FakeKeys:
    return FakeKeys(
        key("k1"), key("k2"), key("manual", strategy_type=StrategyType.MANUAL), key("theirs", OTHER)
    )


@pytest.fixture
def follows(keys: FakeKeys) -> FakeFollows:
    return FakeFollows(keys)


@pytest.fixture
def limits() -> FakeLimits:
    return FakeLimits()


@pytest.fixture
def service(follows: FakeFollows, keys: FakeKeys, limits: FakeLimits) -> FollowService:
    return FollowService(follows, keys, FakeCatalog(), limits)  # type: ignore[arg-type]


def test_a_follow_takes_the_strategys_exchange_and_symbol(
    service: FollowService, follows: FakeFollows
) -> None:
    view = service.follow(USER, "k1", NewFollow(ETH, HIGH))
    assert (view.follow.exchange_id, view.follow.symbol, view.follow.active) == ("BINANCE", "ETH/USDT", True)
    assert view.risk_profile is not None
    assert view.risk_profile.percentage == 3
    assert [f.id for f in service.active_followers(ETH)] == [view.follow.id]


def test_field_errors_come_first_and_together(service: FollowService) -> None:
    # even on someone else's key: the ids name public catalog entries, nothing about the key is revealed
    with pytest.raises(FieldValidationError) as raised:
        service.follow(USER, "theirs", NewFollow(OFF, "p-none"))
    assert [(e.param, e.msg) for e in raised.value.errors] == [
        ("strategyAutomatedId", "must be active strategy automated id"),
        ("strategyRiskProfileId", "must be valid strategy risk profile id"),
    ]


@pytest.mark.parametrize(
    ("key_id", "change", "error"),
    [
        ("missing", {}, NotFoundError),
        ("theirs", {}, NotFoundError),
        ("manual", {}, ExchangeKeyTypeInvalid),
        ("k1", {"active": False}, ExchangeKeyInactive),
        ("k1", {"status": KeyStatus.UNAUTHORIZED}, ExchangeKeyInactive),
        ("k1", {"status": KeyStatus.FAILED}, ExchangeKeyInactive),
    ],
)
def test_the_key_must_be_the_callers_automated_active_and_authorized(
    keys: FakeKeys, service: FollowService, key_id: str, change: dict[str, object], error: type[Exception]
) -> None:
    if change:
        keys.keys[(USER, key_id)] = keys.keys[(USER, key_id)].model_copy(update=change)
    with pytest.raises(error):
        service.follow(USER, key_id, NewFollow(BTC_1, LOW))


def test_an_inactive_follow_may_wait_on_a_key_that_is_not_authorized_yet(
    keys: FakeKeys, service: FollowService
) -> None:
    keys.keys[(USER, "k1")] = keys.keys[(USER, "k1")].model_copy(update={"status": KeyStatus.FAILED})
    assert service.follow(USER, "k1", NewFollow(BTC_1, LOW, active=False)).follow.active is False


def test_the_plan_is_checked_after_the_key(limits: FakeLimits, service: FollowService) -> None:
    limits.automation = False
    with pytest.raises(ExchangeKeyTypeInvalid):
        service.follow(USER, "manual", NewFollow(BTC_1, LOW))
    with pytest.raises(SubscriptionFeatureUnauthorized):
        service.follow(USER, "k1", NewFollow(BTC_1, LOW))


def test_another_exchange_is_1206_and_a_followed_symbol_1309(service: FollowService) -> None:
    catalog = service._catalog  # the fake
    catalog.strategies["s-kraken"] = strategy("s-kraken", exchange="KRAKEN")  # type: ignore[attr-defined]
    with pytest.raises(ExchangeIdMismatch):
        service.follow(USER, "k1", NewFollow("s-kraken", LOW))
    service.follow(USER, "k1", NewFollow(BTC_1, LOW))
    with pytest.raises(ExchangeSymbolAlreadyFollowed):
        service.follow(USER, "k1", NewFollow(BTC_2, LOW))
    service.follow(USER, "k2", NewFollow(BTC_2, LOW))  # the same symbol on another key is fine


def test_update_switches_only_within_exchange_and_symbol(service: FollowService) -> None:
    created = service.follow(USER, "k1", NewFollow(BTC_1, LOW)).follow
    with pytest.raises(ExchangeSymbolMismatch):
        service.update(USER, created.id, FollowChange(strategy_id=ETH))
    service._catalog.strategies["s-kraken"] = strategy("s-kraken", exchange="KRAKEN")  # type: ignore[attr-defined]
    with pytest.raises(ExchangeIdMismatch):
        service.update(USER, created.id, FollowChange(strategy_id="s-kraken"))
    switched = service.update(USER, created.id, FollowChange(strategy_id=BTC_2, risk_profile_id=HIGH))
    assert (switched.follow.strategy_id, switched.follow.risk_profile_id) == (BTC_2, HIGH)
    assert [f.id for f in service.active_followers(BTC_2)] == [created.id]
    assert list(service.active_followers(BTC_1)) == []


def test_update_of_someone_elses_follow_is_not_found(service: FollowService) -> None:
    created = service.follow(USER, "k1", NewFollow(BTC_1, LOW)).follow
    with pytest.raises(NotFoundError):
        service.update(OTHER, created.id, FollowChange(active=False))


def test_turning_on_needs_a_live_key_and_the_plan(
    keys: FakeKeys, limits: FakeLimits, service: FollowService
) -> None:
    created = service.follow(USER, "k1", NewFollow(BTC_1, LOW, active=False)).follow
    limits.automation = False
    with pytest.raises(SubscriptionFeatureUnauthorized):
        service.update(USER, created.id, FollowChange(active=True))
    limits.automation = True
    del keys.keys[(USER, "k1")]
    with pytest.raises(ExchangeKeyInactive):
        service.update(USER, created.id, FollowChange(active=True))
    # turning off needs neither
    assert service.update(USER, created.id, FollowChange(active=False)).follow.active is False


def test_an_update_that_loses_a_race_reads_again(follows: FakeFollows, service: FollowService) -> None:
    created = service.follow(USER, "k1", NewFollow(BTC_1, LOW)).follow
    follows.lose_races = 2
    assert service.update(USER, created.id, FollowChange(risk_profile_id=HIGH)).follow.risk_profile_id == HIGH


def test_stop_key_stops_only_that_keys_follows(service: FollowService) -> None:
    first = service.follow(USER, "k1", NewFollow(BTC_1, LOW)).follow
    second = service.follow(USER, "k2", NewFollow(BTC_2, LOW)).follow
    assert service.stop_key(USER, "k1") == 1
    assert [f.id for f in service.active_followers(BTC_1)] == []
    assert [f.id for f in service.active_followers(BTC_2)] == [second.id]
    assert first.id != second.id


def test_stop_user_stops_every_follow_of_the_user(keys: FakeKeys, service: FollowService) -> None:
    service.follow(USER, "k1", NewFollow(BTC_1, LOW))
    service.follow(USER, "k2", NewFollow(ETH, LOW))
    theirs = service.follow(OTHER, "theirs", NewFollow(BTC_1, LOW)).follow
    assert service.stop_user(USER) == 2
    assert [f.id for f in service.active_followers(BTC_1)] == [theirs.id]
    assert service.stop_user(USER) == 0  # nothing left to stop


class Stopper:
    def __init__(self) -> None:
        self.stopped: list[str] = []

    def stop_user(self, user_id: str) -> int:
        self.stopped.append(user_id)
        return 1


def plan(automation: bool) -> Plan:
    return Plan(
        id=f"plan-{automation}",
        name="P",
        monthly_price_usd=20,
        max_balance_usd=2500,
        max_api_key=2,
        strategy_automated=automation,
    )


@pytest.mark.parametrize(
    ("previous", "current", "stops"),
    [
        (plan(True), None, True),  # ended
        (plan(True), plan(False), True),  # downgraded
        (None, plan(True), False),  # bought
        (plan(False), plan(True), False),  # upgraded
        (plan(True), plan(True), False),  # changed, automation kept
    ],
)
def test_on_plan_changed_stops_follows_when_automation_is_lost(
    previous: Plan | None, current: Plan | None, stops: bool
) -> None:
    stopper = Stopper()
    on_plan_changed(USER, previous, current, automation=stopper)
    assert stopper.stopped == ([USER] if stops else [])
    assert UserLimits(current).plan is current


def test_deleting_a_key_tells_the_listener_after_the_delete() -> None:
    from core.services.exchange_keys import ExchangeKeyService

    calls: list[str] = []

    class Keys:
        def get(self, user_id: str, key_id: str) -> ExchangeKey | None:
            return key(key_id, user_id)

        def delete(self, deleted: ExchangeKey) -> bool:
            calls.append(f"delete {deleted.id}")
            return True

    service = ExchangeKeyService(
        Keys(),  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        on_key_stopped=lambda user_id, key_id: calls.append(f"stop {user_id} {key_id}"),
    )
    service.delete(USER, "k1")
    assert calls == ["delete k1", f"stop {USER} k1"]


def test_an_active_follow_may_change_profile_while_its_key_is_not_authorized_for_once(
    keys: FakeKeys, service: FollowService
) -> None:
    created = service.follow(USER, "k1", NewFollow(BTC_1, LOW)).follow
    keys.keys[(USER, "k1")] = keys.keys[(USER, "k1")].model_copy(update={"status": KeyStatus.FAILED})
    assert service.update(USER, created.id, FollowChange(risk_profile_id=HIGH)).follow.risk_profile_id == HIGH
    with pytest.raises(ExchangeKeyInactive):
        service.update(USER, created.id, FollowChange(active=True))
