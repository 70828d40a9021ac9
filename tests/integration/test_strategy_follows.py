"""StrategyAutomated through the real handlers against moto: a key's follows, following, changing, stopping."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from core.models.catalog import Plan, Strategy
from tests.support import BASIC, USER_A, USER_B, add_key, call, give_plan

STRATEGY_1 = "b9f67eb2-1d6e-4a47-a735-d0d9039c9b08"  # BINANCE BTC/USDT
STRATEGY_2 = "b762dad3-b720-4ddd-a515-32ae48e39f94"  # BINANCE BTC/USDT
CONSERVATIVE = "ab00673a-cd19-44d4-a7c4-05c63e309663"  # 1.5 %
MODERATE = "3dc38f3d-4b4e-43b3-a102-e250b7cd3551"  # 2 %
ETH_STRATEGY = "5f0c7a3e-0000-4c1e-9a51-0000000000e7"  # seeded by a fixture below: BINANCE ETH/USDT
INACTIVE_STRATEGY = "5f0c7a3e-0000-4c1e-9a51-00000000dead"
NO_AUTOMATION = "5f0c7a3e-0000-4c1e-9a51-0000000000aa"  # a plan without strategyAutomated
UNKNOWN = "682e3707-5775-468e-b468-deca805bbeb4"


def follows_path(key_id: str) -> str:
    return f"/v1/priv/strategy/follow/exchange/key/{key_id}"


def follow(key_id: str, user: str = USER_A, **body: Any) -> tuple[int, Any]:
    payload = {"strategyAutomatedId": STRATEGY_1, "strategyRiskProfileId": CONSERVATIVE, **body}
    status, answer, _ = call("POST", follows_path(key_id), user=user, body=payload)
    return status, answer


def update(follow_id: str, user: str = USER_A, **body: Any) -> tuple[int, Any]:
    status, answer, _ = call("PUT", f"/v1/priv/strategy/follow/{follow_id}", user=user, body=body)
    return status, answer


def listed(key_id: str, user: str = USER_A) -> tuple[int, Any]:
    status, answer, _ = call("GET", follows_path(key_id), user=user)
    return status, answer


def followers_of(strategy_id: str) -> list[str]:
    """The follow ids in the sparse followers index (what the signal fan-out reads)."""
    from core.repositories.follows import FollowRepository

    return sorted(follow.id for follow in FollowRepository().active_followers(strategy_id))


@pytest.fixture
def catalog(aws):
    """The seeded catalog plus a strategy on another symbol, an inactive strategy and a plan without automation."""
    from core.repositories.catalog import CatalogRepository

    repository = CatalogRepository()
    stamp = "2022-09-09T02:00:00.000Z"
    for strategy_id, symbol, active in (
        (ETH_STRATEGY, "ETH/USDT", True),
        (INACTIVE_STRATEGY, "BTC/USDT", False),
    ):
        repository.put_strategy(
            Strategy(
                id=strategy_id,
                active=active,
                name=f"{symbol} test",
                exchange_id="BINANCE",
                symbol=symbol,
                created_at=stamp,
                updated_at=stamp,
            )
        )
    repository.put_plan(
        Plan(
            id=NO_AUTOMATION,
            name="NO AUTOMATION",
            monthly_price_usd=10,
            max_balance_usd=2500,
            max_api_key=2,
            strategy_automated=False,
            public=False,
        )
    )
    return repository


@pytest.fixture
def automated_key(exchange, catalog) -> str:
    """USER_A's AUTOMATED FUTURES key under the BASIC plan."""
    give_plan(USER_A, BASIC)
    status, key = add_key(USER_A, exchange.create_account(balances={"USDT": 1000}), strategyType="AUTOMATED")
    assert status == 200, key
    return str(key["id"])


def test_following_a_strategy_answers_the_reference_shape_and_lists_it(automated_key):
    status, created = follow(automated_key)
    assert status == 200, created
    assert set(created) == {
        "id",
        "active",
        "createdAt",
        "updatedAt",
        "StrategyAutomated",
        "StrategyRiskProfile",
    }
    assert created["active"] is True
    assert created["StrategyAutomated"] == {
        "id": STRATEGY_1,
        "active": True,
        "exchangeId": "BINANCE",
        "symbol": "BTC/USDT",
    }
    assert created["StrategyRiskProfile"] == {"id": CONSERVATIVE, "percentage": 1.5}
    assert listed(automated_key) == (200, {"items": [created]})
    assert followers_of(STRATEGY_1) == [created["id"]]


def test_an_inactive_follow_is_listed_but_not_a_follower(automated_key):
    status, created = follow(automated_key, active=False)
    assert (status, created["active"]) == (200, False)
    assert listed(automated_key)[1]["items"][0]["id"] == created["id"]
    assert followers_of(STRATEGY_1) == []


def test_the_catalog_ids_are_422s_on_their_fields_all_at_once(automated_key):
    status, body = follow(automated_key, strategyAutomatedId=INACTIVE_STRATEGY, strategyRiskProfileId=UNKNOWN)
    assert status == 422
    assert body == {
        "errors": [
            {
                "value": INACTIVE_STRATEGY,
                "msg": "must be active strategy automated id",
                "param": "strategyAutomatedId",
                "location": "body",
            },
            {
                "value": UNKNOWN,
                "msg": "must be valid strategy risk profile id",
                "param": "strategyRiskProfileId",
                "location": "body",
            },
        ]
    }
    status, body = follow(automated_key, strategyAutomatedId=UNKNOWN)
    assert (status, body["errors"][0]["param"]) == (422, "strategyAutomatedId")


@pytest.mark.parametrize(
    ("body", "param", "msg"),
    [
        ({"strategyAutomatedId": None}, "strategyAutomatedId", "must be a string"),
        ({"strategyRiskProfileId": "not-a-uuid"}, "strategyRiskProfileId", "must be UUID"),
        ({"active": "yes"}, "active", "must be a boolean"),
    ],
)
def test_malformed_fields_are_422s(automated_key, body, param, msg):
    status, answer = follow(automated_key, **body)
    assert status == 422
    assert {(error["param"], error["msg"]) for error in answer["errors"]} == {(param, msg)}


def test_a_missing_field_is_required(automated_key):
    status, answer, _ = call(
        "POST", follows_path(automated_key), user=USER_A, body={"strategyAutomatedId": STRATEGY_1}
    )
    assert status == 422
    assert answer["errors"] == [
        {"value": None, "msg": "is required", "param": "strategyRiskProfileId", "location": "body"}
    ]


def test_another_users_key_and_follow_are_not_found(automated_key):
    _, created = follow(automated_key)
    give_plan(USER_B, BASIC)
    assert listed(automated_key, user=USER_B) == (404, {"message": "route not found"})
    assert follow(automated_key, user=USER_B) == (404, {"message": "route not found"})
    assert update(created["id"], user=USER_B, active=False) == (404, {"message": "route not found"})
    assert listed(automated_key)[1]["items"][0]["active"] is True


def test_a_manual_key_cannot_follow(exchange, catalog):
    give_plan(USER_A, BASIC)
    _, key = add_key(USER_A, exchange.create_account(balances={"USDT": 1000}))
    assert follow(key["id"]) == (433, {"error": "exchange API key type is invalid (1106)"})


def test_an_unauthorized_key_cannot_follow(automated_key):
    from core.models.exchange import KeyStatus
    from core.repositories.exchange_keys import ExchangeKeyRepository

    # Given a key Binance refused (the daily snapshot marks it UNAUTHORIZED and inactive)
    keys = ExchangeKeyRepository()
    key = keys.get(USER_A, automated_key)
    assert key is not None
    keys.mark_status(key, KeyStatus.UNAUTHORIZED, "2022-10-14T00:00:00.000Z")
    # Then it follows nothing
    assert follow(automated_key) == (433, {"error": "exchange API key is inactive (1110)"})


def test_a_plan_without_automation_cannot_follow(automated_key):
    give_plan(USER_A, NO_AUTOMATION)
    assert follow(automated_key) == (433, {"error": "unauthorized subscription features (2103)"})


def test_a_strategy_of_another_exchange_is_1206(automated_key, catalog):
    stamp = "2022-09-09T02:00:00.000Z"
    other = "5f0c7a3e-0000-4c1e-9a51-0000000000ff"
    catalog.put_strategy(
        Strategy(
            id=other,
            active=True,
            name="elsewhere",
            exchange_id="KRAKEN",
            symbol="BTC/USDT",
            created_at=stamp,
            updated_at=stamp,
        )
    )
    assert follow(automated_key, strategyAutomatedId=other) == (
        433,
        {"error": "exchange id does not match (1206)"},
    )


def test_a_symbol_is_followed_once_per_key(automated_key):
    assert follow(automated_key)[0] == 200
    assert follow(automated_key, strategyAutomatedId=STRATEGY_2) == (
        433,
        {"error": "exchange symbol already exist (1309)"},
    )
    # another symbol on the same key is fine
    assert follow(automated_key, strategyAutomatedId=ETH_STRATEGY)[0] == 200
    assert len(listed(automated_key)[1]["items"]) == 2


def test_concurrent_follows_of_one_symbol_on_one_key_commit_once(automated_key):
    strategies = [STRATEGY_1, STRATEGY_2] * 4
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(lambda strategy: follow(automated_key, strategyAutomatedId=strategy), strategies)
        )
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] + [433] * 7
    assert {tuple(body.items()) for status, body in answers if status == 433} == {
        (("error", "exchange symbol already exist (1309)"),)
    }
    assert len(listed(automated_key)[1]["items"]) == 1


def test_update_switches_strategy_and_profile_and_moves_the_follower(automated_key):
    _, created = follow(automated_key)
    status, changed = update(created["id"], strategyAutomatedId=STRATEGY_2, strategyRiskProfileId=MODERATE)
    assert status == 200, changed
    assert changed["StrategyAutomated"]["id"] == STRATEGY_2
    assert changed["StrategyRiskProfile"] == {"id": MODERATE, "percentage": 2}
    assert changed["createdAt"] == created["createdAt"]
    assert (followers_of(STRATEGY_1), followers_of(STRATEGY_2)) == ([], [created["id"]])


def test_update_refuses_a_strategy_of_another_symbol_or_an_inactive_one(automated_key):
    _, created = follow(automated_key)
    assert update(created["id"], strategyAutomatedId=ETH_STRATEGY) == (
        433,
        {"error": "exchange symbol does not match (1306)"},
    )
    status, body = update(created["id"], strategyAutomatedId=INACTIVE_STRATEGY, strategyRiskProfileId=UNKNOWN)
    assert status == 422
    assert [error["param"] for error in body["errors"]] == ["strategyAutomatedId", "strategyRiskProfileId"]
    assert listed(automated_key)[1]["items"] == [created]


def test_turning_a_follow_off_and_on_moves_it_out_of_and_into_the_followers(automated_key):
    _, created = follow(automated_key)
    status, off = update(created["id"], active=False)
    assert (status, off["active"], followers_of(STRATEGY_1)) == (200, False, [])
    status, on = update(created["id"], active=True)
    assert (status, on["active"], followers_of(STRATEGY_1)) == (200, True, [created["id"]])


def test_turning_a_follow_on_needs_a_live_key_and_the_plan(automated_key):
    from core.models.exchange import KeyStatus
    from core.repositories.exchange_keys import ExchangeKeyRepository

    _, created = follow(automated_key, active=False)
    give_plan(USER_A, NO_AUTOMATION)
    assert update(created["id"], active=True) == (433, {"error": "unauthorized subscription features (2103)"})
    give_plan(USER_A, BASIC)
    keys = ExchangeKeyRepository()
    key = keys.get(USER_A, automated_key)
    assert key is not None
    keys.mark_status(key, KeyStatus.FAILED, "2022-10-14T00:00:00.000Z")  # active, but not AUTHORIZED
    assert update(created["id"], active=True) == (433, {"error": "exchange API key is inactive (1110)"})
    assert followers_of(STRATEGY_1) == []


def test_an_unknown_follow_is_404_and_a_bad_id_422(automated_key):
    assert update(UNKNOWN, active=False) == (404, {"message": "route not found"})
    status, body = update("nope", active=False)
    assert status == 422
    assert body["errors"][0] == {"value": "nope", "msg": "must be UUID", "param": "id", "location": "params"}


def test_deleting_a_key_stops_its_follows(automated_key):
    _, created = follow(automated_key)
    status, _, _ = call("DELETE", f"/v1/priv/account/exchange/key/{automated_key}", user=USER_A)
    assert status == 204
    assert followers_of(STRATEGY_1) == []
    table = boto3.resource("dynamodb").Table("trading-api-local-main")
    item = table.get_item(Key={"PK": f"USER#{USER_A}", "SK": f"FOLLOW#{created['id']}"})["Item"]
    assert item["active"] is False
    assert "GSI2PK" not in item
    # and the follow cannot be turned on again: its key is gone
    assert update(created["id"], active=True) == (433, {"error": "exchange API key is inactive (1110)"})


def test_losing_automation_with_the_plan_stops_every_follow_of_the_user(automated_key, exchange, catalog):
    from core import wiring

    # Given two follows on two keys and another user's follow
    _, first = follow(automated_key)
    _, second_key = add_key(
        USER_A, exchange.create_account(balances={"USDT": 500}), strategyType="AUTOMATED", name="Second"
    )
    _, second = follow(second_key["id"], strategyAutomatedId=STRATEGY_2)
    give_plan(USER_B, BASIC)
    _, other_key = add_key(USER_B, exchange.create_account(balances={"USDT": 500}), strategyType="AUTOMATED")
    _, others = follow(other_key["id"], user=USER_B)
    basic = catalog.get_plan(BASIC)
    # When USER_A's plan ends (billing calls the listener the wiring hands it)
    wiring.plan_change_listener()(USER_A, basic, None)
    # Then USER_A's follows are off and out of the index, USER_B's is untouched
    assert followers_of(STRATEGY_1) == [others["id"]]
    assert followers_of(STRATEGY_2) == []
    assert [item["active"] for item in listed(automated_key)[1]["items"]] == [False]
    assert first["id"] != second["id"]


def test_a_plan_that_keeps_automation_stops_nothing(automated_key, catalog):
    from core import wiring

    _, created = follow(automated_key)
    wiring.plan_change_listener()(USER_A, catalog.get_plan(BASIC), catalog.get_plan(BASIC))
    assert followers_of(STRATEGY_1) == [created["id"]]


def test_the_follow_write_itself_refuses_a_key_that_stopped_after_it_was_read(automated_key):
    from core.errors import ExchangeKeyInactive
    from core.models.exchange import KeyStatus
    from core.models.follows import Follow
    from core.repositories.exchange_keys import ExchangeKeyRepository
    from core.repositories.follows import FollowRepository

    # Given a key that stops between the service's check and the follow's write
    keys = ExchangeKeyRepository()
    key = keys.get(USER_A, automated_key)
    assert key is not None
    keys.mark_status(key, KeyStatus.UNAUTHORIZED, "2022-10-14T00:00:00.000Z")
    stamp = "2022-10-14T00:00:01.000Z"
    new = Follow(
        id="5f0c7a3e-0000-4c1e-9a51-0000000000f1",
        user_id=USER_A,
        key_id=automated_key,
        exchange_id="BINANCE",
        symbol="BTC/USDT",
        strategy_id=STRATEGY_1,
        risk_profile_id=CONSERVATIVE,
        active=True,
        created_at=stamp,
        updated_at=stamp,
    )
    # Then the transaction's condition on the key refuses it, and nothing is written (no claim either)
    with pytest.raises(ExchangeKeyInactive):
        FollowRepository().create(new)
    assert listed(automated_key)[1]["items"] == []
    table = boto3.resource("dynamodb").Table("trading-api-local-main")
    assert "Item" not in table.get_item(Key={"PK": f"KEY#{automated_key}", "SK": "FOLLOWED#BINANCE#BTC/USDT"})
