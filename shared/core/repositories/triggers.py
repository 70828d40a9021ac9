"""Strategy triggers (one per signal) and each follower's outcome.

| item             | PK                  | SK                   |
|------------------|---------------------|----------------------|
| trigger          | TRIGGER#<triggerId> | TRIGGER              |
| signal id, once  | STRATEGY#<id>       | SIGNAL#<signalId>    |
| follower outcome | TRIGGER#<triggerId> | FOLLOW#<followId>    |
| follower lease   | TRIGGER#<triggerId> | CLAIM#<followId>     |

A signal with a ``signalId`` claims it in the trigger's transaction, so a duplicate finds the first
trigger instead of recording a second. An outcome is written once per follow: a redelivered queue
message finds it and places nothing.
"""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, TransactWriteError

from core.models.signals import FollowerOutcome, Trigger
from core.repositories.table import MainTableModel, NamedTransaction, condition_failed

TRIGGER_SK = "TRIGGER"
OUTCOME_PREFIX = "FOLLOW#"


class TriggerItem(MainTableModel):
    trigger = JSONAttribute()


class SignalClaimItem(MainTableModel):
    trigger_id = UnicodeAttribute()


class OutcomeItem(MainTableModel):
    outcome = JSONAttribute()


def _partition(trigger_id: str) -> str:
    return f"TRIGGER#{trigger_id}"


class SignalAlreadyReceived(Exception):
    def __init__(self, trigger_id: str) -> None:
        super().__init__(trigger_id)
        self.trigger_id = trigger_id


class TriggerRepository:
    def record(self, trigger: Trigger) -> None:
        """Writes the trigger; ``SignalAlreadyReceived`` (with the first trigger's id) for a repeated signalId."""
        transaction = NamedTransaction()
        transaction.save(
            "trigger",
            TriggerItem(pk=_partition(trigger.id), sk=TRIGGER_SK, trigger=trigger.model_dump(mode="json")),
        )
        signal_id = trigger.signal.signal_id
        if signal_id is not None:
            claim = SignalClaimItem(
                pk=f"STRATEGY#{trigger.strategy_id}", sk=f"SIGNAL#{signal_id}", trigger_id=trigger.id
            )
            transaction.save("signal", claim, condition=SignalClaimItem.pk.does_not_exist())
        try:
            transaction.commit()
        except TransactWriteError as error:
            if signal_id is not None and transaction.condition_failed(error, "signal"):
                first = SignalClaimItem.get(
                    f"STRATEGY#{trigger.strategy_id}", f"SIGNAL#{signal_id}", consistent_read=True
                )
                raise SignalAlreadyReceived(first.trigger_id) from None
            raise

    def mark_dispatched(self, trigger: Trigger) -> None:
        trigger.dispatched = True
        TriggerItem(pk=_partition(trigger.id), sk=TRIGGER_SK, trigger=trigger.model_dump(mode="json")).save()

    def get(self, trigger_id: str) -> Trigger | None:
        try:
            return Trigger(
                **TriggerItem.get(_partition(trigger_id), TRIGGER_SK, consistent_read=True).trigger
            )
        except TriggerItem.DoesNotExist:
            return None

    def outcome(self, trigger_id: str, follow_id: str) -> FollowerOutcome | None:
        try:
            item = OutcomeItem.get(
                _partition(trigger_id), f"{OUTCOME_PREFIX}{follow_id}", consistent_read=True
            )
        except OutcomeItem.DoesNotExist:
            return None
        return FollowerOutcome(**item.outcome)

    def record_outcome(self, outcome: FollowerOutcome) -> bool:
        """Writes a follower's outcome once; False when one was written already."""
        item = OutcomeItem(
            pk=_partition(outcome.trigger_id),
            sk=f"{OUTCOME_PREFIX}{outcome.follow_id}",
            outcome=outcome.model_dump(mode="json"),
        )
        try:
            item.save(condition=OutcomeItem.pk.does_not_exist())
        except PutError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def outcomes(self, trigger_id: str) -> list[FollowerOutcome]:
        return [
            FollowerOutcome(**item.outcome)
            for item in OutcomeItem.query(_partition(trigger_id), OutcomeItem.sk.startswith(OUTCOME_PREFIX))
        ]


class FollowClaimItem(MainTableModel):
    until_ms = NumberAttribute()
    # DynamoDB's TTL removes a lease a day after it ran out: the outcome on the trigger is what stops a
    # redelivered message, so a lease matters only while a delivery works on it.
    expires_at = NumberAttribute(attr_name="expiresAt", null=True)


CLAIM_PREFIX = "CLAIM#"
CLAIM_KEPT_SECONDS = 86400


class FollowClaims:
    """Who works on a (trigger, follow) now: a lease, so that two deliveries of the same message (SQS is
    at least once; a visibility timeout may run out while the first is still working) never run the order
    path side by side. A crashed worker's lease runs out and the next delivery takes over, resuming the
    trade from its record (its client order ids are the same)."""

    def take(self, trigger_id: str, follow_id: str, now_ms: int, lease_ms: int) -> bool:
        """True when this caller holds the lease until ``now_ms + lease_ms``; False while another does."""
        item = FollowClaimItem(
            pk=_partition(trigger_id),
            sk=f"{CLAIM_PREFIX}{follow_id}",
            until_ms=now_ms + lease_ms,
            expires_at=(now_ms + lease_ms) // 1000 + CLAIM_KEPT_SECONDS,
        )
        try:
            item.save(condition=FollowClaimItem.pk.does_not_exist() | (FollowClaimItem.until_ms < now_ms))
        except PutError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def release(self, trigger_id: str, follow_id: str) -> None:
        FollowClaimItem(pk=_partition(trigger_id), sk=f"{CLAIM_PREFIX}{follow_id}").delete()
