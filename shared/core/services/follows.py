"""Following automated strategies: a key's follows, following one, changing one, and the stops.

The rules, in the order they are checked (the README's "Automated strategies: follows"):

- the body's ids name catalog entries: an active strategy (422 ``must be active strategy automated id``)
  and a risk profile (422 ``must be valid strategy risk profile id``), every wrong field at once;
- the key or the follow is the caller's (404 otherwise);
- the key is AUTOMATED (1106) and active (1110); a follow that is (or becomes) active needs the key
  active and AUTHORIZED (1110); following needs a plan that allows ``strategyAutomated`` (2103), and so
  does turning a follow back on;
- the strategy's exchange is the key's (1206); on an update, the new strategy's symbol is the follow's
  (1306); a symbol is followed once per key (1309, held by a conditional write).

A follow stops when its key is deleted or deactivated (``stop_key``) and when the user's plan no longer
allows automation (``stop_user``); both are handed to the services that make those changes by the wiring.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from core.errors import (
    ExchangeIdMismatch,
    ExchangeKeyInactive,
    ExchangeKeyTypeInvalid,
    ExchangeSymbolMismatch,
    FieldError,
    FieldValidationError,
    NotFoundError,
    ServiceUnavailableError,
)
from core.models.catalog import RiskProfile, Strategy
from core.models.exchange import ExchangeKey, KeyStatus, StrategyType
from core.models.follows import Follow, FollowChange
from core.models.trading import Origin, TradeRecord
from core.observability import logger
from core.repositories.catalog import CatalogRepository
from core.repositories.exchange_keys import ExchangeKeyRepository
from core.repositories.follows import FollowRepository
from core.repositories.trade_history import TradeRepository
from core.services.plan_limits import PlanLimits
from core.timeutil import iso_now

STRATEGY_INVALID = "must be active strategy automated id"
RISK_PROFILE_INVALID = "must be valid strategy risk profile id"
# Each failed attempt means another change of the same follow committed first; people do not race this often.
UPDATE_ATTEMPTS = 5


@dataclass(frozen=True)
class FollowView:
    """A follow with the catalog entries it names (None only if the catalog lost one)."""

    follow: Follow
    strategy: Strategy | None
    risk_profile: RiskProfile | None


@dataclass(frozen=True)
class NewFollow:
    strategy_id: str
    risk_profile_id: str
    active: bool = True


def key_is_live(key: ExchangeKey) -> bool:
    """Whether a follow on this key may be active: the key is active and the exchange accepts it."""
    return key.active and key.status is KeyStatus.AUTHORIZED


class FollowService:
    def __init__(
        self,
        follows: FollowRepository,
        keys: ExchangeKeyRepository,
        catalog: CatalogRepository,
        limits: PlanLimits,
        on_follow_started: Callable[[str, str], None] = lambda user_id, key_id: None,
    ) -> None:
        self._follows = follows
        self._keys = keys
        self._catalog = catalog
        self._limits = limits
        # A follow that starts has its key's account read into the fan-out's equity cache at once, so the
        # first signal sizes it without a read of its own (core.services.balance_snapshots).
        self._on_follow_started = on_follow_started

    # ------------------------------------------------------------ reads
    def of_key(self, user_id: str, key_id: str) -> list[FollowView]:
        self._owned_key(user_id, key_id)
        follows = [follow for follow in self._follows.of_key(key_id) if follow.user_id == user_id]
        strategies = {strategy.id: strategy for strategy in self._catalog.list_strategies()}
        profiles = {profile.id: profile for profile in self._catalog.list_risk_profiles()}
        return [
            FollowView(follow, strategies.get(follow.strategy_id), profiles.get(follow.risk_profile_id))
            for follow in follows
        ]

    def active_followers(self, strategy_id: str) -> Iterator[Follow]:
        """The strategy's active follows (for the signal fan-out, which still checks each key and plan)."""
        return self._follows.active_followers(strategy_id)

    # ------------------------------------------------------------ writes
    def follow(self, user_id: str, key_id: str, request: NewFollow) -> FollowView:
        strategy, profile = self._catalog_entries(request.strategy_id, request.risk_profile_id)
        assert strategy is not None  # both were required
        assert profile is not None
        key = self._owned_key(user_id, key_id)
        if key.strategy_type is not StrategyType.AUTOMATED:
            raise ExchangeKeyTypeInvalid("a MANUAL key cannot follow a strategy")
        if not key.active or (request.active and not key_is_live(key)):
            raise ExchangeKeyInactive
        self._limits.require_strategy_automation(user_id)
        if strategy.exchange_id != key.exchange_id.value:
            raise ExchangeIdMismatch(f"{strategy.exchange_id} strategy on a {key.exchange_id.value} key")
        now = iso_now()
        follow = Follow(
            id=str(uuid.uuid4()),
            user_id=user_id,
            key_id=key.id,
            exchange_id=strategy.exchange_id,
            symbol=strategy.symbol,
            strategy_id=strategy.id,
            risk_profile_id=profile.id,
            active=request.active,
            created_at=now,
            updated_at=now,
        )
        self._follows.create(follow)
        if follow.active:
            self._started(follow)
        return FollowView(follow, strategy, profile)

    def update(self, user_id: str, follow_id: str, change: FollowChange) -> FollowView:
        new_strategy, new_profile = self._catalog_entries(change.strategy_id, change.risk_profile_id)
        for _ in range(UPDATE_ATTEMPTS):
            found = self._follows.get(user_id, follow_id)
            if found is None:
                raise NotFoundError
            follow, version = found
            if new_strategy is not None:
                if new_strategy.exchange_id != follow.exchange_id:
                    raise ExchangeIdMismatch(
                        f"{new_strategy.exchange_id} strategy, {follow.exchange_id} follow"
                    )
                if new_strategy.symbol != follow.symbol:
                    raise ExchangeSymbolMismatch(f"{new_strategy.symbol} strategy, {follow.symbol} follow")
            if change.active:
                key = self._keys.get(user_id, follow.key_id)
                if key is None or not key_is_live(key):
                    raise ExchangeKeyInactive
                self._limits.require_strategy_automation(user_id)
            updated = follow.model_copy(
                update={
                    "strategy_id": new_strategy.id if new_strategy else follow.strategy_id,
                    "risk_profile_id": new_profile.id if new_profile else follow.risk_profile_id,
                    "active": follow.active if change.active is None else change.active,
                    "updated_at": iso_now(),
                }
            )
            if updated == follow.model_copy(update={"updated_at": updated.updated_at}):
                return self._view(follow)  # nothing changes: nothing is written
            # Turning on needs the key AUTHORIZED at commit; an active follow changing strategy or profile
            # needs it still active (a key the snapshot could not read this once stays usable).
            if self._follows.replace(updated, version, key_must_be_live=bool(change.active)):
                if updated.active and not follow.active:
                    self._started(updated)
                return self._view(updated, new_strategy, new_profile)
        logger.warning("follow update lost every race", extra={"attempts": UPDATE_ATTEMPTS})
        raise ServiceUnavailableError("too many concurrent changes to the follow, please retry")

    def _started(self, follow: Follow) -> None:
        try:
            self._on_follow_started(follow.user_id, follow.key_id)
        except Exception as error:  # the follow stands; the ten-minute refresh reads the account anyway
            logger.warning(
                "could not queue the follow's account read", extra={"error_type": type(error).__name__}
            )

    # ------------------------------------------------------------ stops
    def stop_key(self, user_id: str, key_id: str) -> int:
        """The key was deleted or deactivated: its active follows stop. Returns how many stopped."""
        return self._stop(user_id, lambda follow: follow.key_id == key_id, reason="key stopped")

    def stop_user(self, user_id: str) -> int:
        """The user's plan no longer allows automation: every active follow stops."""
        return self._stop(user_id, lambda follow: True, reason="plan lost strategyAutomated")

    def _stop(self, user_id: str, which: Callable[[Follow], bool], reason: str) -> int:
        now = iso_now()
        stopped = 0
        for follow in self._follows.of_user(user_id):
            if follow.active and which(follow) and self._follows.deactivate(follow, now):
                stopped += 1
        if stopped:
            logger.info("follows stopped", extra={"user_id": user_id, "count": stopped, "reason": reason})
        return stopped

    # ------------------------------------------------------------ helpers
    def _owned_key(self, user_id: str, key_id: str) -> ExchangeKey:
        key = self._keys.get(user_id, key_id)
        if key is None:
            raise NotFoundError
        return key

    def _catalog_entries(
        self, strategy_id: str | None, risk_profile_id: str | None
    ) -> tuple[Strategy | None, RiskProfile | None]:
        """The named strategy and profile; every id that names no active strategy or no profile is a 422."""
        errors: list[FieldError] = []
        strategy = self._catalog.get_strategy(strategy_id) if strategy_id is not None else None
        if strategy_id is not None and (strategy is None or not strategy.active):
            errors.append(FieldError(strategy_id, STRATEGY_INVALID, "strategyAutomatedId", "body"))
        profile = self._catalog.get_risk_profile(risk_profile_id) if risk_profile_id is not None else None
        if risk_profile_id is not None and profile is None:
            errors.append(FieldError(risk_profile_id, RISK_PROFILE_INVALID, "strategyRiskProfileId", "body"))
        if errors:
            raise FieldValidationError(*errors)
        return strategy, profile

    def _view(
        self, follow: Follow, strategy: Strategy | None = None, profile: RiskProfile | None = None
    ) -> FollowView:
        return FollowView(
            follow,
            strategy or self._catalog.get_strategy(follow.strategy_id),
            profile or self._catalog.get_risk_profile(follow.risk_profile_id),
        )


# ---------------------------------------------------------------- the automated history


@dataclass(frozen=True)
class StrategyTrade:
    record: TradeRecord
    strategy: Strategy | None


@dataclass(frozen=True)
class StrategyHistoryPage:
    trades: list[StrategyTrade]
    next_start_key: dict[str, Any] | None


class StrategyHistoryService:
    """The orders followed strategies placed for a user, newest first, each with its strategy."""

    def __init__(self, trades: TradeRepository, catalog: CatalogRepository) -> None:
        self._trades = trades
        self._catalog = catalog

    def history(
        self, user_id: str, start: str | None, limit: int, start_key: dict[str, Any] | None
    ) -> StrategyHistoryPage:
        page = self._trades.history(user_id, Origin.STRATEGY, start, limit, start_key)
        strategies: dict[str, Strategy | None] = {}
        for record in page.records:
            if record.strategy_id is not None and record.strategy_id not in strategies:
                strategies[record.strategy_id] = self._catalog.get_strategy(record.strategy_id)
        return StrategyHistoryPage(
            [
                StrategyTrade(record, strategies.get(record.strategy_id) if record.strategy_id else None)
                for record in page.records
            ],
            page.next_start_key,
        )
