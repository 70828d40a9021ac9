"""Exchange key rules and valuation, with in-memory fakes instead of the exchange, KMS and DynamoDB."""

from __future__ import annotations

import pytest

from core.errors import (
    ApiBalanceLimitExceeded,
    ApiKeyLimitExceeded,
    ExchangeAuthorizationFailed,
    ExchangeKeyAlreadyExists,
    ExchangeKeyCanWithdraw,
    ExchangeKeyLacksFutures,
    NotFoundError,
)
from core.models.catalog import Plan
from core.models.exchange import (
    Balance,
    ExchangeId,
    KeyPermissions,
    KeyStatus,
    SnapshotOrder,
    StrategyType,
    TradeType,
)
from core.models.trading import AccountSnapshot
from core.services.balance_snapshots import (
    BalanceSnapshotService,
    SnapshotBudgets,
    SnapshotDeferred,
    SnapshotScheduler,
)
from core.services.exchange_keys import ExchangeKeyService, NewExchangeKey
from core.services.key_accounts import KeyAccounts
from core.services.request_weight import RollingWeightBudget
from core.services.valuation import usd_value

PLAN = Plan(
    id="p", name="BASIC", monthly_price_usd=20, max_balance_usd=2500, max_api_key=2, strategy_automated=True
)
ALLOWED = KeyPermissions(
    can_read=True, can_trade_spot=True, can_trade_futures=True, can_withdraw=False, ip_restricted=True
)


class FakeAccount:
    def __init__(self, exchange: FakeExchange, api_key: str) -> None:
        self._exchange, self._api_key = exchange, api_key

    def permissions(self) -> KeyPermissions:
        self._exchange.calls.append(("permissions", self._api_key))
        if self._api_key in self._exchange.refused:
            raise ExchangeAuthorizationFailed
        return self._exchange.permissions

    def balance(self) -> Balance:
        self._exchange.calls.append(("balance", self._api_key))
        if self._api_key in self._exchange.refused:
            raise ExchangeAuthorizationFailed
        if self._api_key in self._exchange.broken:
            raise RuntimeError("exchange hiccup")
        return Balance(total=self._exchange.balances.get(self._api_key, {"USDT": 100}))

    def account_snapshot(self) -> AccountSnapshot:
        self._exchange.calls.append(("account", self._api_key))
        if self._api_key in self._exchange.refused:
            raise ExchangeAuthorizationFailed
        usdt = self._exchange.balances.get(self._api_key, {"USDT": 100}).get("USDT", 0.0)
        return AccountSnapshot(equity_usdt=usdt, busy_symbols=frozenset(), read_at_ms=1)


class FakeExchange:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.permissions = ALLOWED
        self.balances: dict[str, dict[str, float]] = {}
        self.refused: set[str] = set()
        self.broken: set[str] = set()

    def account(self, exchange_id, trade_type, api_key, secret):
        return FakeAccount(self, api_key)

    trading_account = account

    def market_data(self, exchange_id):
        return self

    def usd_prices(self, assets=None):
        return {"BTC": 20000.0}


class MemoryEquity:
    """The equity cache's contract, in memory."""

    def __init__(self) -> None:
        self.reads: dict[tuple[str, str], AccountSnapshot] = {}

    def get(self, user_id, key_id):
        return self.reads.get((user_id, key_id))

    def save(self, user_id, key_id, snapshot):
        self.reads[(user_id, key_id)] = snapshot


class FakeKeys:
    """The repository's contract, in memory."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], tuple] = {}
        self.snapshots: list = []

    def count(self, user_id):
        return sum(1 for user, _ in self.items if user == user_id)

    def api_key_taken(self, api_key):
        return any(key.api_key == api_key for key, _ in self.items.values())

    def list(self, user_id):
        return [key for (user, _), (key, _) in self.items.items() if user == user_id]

    def get(self, user_id, key_id):
        found = self.items.get((user_id, key_id))
        return found[0] if found else None

    def get_with_secret(self, user_id, key_id):
        return self.items.get((user_id, key_id))

    def create(self, key, ciphertext, max_keys):
        self.items[(key.user_id, key.id)] = (key, ciphertext)

    def active_keys(self):
        return [(key, secret) for key, secret in self.items.values() if key.active]

    def record_snapshot(self, key, snapshot, now):
        self.snapshots.append(snapshot)
        self.items[(key.user_id, key.id)] = (
            key.model_copy(update={"balance_date": snapshot.date}),
            self.items[(key.user_id, key.id)][1],
        )

    def mark_status(self, key, status, now):
        update = {"status": status, "active": key.active and status is not KeyStatus.UNAUTHORIZED}
        self.items[(key.user_id, key.id)] = (
            key.model_copy(update=update),
            self.items[(key.user_id, key.id)][1],
        )


class FakeLimits:
    def __init__(self, plan: Plan | None) -> None:
        self.plan = plan

    def for_user(self, user_id):
        from core.services.plan_limits import UserLimits

        return UserLimits(self.plan)


class ReversingCipher:
    def encrypt(self, user_id, key_id, secret):
        return f"{user_id}:{key_id}:{secret[::-1]}".encode()

    def decrypt(self, user_id, key_id, ciphertext):
        owner, key, reversed_secret = ciphertext.decode().split(":")
        assert (owner, key) == (user_id, key_id)
        return reversed_secret[::-1]


def request(api_key: str = "KEY1", trade_type: TradeType = TradeType.FUTURES) -> NewExchangeKey:
    return NewExchangeKey(ExchangeId.BINANCE, trade_type, StrategyType.MANUAL, "Default", api_key, "SECRET")


@pytest.fixture
def world():
    exchange, keys = FakeExchange(), FakeKeys()
    service = ExchangeKeyService(keys, FakeLimits(PLAN), exchange, ReversingCipher())  # type: ignore[arg-type]
    return service, exchange, keys


def test_usd_value_counts_stablecoins_at_par_and_prices_the_rest():
    assert (
        usd_value({"USDT": 100.5, "BUSD": 10, "BTC": 0.5, "DOGE": 1000, "BNB": 0}, {"BTC": 20000}) == 10110.5
    )


def test_create_stores_only_the_encrypted_secret(world):
    service, _, keys = world
    key = service.create("alice", request())
    stored_key, ciphertext = keys.items[("alice", key.id)]
    assert b"SECRET" not in ciphertext
    assert stored_key.balance_usd == 100
    assert "SECRET" not in repr(request())


@pytest.mark.parametrize(
    ("prepare", "error"),
    [
        (lambda service, keys: service.create("alice", request("TAKEN")), ExchangeKeyAlreadyExists),
        (
            lambda service, keys: [service.create("alice", request(f"K{i}")) for i in range(2)],
            ApiKeyLimitExceeded,
        ),
    ],
)
def test_cheap_refusals_never_reach_the_exchange(world, prepare, error):
    service, exchange, _ = world
    prepare(service, None)
    exchange.calls.clear()
    with pytest.raises(error):
        service.create("alice", request("TAKEN"))
    assert exchange.calls == []


def test_permission_rules(world):
    service, exchange, _ = world
    exchange.permissions = ALLOWED.model_copy(update={"can_withdraw": True})
    with pytest.raises(ExchangeKeyCanWithdraw):
        service.create("alice", request())
    exchange.permissions = ALLOWED.model_copy(update={"can_trade_futures": False})
    with pytest.raises(ExchangeKeyLacksFutures):
        service.create("alice", request())
    assert service.create("alice", request(trade_type=TradeType.SPOT)).trade_type is TradeType.SPOT


def test_balance_limit_counts_the_users_other_active_keys(world):
    service, exchange, _ = world
    exchange.balances = {"K1": {"USDT": 2000}, "K2": {"BTC": 0.03}}  # 2000 + 600 > 2500
    service.create("alice", request("K1"))
    with pytest.raises(ApiBalanceLimitExceeded):
        service.create("alice", request("K2"))
    assert service.create("bob", request("K2")).balance_usd == 600


def test_no_plan_means_no_keys():
    service = ExchangeKeyService(FakeKeys(), FakeLimits(None), FakeExchange(), ReversingCipher())  # type: ignore[arg-type]
    with pytest.raises(ApiKeyLimitExceeded):
        service.create("alice", request())


def test_another_users_key_is_not_found(world):
    service, _, _ = world
    key = service.create("alice", request())
    for action in (
        lambda: service.get("bob", key.id),
        lambda: service.live_balance("bob", key.id),
        lambda: service.delete("bob", key.id),
    ):
        with pytest.raises(NotFoundError):
            action()


def snapshots(
    keys: FakeKeys,
    exchange: FakeExchange,
    budget: RollingWeightBudget | None = None,
    equity: MemoryEquity | None = None,
) -> BalanceSnapshotService:
    accounts = KeyAccounts(keys, exchange, ReversingCipher())  # type: ignore[arg-type]
    budgets = SnapshotBudgets(budget or RollingWeightBudget(2400), RollingWeightBudget(6000))
    return BalanceSnapshotService(
        keys,  # type: ignore[arg-type]
        accounts,
        exchange.market_data(ExchangeId.BINANCE),  # type: ignore[arg-type]
        budgets,
        equity or MemoryEquity(),  # type: ignore[arg-type]
    )


def run_day(keys: FakeKeys, exchange: FakeExchange, date: str) -> tuple[dict[str, object], dict[str, str]]:
    """The schedule's run and every queued key taken once: the enumerator's report and each key's outcome."""
    queued: list[str] = []
    report = SnapshotScheduler(keys, queued.extend).enqueue_daily(date)  # type: ignore[arg-type]
    service, outcomes = snapshots(keys, exchange), {}
    for body in queued:
        order = SnapshotOrder.model_validate_json(body)
        try:
            outcomes[order.key_id] = service.take(order, lambda: 600_000)
        except Exception as error:  # left to SQS: retried, then dead-lettered
            outcomes[order.key_id] = type(error).__name__
    return report.as_dict(), outcomes


def test_snapshots_mark_refused_keys_unauthorized_and_keep_failed_keys_for_a_retry(world):
    service, exchange, keys = world
    good, refused = service.create("alice", request("GOOD")), service.create("alice", request("REFUSED"))
    broken = service.create("bob", request("BROKEN"))
    exchange.refused, exchange.broken = {"REFUSED"}, {"BROKEN"}
    report, outcomes = run_day(keys, exchange, "2022-09-13")
    assert report["queued"] == 3
    assert sorted(outcomes.values()) == ["RuntimeError", "snapshotted", "unauthorized"]
    assert keys.get("alice", refused.id).active is False
    assert (keys.get("bob", broken.id).status, keys.get("bob", broken.id).active) == (KeyStatus.FAILED, True)
    # The next run queues only what is left: the failed key (the refused one is no longer active)
    again, outcomes = run_day(keys, exchange, "2022-09-13")
    assert (again["queued"], again["skipped"], list(outcomes)) == (1, 1, [broken.id])
    assert [s.key_id for s in keys.snapshots] == [good.id]


def test_a_redelivered_snapshot_message_adds_nothing(world):
    service, exchange, keys = world
    key = service.create("alice", request("K1"))
    order = SnapshotOrder(user_id="alice", key_id=key.id, date="2022-09-13")
    worker = snapshots(keys, exchange)
    assert worker.take(order, lambda: 600_000) == "snapshotted"
    assert worker.take(order, lambda: 600_000) == "skipped"
    assert len(keys.snapshots) == 1


def test_a_snapshot_waits_for_its_weight_share_and_is_deferred_when_none_is_left_in_time(world):
    service, exchange, keys = world
    first, second = service.create("alice", request("K1")), service.create("alice", request("K2"))
    clock = [0.0]
    budget = RollingWeightBudget(
        5, clock=lambda: clock[0], sleep=lambda s: clock.__setitem__(0, clock[0] + s)
    )
    worker = snapshots(keys, exchange, budget)
    assert (
        worker.take(SnapshotOrder(user_id="alice", key_id=first.id, date="d"), lambda: 600_000)
        == "snapshotted"
    )
    # The minute's share is spent: with 20 s left (10 s reserve) the next key cannot wait the 60 s it needs
    with pytest.raises(SnapshotDeferred):
        worker.take(SnapshotOrder(user_id="alice", key_id=second.id, date="d"), lambda: 20_000)
    # With time enough it waits for the window to pass and goes on
    assert (
        worker.take(SnapshotOrder(user_id="alice", key_id=second.id, date="d"), lambda: 600_000)
        == "snapshotted"
    )
    assert clock[0] >= 60


def test_exchange_errors_translate_in_one_place():
    from ccxt.base import errors as ccxt_errors

    from adapters.exchange.errors import scrub, translate
    from core.errors import ExchangeBadRequest, InvalidExchangeSymbol, ServiceUnavailableError

    assert isinstance(translate(ccxt_errors.AuthenticationError("x")), ExchangeAuthorizationFailed)
    assert isinstance(translate(ccxt_errors.PermissionDenied("x")), ExchangeAuthorizationFailed)
    assert isinstance(translate(ccxt_errors.BadSymbol("x")), InvalidExchangeSymbol)
    assert isinstance(translate(ccxt_errors.RequestTimeout("x")), ServiceUnavailableError)
    assert isinstance(translate(ccxt_errors.ExchangeNotAvailable("x")), ServiceUnavailableError)
    assert isinstance(translate(ccxt_errors.InsufficientFunds("x")), ExchangeBadRequest)
    assert "abc123" not in scrub("GET https://x/api?timestamp=1&signature=abc123 401")


def test_api_symbols_map_to_linear_perpetuals_for_futures():
    from adapters.exchange.binance import api_symbol, market_symbol

    assert market_symbol("BTC/USDT", TradeType.FUTURES) == "BTC/USDT:USDT"
    assert market_symbol("BTC/USDT", TradeType.SPOT) == "BTC/USDT"
    assert api_symbol("BTC/USDT:USDT") == "BTC/USDT"


def test_the_equity_refresh_reads_the_automated_futures_keys_into_the_fan_outs_cache(world):
    service, exchange, keys = world
    automated = service.create(
        "alice",
        NewExchangeKey(
            ExchangeId.BINANCE, TradeType.FUTURES, StrategyType.AUTOMATED, "Bot", "AUTO", "SECRET"
        ),
    )
    service.create("alice", request("MANUAL"))
    exchange.balances["AUTO"] = {"USDT": 1234.5}
    queued: list[str] = []
    report = SnapshotScheduler(keys, queued.extend).enqueue_equity_refresh("2022-09-13")  # type: ignore[arg-type]
    assert (report.queued, report.skipped) == (1, 1)
    (order,) = [SnapshotOrder.model_validate_json(body) for body in queued]
    assert (order.key_id, order.purpose) == (automated.id, "EQUITY")
    equity = MemoryEquity()
    assert snapshots(keys, exchange, equity=equity).take(order, lambda: 600_000) == "refreshed"
    assert equity.get("alice", automated.id).equity_usdt == 1234.5
    # A refresh is no daily snapshot: the key's balance history is untouched.
    assert keys.snapshots == []


def test_an_equity_refresh_waits_for_the_weight_share_like_a_snapshot(world):
    service, exchange, keys = world
    automated = service.create(
        "alice",
        NewExchangeKey(
            ExchangeId.BINANCE, TradeType.FUTURES, StrategyType.AUTOMATED, "Bot", "AUTO", "SECRET"
        ),
    )
    order = SnapshotOrder(user_id="alice", key_id=automated.id, date="2022-09-13", purpose="EQUITY")
    spent = RollingWeightBudget(5)
    assert spent.take(5, 0)
    with pytest.raises(SnapshotDeferred):
        snapshots(keys, exchange, budget=spent).take(order, lambda: 10_500)
