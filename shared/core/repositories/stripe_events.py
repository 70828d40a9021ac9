"""Stripe webhook events already processed: ``STRIPE_EVENT#<evt>`` / ``EVENT``, expiring with the table's TTL.

An event is recorded only once it was processed successfully, so Stripe's retry of a failed delivery is
processed again while a duplicate of a processed one is recognised. Stripe retries for three days; the
record outlives that.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError

from core.repositories.table import MainTableModel, condition_failed

EVENT_SORT_KEY = "EVENT"
RETENTION_SECONDS = 30 * 86_400


def event_partition(event_id: str) -> str:
    return f"STRIPE_EVENT#{event_id}"


class StripeEventItem(MainTableModel):
    event_type = UnicodeAttribute()
    processed_at = UnicodeAttribute()
    expires_at = NumberAttribute(attr_name="expiresAt")


class StripeEventRepository:
    def seen(self, event_id: str) -> bool:
        try:
            StripeEventItem.get(event_partition(event_id), EVENT_SORT_KEY, consistent_read=True)
        except StripeEventItem.DoesNotExist:
            return False
        return True

    def mark_processed(self, event_id: str, event_type: str, now: str, now_epoch: int) -> bool:
        """Records the event once; False when a concurrent delivery of it recorded it first."""
        item = StripeEventItem(
            pk=event_partition(event_id),
            sk=EVENT_SORT_KEY,
            event_type=event_type,
            processed_at=now,
            expires_at=now_epoch + RETENTION_SECONDS,
        )
        try:
            item.save(condition=StripeEventItem.pk.does_not_exist())
        except PutError as error:
            if condition_failed(error):
                return False
            raise
        return True
