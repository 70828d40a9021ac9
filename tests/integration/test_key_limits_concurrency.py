"""The plan's balance limit (2129b) holds under concurrent key creates, as the key limit (2129a) does.

Real threads against moto (whose writes are serialized, as DynamoDB applies each transaction
atomically: what is tested is the transaction's conditions). A barrier makes every create read the
user's holdings before any of them commits, which is exactly the race a read-then-check loses.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.errors import ApiBalanceLimitExceeded, ApiKeyLimitExceeded
from core.models.exchange import ExchangeId, KeyLimits, KeyStatus, StrategyType, TradeType
from core.repositories.exchange_keys import ExchangeKeyRepository, KeyHoldings
from tests.support import ADVANCED, USER_A, USER_B, a_key, give_plan


class RacingRepository(ExchangeKeyRepository):
    """Holds every create's first read of the holdings until all ``parties`` have read theirs."""

    def __init__(self, parties: int) -> None:
        super().__init__()
        self.barrier = threading.Barrier(parties, timeout=30)
        self.reads: list[KeyHoldings] = []
        self._first_read = threading.local()

    def holdings(self, user_id: str) -> KeyHoldings:
        holdings = super().holdings(user_id)
        self.reads.append(holdings)
        if not getattr(self._first_read, "done", False):
            self._first_read.done = True
            self.barrier.wait()
        return holdings


def race(create, parties: int) -> list[str]:
    def attempt(index: int) -> str:
        try:
            create(index)
        except ApiBalanceLimitExceeded:
            return "2129b"
        except ApiKeyLimitExceeded:
            return "2129a"
        return "created"

    with ThreadPoolExecutor(max_workers=parties) as pool:
        return sorted(pool.map(attempt, range(parties)))


def test_three_creates_of_2000_under_a_5000_plan_through_the_service(exchange):
    """The reported defect: three simultaneous 2000 USDT keys under ADVANCED (5000 USD) were all accepted."""
    from adapters.exchange.binance import BinanceConnector
    from core.repositories.catalog import CatalogRepository
    from core.repositories.subscription import SubscriptionRepository
    from core.secret_cipher import KmsSecretCipher
    from core.services.exchange_keys import ExchangeKeyService, NewExchangeKey
    from core.services.plan_limits import PlanLimits

    # Given an ADVANCED user (5000 USD) and three accounts of 2000 USDT
    give_plan(USER_A, ADVANCED)
    accounts = [exchange.create_account(balances={"USDT": 2000}) for _ in range(3)]
    repository = RacingRepository(parties=3)
    service = ExchangeKeyService(
        keys=repository,
        limits=PlanLimits(SubscriptionRepository(), CatalogRepository()),
        connector=BinanceConnector(),
        cipher=KmsSecretCipher(),
    )

    def create(index: int) -> None:
        account = accounts[index]
        service.create(
            USER_A,
            NewExchangeKey(
                ExchangeId.BINANCE,
                TradeType.FUTURES,
                StrategyType.MANUAL,
                f"k{index}",
                account["apiKey"],
                account["apiSecretKey"],
            ),
        )

    # When their keys are created at once, each having read the holdings before any commits
    # Then two are created and the third is 2129b: 4000 USD held, never 6000
    assert race(create, 3) == ["2129b", "created", "created"]
    assert all(read.active_balance_usd == 0 for read in repository.reads[:3])  # the race really happened
    keys = repository.list(USER_A)
    assert len(keys) == 2
    assert sum(key.balance_usd or 0 for key in keys) == 4000
    assert repository.count(USER_A) == 2


def test_the_loser_of_a_race_re_reads_the_balances_before_it_commits(aws):
    repository = RacingRepository(parties=4)
    limits = KeyLimits(max_keys=10, max_balance_usd=5000)
    outcomes = race(lambda index: repository.create(a_key(index, 2000), b"ct", limits), 4)
    assert outcomes == ["2129b", "2129b", "created", "created"]
    assert sum(key.balance_usd or 0 for key in repository.list(USER_A)) == 4000
    assert ExchangeKeyRepository().holdings(USER_A).version == 2


def test_both_limits_hold_together_under_a_race(aws):
    repository = RacingRepository(parties=6)
    limits = KeyLimits(max_keys=2, max_balance_usd=100_000)
    outcomes = race(lambda index: repository.create(a_key(index, 10), b"ct", limits), 6)
    assert outcomes == ["2129a"] * 4 + ["created"] * 2
    assert repository.count(USER_A) == 2


def test_deletes_and_deactivations_give_the_balance_back(aws):
    # Given 4000 of 5000 USD held: a third key of 2000 does not fit
    repository = ExchangeKeyRepository()
    limits = KeyLimits(max_keys=10, max_balance_usd=5000)
    repository.create(a_key(1, 2000), b"ct", limits)
    repository.create(a_key(2, 2000), b"ct", limits)
    with pytest.raises(ApiBalanceLimitExceeded):
        repository.create(a_key(3, 2000), b"ct", limits)

    # When a key is deleted, then another deactivated; Then each gives its balance back
    assert repository.delete(repository.get(USER_A, a_key(1, 0).id))
    repository.create(a_key(3, 2000), b"ct", limits)  # 2000 freed by the delete

    repository.mark_status(repository.get(USER_A, a_key(2, 0).id), KeyStatus.UNAUTHORIZED, "now")
    repository.create(a_key(4, 2000), b"ct", limits)  # a deactivated key's balance no longer counts
    with pytest.raises(ApiBalanceLimitExceeded):
        repository.create(a_key(5, 1001.5), b"ct", limits)
    assert repository.holdings(USER_A).active_balance_usd == 4000


def test_an_inactive_new_key_still_counts_its_own_balance_and_other_users_do_not_count(aws):
    repository = ExchangeKeyRepository()
    limits = KeyLimits(max_keys=10, max_balance_usd=5000)
    repository.create(a_key(1, 4000, user=USER_B), b"ct", limits)
    repository.create(a_key(2, 4000), b"ct", limits)
    with pytest.raises(ApiBalanceLimitExceeded):
        repository.create(a_key(3, 1500, active=False), b"ct", limits)


def test_a_counter_written_before_versions_existed_still_takes_creates(aws):
    import boto3

    table = boto3.resource("dynamodb").Table("trading-api-local-main")
    # Given a key counter as written before it had a version and a balance
    table.put_item(Item={"PK": f"USER#{USER_A}", "SK": "KEY_COUNT", "count": 1})
    # When a key is created; Then the counter takes it and gains both, and the key limit still holds
    repository = ExchangeKeyRepository()
    repository.create(a_key(1, 10), b"ct", KeyLimits(max_keys=2, max_balance_usd=5000))
    assert repository.holdings(USER_A) == KeyHoldings(keys_held=2, version=1, active_balance_usd=10)
    with pytest.raises(ApiKeyLimitExceeded):
        repository.create(a_key(2, 10), b"ct", KeyLimits(max_keys=2, max_balance_usd=5000))
