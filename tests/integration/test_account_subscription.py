"""GET /v1/priv/account/subscription: the caller's current plan, or null."""

from core.repositories.catalog import CatalogRepository
from core.repositories.subscription import SubscriptionRepository
from core.services.subscription import assign_plan
from tests.support import USER_A, USER_B, call


def give_plan(user: str, plan_id: str) -> None:
    plan = CatalogRepository().get_plan(plan_id)
    assert plan is not None
    assign_plan(SubscriptionRepository(), user, plan)


def test_no_subscription_is_null(aws):
    status, body, headers = call("GET", "/v1/priv/account/subscription", user=USER_A)
    assert (status, body) == (200, None)
    assert headers["Cache-Control"] == ["no-store"]


def test_a_private_plan_reads_as_the_reference_example(aws):
    give_plan(USER_A, "eefffe05-5d1d-4be8-a300-20c7c39c9fef")
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
    give_plan(USER_A, "d6e3155b-caed-449c-b95b-857f1b765040")
    assert (
        call("GET", "/v1/priv/account/subscription", user=USER_A)[1]["SubscriptionType"]["name"]
        == "PROFESSIONAL"
    )
    assert call("GET", "/v1/priv/account/subscription", user=USER_B)[1] is None


def test_an_ended_subscription_is_null(aws):
    give_plan(USER_A, "336e0577-784d-4482-8a37-46649118aa51")
    repository = SubscriptionRepository()
    ended = repository.get(USER_A).model_copy(update={"status": "canceled"})
    repository.put(USER_A, ended)
    assert call("GET", "/v1/priv/account/subscription", user=USER_A)[1] is None
