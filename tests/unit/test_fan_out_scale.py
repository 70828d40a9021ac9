"""The fan-out at scale without a network: a batch's records on threads with exact partial failures, one price
read shared by a container's followers, the equity cache's age rule and the request-weight share."""

from __future__ import annotations

import threading
import time

import pytest

from core.models.trading import AccountSnapshot
from core.services.fan_out import EquityCache, EquityUnavailable, SharedPriceAccount, SharedPrices
from core.services.request_weight import RollingWeightBudget
from core.sqs_batch import ConcurrentBatchProcessor


def sqs_records(count: int) -> dict:
    return {
        "Records": [
            {
                "messageId": f"m{i}",
                "receiptHandle": f"r{i}",
                "body": str(i),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
                "awsRegion": "us-east-1",
            }
            for i in range(count)
        ]
    }


def test_a_batch_runs_its_records_at_once_and_reports_exactly_the_failed_ones():
    from aws_lambda_powertools.utilities.batch import process_partial_response

    # Given 20 records that each wait 0.2 s, every third one failing
    running, most = [0], [0]
    lock = threading.Lock()

    def handle(record) -> None:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.2)
        with lock:
            running[0] -= 1
        if int(record.body) % 3 == 0:
            raise RuntimeError("refused")

    processor = ConcurrentBatchProcessor(workers=10)
    started = time.monotonic()
    answer = process_partial_response(event=sqs_records(20), record_handler=handle, processor=processor)
    # Then they ran side by side, and the answer names exactly the failed records
    assert time.monotonic() - started < 1.5  # one after another: 4 s
    assert most[0] == 10
    failed = sorted(item["itemIdentifier"] for item in answer["batchItemFailures"])
    assert failed == sorted(f"m{i}" for i in range(20) if i % 3 == 0)
    # And the processor starts clean on the next batch
    assert process_partial_response(
        event=sqs_records(2), record_handler=lambda record: None, processor=processor
    ) == {"batchItemFailures": []}


def test_a_batch_whose_records_all_fail_fails_as_powertools_does():
    from aws_lambda_powertools.utilities.batch import process_partial_response
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    def refuse(record) -> None:
        raise RuntimeError("down")

    with pytest.raises(BatchProcessingError):
        process_partial_response(
            event=sqs_records(5), record_handler=refuse, processor=ConcurrentBatchProcessor(5)
        )


class CountingAccount:
    def __init__(self) -> None:
        self.reads = 0
        self._lock = threading.Lock()

    def mark_price(self, symbol: str) -> float:
        time.sleep(0.05)
        with self._lock:
            self.reads += 1
        return 19200.0

    def rules(self, symbol: str) -> str:
        return "its own rules"


def test_a_containers_followers_share_one_price_read_per_symbol():
    prices = SharedPrices(max_age_ms=1000)
    accounts = [CountingAccount() for _ in range(30)]
    results: list[float] = []

    def follower(account: CountingAccount) -> None:
        results.append(SharedPriceAccount(account, prices).mark_price("BTC/USDT"))  # type: ignore[arg-type]

    threads = [threading.Thread(target=follower, args=(a,)) for a in accounts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [19200.0] * 30
    assert sum(a.reads for a in accounts) == 1
    assert SharedPriceAccount(accounts[0], prices).rules("BTC/USDT") == "its own rules"  # type: ignore[arg-type]


def test_a_price_older_than_its_age_is_read_again():
    clock = [0.0]
    prices = SharedPrices(max_age_ms=1000, clock=lambda: clock[0])
    account = CountingAccount()
    prices.mark("BTC/USDT", lambda: account.mark_price("BTC/USDT"))
    clock[0] = 0.9
    prices.mark("BTC/USDT", lambda: account.mark_price("BTC/USDT"))
    clock[0] = 2.0
    prices.mark("BTC/USDT", lambda: account.mark_price("BTC/USDT"))
    assert account.reads == 2


class MemoryCache:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], AccountSnapshot] = {}

    def get(self, user_id: str, key_id: str) -> AccountSnapshot | None:
        return self.items.get((user_id, key_id))

    def save(self, user_id: str, key_id: str, snapshot: AccountSnapshot) -> None:
        self.items[(user_id, key_id)] = snapshot


class SnapshotAccount:
    def __init__(self, equity: float, now_ms: int) -> None:
        self.reads = 0
        self._equity, self._now = equity, now_ms

    def account_snapshot(self) -> AccountSnapshot:
        self.reads += 1
        return AccountSnapshot(self._equity, frozenset({"ETH/USDT"}), self._now)


def equity_cache(cache: MemoryCache, budget: RollingWeightBudget, now_ms: int) -> EquityCache:
    return EquityCache(cache, budget, max_age_seconds=900, wait_seconds=0, clock_ms=lambda: now_ms)  # type: ignore[arg-type]


def test_a_follower_is_sized_from_a_fresh_cached_read_without_any_request():
    cache = MemoryCache()
    cache.items[("u", "k")] = AccountSnapshot(5000.0, frozenset(), read_at_ms=1_000_000)
    account = SnapshotAccount(1.0, 0)
    read = equity_cache(cache, RollingWeightBudget(5), now_ms=1_000_000 + 900_000).snapshot(
        "u", "k", account, cache.get("u", "k")
    )  # type: ignore[arg-type]
    assert (read.equity_usdt, account.reads) == (5000.0, 0)


@pytest.mark.parametrize("cached", [None, AccountSnapshot(5000.0, frozenset(), read_at_ms=0)])
def test_a_missing_or_old_read_is_never_used_the_account_is_read_again_and_stored(cached):
    cache = MemoryCache()
    if cached is not None:
        cache.items[("u", "k")] = cached
    now = 900_001  # the cached read is 900.001 s old: one millisecond too old
    account = SnapshotAccount(1234.0, now)
    read = equity_cache(cache, RollingWeightBudget(5), now_ms=now).snapshot(
        "u", "k", account, cache.get("u", "k")
    )  # type: ignore[arg-type]
    assert (read.equity_usdt, read.busy_symbols, account.reads) == (1234.0, frozenset({"ETH/USDT"}), 1)
    assert cache.items[("u", "k")] == read


def test_without_weight_left_for_a_fresh_read_the_follower_waits_for_a_retry_rather_than_use_an_old_one():
    cache = MemoryCache()
    cache.items[("u", "k")] = AccountSnapshot(5000.0, frozenset(), read_at_ms=0)
    budget = RollingWeightBudget(5)
    assert budget.take(5, 0)  # the minute's share is spent
    account = SnapshotAccount(1234.0, 10_000_000)
    with pytest.raises(EquityUnavailable):
        equity_cache(cache, budget, now_ms=10_000_000).snapshot("u", "k", account, cache.get("u", "k"))  # type: ignore[arg-type]
    assert account.reads == 0


def test_the_weight_share_holds_over_any_rolling_minute():
    clock = [0.0]
    budget = RollingWeightBudget(
        10, clock=lambda: clock[0], sleep=lambda s: clock.__setitem__(0, clock[0] + s)
    )
    assert [budget.take(5, 0) for _ in range(3)] == [True, True, False]
    clock[0] = 59.9
    assert budget.take(5, 0) is False
    clock[0] = 60.0  # the first read leaves the window
    assert budget.take(5, 0) is True
    assert budget.take(5, wait_seconds=120) is True  # both reads of t=0 left it: room for two again
    assert clock[0] >= 60.0
    assert RollingWeightBudget.share(600, 40).per_minute == 15
