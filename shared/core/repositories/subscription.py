from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from core.models.subscription import PaymentType, UserSubscription
from core.repositories.table import MainTableModel, user_partition

SUBSCRIPTION_SORT_KEY = "SUBSCRIPTION"


class SubscriptionItem(MainTableModel):
    plan_id = UnicodeAttribute()
    payment_type = UnicodeAttribute()
    status = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class SubscriptionRepository:
    def get(self, user_id: str) -> UserSubscription | None:
        try:
            item = SubscriptionItem.get(user_partition(user_id), SUBSCRIPTION_SORT_KEY)
        except SubscriptionItem.DoesNotExist:
            return None
        return UserSubscription(
            plan_id=item.plan_id,
            payment_type=PaymentType(item.payment_type),
            status=item.status,
            updated_at=item.updated_at,
        )

    def put(self, user_id: str, subscription: UserSubscription) -> None:
        SubscriptionItem(
            pk=user_partition(user_id),
            sk=SUBSCRIPTION_SORT_KEY,
            plan_id=subscription.plan_id,
            payment_type=subscription.payment_type.value,
            status=subscription.status,
            updated_at=subscription.updated_at,
        ).save()
