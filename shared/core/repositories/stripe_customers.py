"""Each user's one Stripe customer, remembered both ways.

| item                  | PK                      | SK                | read by                      |
|-----------------------|-------------------------|-------------------|------------------------------|
| the user's customer   | USER#<sub>              | STRIPE_CUSTOMER   | checkout, subscription routes |
| the customer's user   | STRIPE_CUSTOMER#<cus>   | USER              | webhooks                     |

Both are written in one transaction whose condition lets only the first customer of a user in: two
concurrent first checkouts cannot leave a user with two customers on our side.
"""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import TransactWriteError

from core.repositories.table import MainTableModel, NamedTransaction, user_partition

USER_CUSTOMER_SORT_KEY = "STRIPE_CUSTOMER"
CUSTOMER_USER_SORT_KEY = "USER"


def customer_partition(customer_id: str) -> str:
    return f"STRIPE_CUSTOMER#{customer_id}"


class UserCustomerItem(MainTableModel):
    customer_id = UnicodeAttribute()
    created_at = UnicodeAttribute()


class CustomerUserItem(MainTableModel):
    user_id = UnicodeAttribute()
    created_at = UnicodeAttribute()


class StripeCustomerRepository:
    def customer_of(self, user_id: str, *, consistent: bool = False) -> str | None:
        try:
            item = UserCustomerItem.get(
                user_partition(user_id), USER_CUSTOMER_SORT_KEY, consistent_read=consistent
            )
        except UserCustomerItem.DoesNotExist:
            return None
        return item.customer_id

    def user_of(self, customer_id: str) -> str | None:
        try:
            return CustomerUserItem.get(customer_partition(customer_id), CUSTOMER_USER_SORT_KEY).user_id
        except CustomerUserItem.DoesNotExist:
            return None

    def remember(self, user_id: str, customer_id: str, now: str) -> str:
        """Records ``customer_id`` as the user's customer unless they have one; returns the one that holds."""
        mine = UserCustomerItem(
            pk=user_partition(user_id), sk=USER_CUSTOMER_SORT_KEY, customer_id=customer_id, created_at=now
        )
        theirs = CustomerUserItem(
            pk=customer_partition(customer_id), sk=CUSTOMER_USER_SORT_KEY, user_id=user_id, created_at=now
        )
        transaction = NamedTransaction()
        transaction.save(
            "user's customer",
            mine,
            condition=UserCustomerItem.pk.does_not_exist() | (UserCustomerItem.customer_id == customer_id),
        )
        transaction.save(
            "customer's user",
            theirs,
            condition=CustomerUserItem.pk.does_not_exist() | (CustomerUserItem.user_id == user_id),
        )
        try:
            transaction.commit()
        except TransactWriteError as error:
            if transaction.condition_failed(error, "user's customer"):
                existing = self.customer_of(user_id, consistent=True)
                if existing is not None:
                    return existing
            raise
        return customer_id
