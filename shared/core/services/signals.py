"""A strategy's signal: checked, recorded as a trigger, handed to the fan-out queue (``strategies.md``).

The route touches no exchange: it checks the secret (first, in constant time: a wrong or missing one is a
401 and nothing is recorded), validates the signal, refuses stale ones, records the trigger (a repeated
``signalId`` answers the first trigger and fans out nothing), then queues one message per active follower
and one for the strategy's own track record. The answer comes back at once, whatever the followers' count.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import ValidationError

from core.api.errors import to_field_error
from core.errors import FieldError, FieldValidationError, NotFoundError, StrategyInactive, UnauthorizedError
from core.models.follows import Follow
from core.models.signals import FanOutOrder, Trigger
from core.repositories.catalog import CatalogRepository
from core.repositories.triggers import SignalAlreadyReceived, TriggerRepository
from core.schemas.signal import SignalBody
from core.timeutil import to_iso, utc_now


class SignalSecrets(Protocol):
    def verify(self, strategy_id: str, presented: object) -> bool: ...


class FanOutQueue(Protocol):
    def send(self, orders: list[FanOutOrder]) -> None: ...


class Followers(Protocol):
    def active_followers(self, strategy_id: str) -> Any: ...


@dataclass(frozen=True)
class Received:
    trigger_id: str
    followers: int
    duplicate: bool


class SignalService:
    def __init__(
        self,
        catalog: CatalogRepository,
        secrets: SignalSecrets,
        triggers: TriggerRepository,
        followers: Followers,
        queue: FanOutQueue,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._catalog = catalog
        self._secrets = secrets
        self._triggers = triggers
        self._followers = followers
        self._queue = queue
        self._now = now

    def receive(self, strategy_id: str, payload: dict[str, Any]) -> Received:
        strategy = self._catalog.get_strategy(strategy_id)
        if strategy is None:
            raise NotFoundError
        if not self._secrets.verify(strategy_id, payload.get("secret")):
            raise UnauthorizedError
        fields = {name: value for name, value in payload.items() if name != "secret"}
        try:
            body = SignalBody.model_validate(fields)
        except ValidationError as error:
            raise FieldValidationError(
                *(to_field_error({**problem, "loc": ("body", *problem["loc"])}) for problem in error.errors())
            ) from None
        if not strategy.active:
            raise StrategyInactive(f"strategy {strategy_id} is inactive")
        now = self._now()
        if body.timestamp is not None:
            sent = datetime.fromisoformat(body.timestamp)
            if now - sent > timedelta(seconds=body.maxLagSeconds):
                raise FieldValidationError(
                    FieldError(
                        value=fields.get("timestamp"),
                        msg=f"must be within the last {body.maxLagSeconds} seconds",
                        param="timestamp",
                        location="body",
                    )
                )
        followers: list[Follow] = list(self._followers.active_followers(strategy_id))
        trigger = Trigger(
            id=str(uuid.uuid4()),
            strategy_id=strategy_id,
            signal=body.to_signal(),
            received_at=to_iso(now),
            followers=len(followers),
        )
        try:
            self._triggers.record(trigger)
        except SignalAlreadyReceived as duplicate:
            first = self._triggers.get(duplicate.trigger_id)
            assert first is not None
            if not first.dispatched:  # the first attempt failed to queue everything: finish it, same trigger
                self._dispatch(first, list(self._followers.active_followers(strategy_id)))
            return Received(first.id, first.followers, duplicate=True)
        self._dispatch(trigger, followers)
        return Received(trigger.id, len(followers), duplicate=False)

    def _dispatch(self, trigger: Trigger, followers: list[Follow]) -> None:
        """Queues the track record's message and one per follower. Sending a message twice is harmless: the
        worker acts once per trigger and follow."""
        orders = [FanOutOrder(trigger_id=trigger.id, strategy_id=trigger.strategy_id)]
        orders += [
            FanOutOrder(
                trigger_id=trigger.id,
                strategy_id=trigger.strategy_id,
                follow_id=follow.id,
                user_id=follow.user_id,
                key_id=follow.key_id,
            )
            for follow in followers
        ]
        self._queue.send(orders)
        self._triggers.mark_dispatched(trigger)
