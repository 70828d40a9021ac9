"""GET /v1/priv/account/subscription: the caller's current plan, or null; and the records behind it."""

from concurrent.futures import ThreadPoolExecutor

from core.models.subscription import UserSubscription
from core.repositories.stripe_customers import StripeCustomerRepository
from core.repositories.subscription import SubscriptionRepository
from local.plans import put_subscription
from tests.support import ADVANCED, BASIC, PRIVATE, PROFESSIONAL, USER_A, USER_B, call, give_plan


def test_no_subscription_is_null(aws):
    status, body, headers = call("GET", "/v1/priv/account/subscription", user=USER_A)
    assert (status, body) == (200, None)
    assert headers["Cache-Control"] == ["no-store"]


def test_a_private_plan_reads_as_the_reference_example(aws):
    give_plan(USER_A, PRIVATE)
    status, body, _ = call("GET", "/v1/priv/account/subscription", user=USER_A)
    assert status == 200
    assert body == {
        "paymentType": "STRIPE",
        "SubscriptionType": {
            "id": "eefffe05-5d1d-4be8-a300-20c7c39c9fef",
            "name": "BASIC",
            "maxBalanceUSD": 2500,
            "maxApiKey": 3,
            "strategyAutomated": True,
        },
    }


def test_the_plan_belongs_to_its_user_only(aws):
    # Given USER_A on PROFESSIONAL; Then USER_A reads it and USER_B reads none
    give_plan(USER_A, PROFESSIONAL)
    assert (
        call("GET", "/v1/priv/account/subscription", user=USER_A)[1]["SubscriptionType"]["name"]
        == "PROFESSIONAL"
    )
    assert call("GET", "/v1/priv/account/subscription", user=USER_B)[1] is None


def test_an_ended_subscription_is_null(aws):
    # Given a plan whose subscription has ended
    give_plan(USER_A, BASIC)
    repository = SubscriptionRepository()
    ended = repository.get(USER_A).model_copy(update={"status": "canceled"})
    put_subscription(USER_A, ended)
    # Then the route answers no subscription
    assert call("GET", "/v1/priv/account/subscription", user=USER_A)[1] is None


# ---------------------------------------------------------------- the records behind it, against DynamoDB
def stripe_record(plan_id: str, status: str = "active") -> UserSubscription:
    return UserSubscription(plan_id=plan_id, status=status, updated_at="2022-09-24T12:20:08.000Z")


def test_the_plan_record_never_goes_back_to_an_older_stripe_state(aws):
    # Given the plan recorded from a Stripe state fetched at 2000 ms
    repository = SubscriptionRepository()
    assert repository.record_stripe_plan(
        USER_A, stripe_record(ADVANCED), "sub_1", "2022-10-24T12:20:08.000Z", 2000
    )
    # When a state fetched earlier is written; Then it is refused
    assert not repository.record_stripe_plan(
        USER_A, stripe_record(BASIC), "sub_1", "2022-10-24T12:20:08.000Z", 1000
    )
    assert repository.get(USER_A).plan_id == ADVANCED
    # The same fetch time (the webhook and the route writing the same state) is not older.
    assert repository.record_stripe_plan(
        USER_A, stripe_record(ADVANCED), "sub_1", "2022-10-24T12:20:08.000Z", 2000
    )


def test_an_ending_only_touches_the_record_of_its_own_subscription(aws):
    # Given no record; When an ending arrives; Then nothing is written
    repository = SubscriptionRepository()
    assert not repository.record_stripe_end(USER_A, "sub_1", "canceled", "2022-10-24T12:20:08.000Z", "now", 1)
    assert repository.get(USER_A) is None  # nothing to end: nothing written
    # Given the plan of sub_2 fetched at 2000 ms; When sub_1 ends; Then the plan holds
    repository.record_stripe_plan(USER_A, stripe_record(ADVANCED), "sub_2", "2022-10-24T12:20:08.000Z", 2000)
    assert not repository.record_stripe_end(
        USER_A, "sub_1", "canceled", "2022-10-24T12:20:08.000Z", "now", 3000
    )
    assert repository.get(USER_A).status == "active"
    # When sub_2's ending was fetched before its plan; Then it is refused; fetched after, it ends the plan
    assert not repository.record_stripe_end(
        USER_A, "sub_2", "canceled", "2022-10-24T12:20:08.000Z", "now", 1000
    )
    assert repository.record_stripe_end(USER_A, "sub_2", "canceled", "2022-10-24T12:20:08.000Z", "now", 3000)
    assert call("GET", "/v1/priv/account/subscription", user=USER_A)[1] is None


def test_a_directly_assigned_plan_is_not_ended_by_a_stripe_subscription(aws):
    # Given a plan assigned directly; When a Stripe subscription's ending arrives; Then the plan holds
    give_plan(USER_A, PRIVATE)
    assert not SubscriptionRepository().record_stripe_end(USER_A, "sub_1", "canceled", "now", "now", 1)
    assert call("GET", "/v1/priv/account/subscription", user=USER_A)[1]["SubscriptionType"]["maxApiKey"] == 3


def test_concurrent_first_customers_of_a_user_agree_on_one(aws):
    # When four first checkouts of one user remember four customers at once
    customers = StripeCustomerRepository()
    with ThreadPoolExecutor(max_workers=4) as pool:
        kept = list(
            pool.map(lambda cus: customers.remember(USER_A, cus, "now"), ["cus_a", "cus_b", "cus_c", "cus_d"])
        )
    # Then all of them keep the same one, mapped both ways
    assert len(set(kept)) == 1
    (winner,) = set(kept)
    assert customers.customer_of(USER_A) == winner
    assert customers.user_of(winner) == USER_A
    assert [customers.user_of(cus) for cus in ("cus_a", "cus_b", "cus_c", "cus_d")].count(USER_A) == 1
    assert customers.remember(USER_A, winner, "later") == winner  # remembering it again is harmless
    assert customers.customer_of(USER_B) is None
