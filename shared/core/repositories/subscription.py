"""The plan a user holds now: ``USER#<sub>`` / ``SUBSCRIPTION``.

Stripe is the source of truth; this item is its projection, written from the subscription as Stripe has it
*now* (re-fetched on every webhook), so it is what plan limits and ``GET .../subscription`` read without
calling Stripe. Two guards keep it right when webhooks arrive late, twice or out of order:

* ``synced_at`` is when that state was fetched (ms); an older fetch never overwrites a newer one;
* a subscription that no longer grants a plan (canceled, unpaid ...) only touches the item if the item is
  about that same subscription, so a late event of an old subscription cannot end a newer one.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.condition import Condition, Or

from core.models.subscription import PaymentType, UserSubscription
from core.repositories.table import ItemRead, MainTableModel, condition_failed, user_partition

SUBSCRIPTION_SORT_KEY = "SUBSCRIPTION"


class SubscriptionItem(MainTableModel):
    plan_id = UnicodeAttribute()
    payment_type = UnicodeAttribute()
    status = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    # Set when the item was written from Stripe (absent when a plan was assigned directly).
    stripe_subscription_id = UnicodeAttribute(null=True)
    current_period_end = UnicodeAttribute(null=True)
    synced_at = NumberAttribute(null=True)


def subscription_item(user_id: str, subscription: UserSubscription) -> SubscriptionItem:
    """The user's plan record as an item, without the Stripe state (``record_stripe_plan`` adds it)."""
    return SubscriptionItem(
        pk=user_partition(user_id),
        sk=SUBSCRIPTION_SORT_KEY,
        plan_id=subscription.plan_id,
        payment_type=subscription.payment_type.value,
        status=subscription.status,
        updated_at=subscription.updated_at,
    )


def _not_older_than(fetched_at_ms: int) -> Condition:
    # ``Or`` rather than ``|``, which pynamodb leaves unannotated
    return Or(SubscriptionItem.synced_at.does_not_exist(), SubscriptionItem.synced_at <= fetched_at_ms)


def _subscription(item: SubscriptionItem) -> UserSubscription:
    return UserSubscription(
        plan_id=item.plan_id,
        payment_type=PaymentType(item.payment_type),
        status=item.status,
        updated_at=item.updated_at,
    )


class SubscriptionRepository:
    def get(self, user_id: str) -> UserSubscription | None:
        try:
            item = SubscriptionItem.get(user_partition(user_id), SUBSCRIPTION_SORT_KEY)
        except SubscriptionItem.DoesNotExist:
            return None
        return _subscription(item)

    def read(self, user_id: str) -> ItemRead[UserSubscription]:
        """``get`` as one read of several (``read_items``)."""
        return ItemRead(SubscriptionItem, user_partition(user_id), SUBSCRIPTION_SORT_KEY, _subscription)

    def record_stripe_plan(
        self,
        user_id: str,
        subscription: UserSubscription,
        stripe_subscription_id: str,
        current_period_end: str,
        fetched_at_ms: int,
    ) -> bool:
        """The user's plan from a subscription that grants one; False when a newer state is already stored."""
        item = subscription_item(user_id, subscription)
        item.stripe_subscription_id = stripe_subscription_id
        item.current_period_end = current_period_end
        item.synced_at = fetched_at_ms
        try:
            item.save(condition=_not_older_than(fetched_at_ms))
        except PutError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def record_stripe_end(
        self,
        user_id: str,
        stripe_subscription_id: str,
        status: str,
        current_period_end: str,
        now: str,
        fetched_at_ms: int,
    ) -> bool:
        """A subscription that no longer grants a plan; changes nothing unless the item is about it."""
        item = SubscriptionItem(pk=user_partition(user_id), sk=SUBSCRIPTION_SORT_KEY)
        try:
            item.update(
                actions=[
                    SubscriptionItem.status.set(status),
                    SubscriptionItem.current_period_end.set(current_period_end),
                    SubscriptionItem.updated_at.set(now),
                    SubscriptionItem.synced_at.set(fetched_at_ms),
                ],
                condition=(SubscriptionItem.stripe_subscription_id == stripe_subscription_id)
                & _not_older_than(fetched_at_ms),
            )
        except UpdateError as error:
            if condition_failed(error):
                return False
            raise
        return True
