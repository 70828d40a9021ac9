"""The fan-out worker: one trigger on one follower's account, through the one order path (``strategies.md``).

Per message, once per trigger and follow (the outcome is written once and a redelivered message finds
it; the trade's client order ids derive from the trigger and the follow, so even a crash between the
order and the outcome never places twice):

1. The follow must still be active, its key active, AUTHORIZED, AUTOMATED and FUTURES (else SKIPPED
   KEY_INACTIVE), and the user's plan must allow automation (else SKIPPED PLAN). The follow, the
   subscription, the key and its cached account read come in one round trip (``FollowerReads``).
2. OPEN: the follower's market price against the signal's (SKIPPED SLIPPAGE beyond ``maxSlippagePercent``),
   the amount sized to the follow's risk profile (SKIPPED BELOW_MINIMUM when the market would refuse it),
   the signal's leverage set on the symbol, then the order engine with origin STRATEGY: PLACED with its
   amount, or FAILED with the exchange's refusal (after compensation).
3. CLOSE: the follower's symbol is cleared (orders cancelled, position closed) and its strategy trade ends.

A message without a follow is the strategy's own track record: the previous strategy trade closes at the
market's last price and an OPEN starts the next one there.

At scale (1,000 followers within 30 s, ``strategies.md`` "Scale") a follower's order costs only its own
order requests (weight 0 on Binance's IP limit) and the leverage:

- **One price read per symbol and container** (``SharedPrices``): the mark price the slippage check, the
  sizing and the order engine use is read once and shared by every follower the container handles within
  ``max_age_ms``, not once per follower.
- **The equity cache** (``EquityCache``, stored by ``EquityCacheRepository``): a follower is sized from the
  last account read of its key (USDT wallet balance and the symbols holding something, one
  ``GET /fapi/v3/account`` of weight 5) when that read is at most ``max_age_seconds`` old; the same read
  is the order engine's snapshot, so the clear costs nothing when the symbol holds nothing. A missing or
  older read is never used: the worker reads the account again, spending its share of the egress IPs'
  weight (``RollingWeightBudget``), and stores the read for the next signal; with the share spent it waits
  for room, and fails the message (SQS retries it) rather than size from an old balance. Who refreshes:
  the snapshot worker (``core.services.balance_snapshots``), when a follow starts and every ten minutes for
  every AUTOMATED key, within its own share; every read the fan-out makes writes the cache too.
- **A lease per (trigger, follow)** (``FollowClaims``): two deliveries of one message never run the
  order path side by side; the second fails and SQS delivers it again, when the outcome is recorded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from core.errors import (
    ApiError,
    BusinessRuleError,
    ExchangeKeyInactive,
    FieldValidationError,
    ServiceUnavailableError,
)
from core.models.catalog import Plan
from core.models.exchange import ExchangeKey, KeyStatus, StrategyType, TradeType
from core.models.signals import FanOutOrder, FollowerOutcome, Outcome, SignalAction, SkipReason, Trigger
from core.models.strategy_track import StrategyTrade
from core.models.trading import AccountSnapshot, CloseReason, EntryType, OrderRequest, Origin
from core.observability import logger
from core.ports import ExchangeMarketData, TradingAccount
from core.repositories.catalog import CatalogRepository
from core.repositories.equity_cache import EquityCacheRepository
from core.repositories.follower_reads import FollowerReads
from core.repositories.strategy_trades import StrategyTradeRepository
from core.repositories.trade_history import TradeRepository
from core.repositories.triggers import FollowClaims, TriggerRepository
from core.services.key_accounts import KeyAccounts
from core.services.order_engine import OrderEngine, TradeOwner, resting_entries
from core.services.order_planner import ClientOrderIds
from core.services.plan_limits import PlanLimits
from core.services.request_weight import RollingWeightBudget
from core.services.sizing import follower_amount
from core.services.strategy_track_record import close_at_market, start_trade
from core.timeutil import iso_now


def automated_futures(key: ExchangeKey) -> None:
    if (
        not key.active
        or key.status is not KeyStatus.AUTHORIZED
        or key.strategy_type is not StrategyType.AUTOMATED
        or key.trade_type is not TradeType.FUTURES
    ):
        raise ExchangeKeyInactive


ACCOUNT_READ_WEIGHT = 5  # GET /fapi/v3/account on Binance USD-M


class TriggerGone(Exception):
    """The message names a trigger that is not (yet) recorded: retried, then dead-lettered."""


class FollowBusy(Exception):
    """Another delivery of this message holds the follower's lease: SQS delivers it again later."""


class EquityUnavailable(Exception):
    """No account read young enough, and no weight left to read it: retried, never sized from an old one."""


def now_ms() -> int:
    return int(time.time() * 1000)


class SharedPrices:
    """The mark price of each symbol, read once and shared by every follower of the container for
    ``max_age_ms`` (one read per symbol and batch, not one per follower). Followers waiting for a read
    in flight take its result."""

    def __init__(self, max_age_ms: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._max_age = max_age_ms / 1000
        self._clock = clock
        self._prices: dict[str, tuple[float, float]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def mark(self, symbol: str, read: Callable[[], float]) -> float:
        with self._guard:
            lock = self._locks.setdefault(symbol, threading.Lock())
        with lock:
            cached = self._prices.get(symbol)
            if cached is not None and self._clock() - cached[1] <= self._max_age:
                return cached[0]
            price = read()
            self._prices[symbol] = (price, self._clock())
            return price


class EquityCache:
    """Each key's latest account read, used while at most ``max_age_seconds`` old (see the module's doc)."""

    def __init__(
        self,
        repository: EquityCacheRepository,
        budget: RollingWeightBudget,
        max_age_seconds: int,
        # Short of the worker's RESERVE_MS (8 s): a follower started with that much time left waits for
        # weight, reads the account and places its order before the function's timeout, or is retried.
        wait_seconds: float = 3.0,
        clock_ms: Callable[[], int] = now_ms,
    ) -> None:
        self._repository = repository
        self._budget = budget
        self._max_age_ms = max_age_seconds * 1000
        self._wait = wait_seconds
        self._clock_ms = clock_ms

    def fresh(self, snapshot: AccountSnapshot | None) -> bool:
        return snapshot is not None and self._clock_ms() - snapshot.read_at_ms <= self._max_age_ms

    def snapshot(
        self, user_id: str, key_id: str, account: TradingAccount, cached: AccountSnapshot | None
    ) -> AccountSnapshot:
        """``cached``: the key's stored read, as the caller just read it (``FollowerReads``)."""
        if cached is not None and self.fresh(cached):
            return cached
        if not self._budget.take(ACCOUNT_READ_WEIGHT, self._wait):
            raise EquityUnavailable(key_id)
        read = account.account_snapshot()
        self._repository.save(user_id, key_id, read)
        return read


class SharedPriceAccount:
    """A follower's account whose mark price is the container's shared read; everything else is its own."""

    def __init__(self, account: TradingAccount, prices: SharedPrices) -> None:
        self._account = account
        self._prices = prices

    def mark_price(self, symbol: str) -> float:
        return self._prices.mark(symbol, lambda: self._account.mark_price(symbol))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._account, name)


class FanOutWorker:
    def __init__(
        self,
        triggers: TriggerRepository,
        reads: FollowerReads,
        accounts: KeyAccounts,
        limits: PlanLimits,
        catalog: CatalogRepository,
        engine: OrderEngine,
        trades: TradeRepository,
        market: ExchangeMarketData,
        strategy_trades: StrategyTradeRepository,
        equity: EquityCache,
        prices: SharedPrices,
        claims: FollowClaims,
        lease_seconds: int = 60,
        now: Callable[[], str] = iso_now,
        clock_ms: Callable[[], int] = now_ms,
    ) -> None:
        self._triggers = triggers
        self._reads = reads
        self._accounts = accounts
        self._limits = limits
        self._catalog = catalog
        self._engine = engine
        self._trades = trades
        self._market = market
        self._strategy_trades = strategy_trades
        self._equity = equity
        self._prices = prices
        self._claims = claims
        self._lease_ms = lease_seconds * 1000
        self._now = now
        self._clock_ms = clock_ms
        self._known_triggers: dict[str, Trigger] = {}  # a trigger never changes once recorded
        self._known_lock = threading.Lock()

    def _trigger(self, trigger_id: str) -> Trigger | None:
        with self._known_lock:
            known = self._known_triggers.get(trigger_id)
        if known is not None:
            return known
        trigger = self._triggers.get(trigger_id)
        if trigger is not None:
            with self._known_lock:
                if len(self._known_triggers) > 256:
                    self._known_triggers.clear()
                self._known_triggers[trigger_id] = trigger
        return trigger

    def handle(self, order: FanOutOrder) -> FollowerOutcome | None:
        trigger = self._trigger(order.trigger_id)
        if trigger is None:
            raise TriggerGone(order.trigger_id)
        if order.follow_id is None:
            self._track(trigger)
            return None
        assert order.user_id is not None
        assert order.key_id is not None
        earlier = self._triggers.outcome(trigger.id, order.follow_id)
        if earlier is not None:
            return earlier  # a redelivered message: done already
        if not self._claims.take(trigger.id, order.follow_id, self._clock_ms(), self._lease_ms):
            raise FollowBusy(order.follow_id)  # another delivery is placing it now
        try:
            outcome = self._follow(trigger, order.follow_id, order.user_id, order.key_id)
            self._triggers.record_outcome(outcome)
        except BaseException:
            # This delivery stops working on it (SQS delivers it again); only a killed one keeps its lease.
            self._claims.release(trigger.id, order.follow_id)
            raise
        logger.info(
            "fan-out outcome",
            extra={
                "trigger_id": trigger.id,
                "follow_id": outcome.follow_id,
                "outcome": outcome.outcome.value,
                "reason": outcome.reason,
            },
        )
        return outcome

    # ------------------------------------------------------------ one follower
    def _follow(self, trigger: Trigger, follow_id: str, user_id: str, key_id: str) -> FollowerOutcome:
        def outcome(
            result: Outcome, reason: str | None = None, amount: float | None = None, trade: str | None = None
        ) -> FollowerOutcome:
            return FollowerOutcome(
                trigger_id=trigger.id,
                follow_id=follow_id,
                key_id=key_id,
                user_id=user_id,
                outcome=result,
                reason=reason,
                amount=amount,
                trade_id=trade,
            )

        state = self._reads.read(user_id, follow_id, key_id)  # one round trip for the four reads
        follow = state.follow
        if follow is None or not follow.active or follow.strategy_id != trigger.strategy_id:
            return outcome(Outcome.SKIPPED, SkipReason.KEY_INACTIVE)
        plan = self._limits.plan_of_subscription(state.subscription)
        if plan is None or not plan.strategy_automated:
            return outcome(Outcome.SKIPPED, SkipReason.PLAN)
        if state.key is None:
            return outcome(Outcome.SKIPPED, SkipReason.KEY_INACTIVE)
        key, ciphertext = state.key
        try:
            account = self._accounts.open_trading(key, ciphertext, automated_futures)
        except ExchangeKeyInactive:
            return outcome(Outcome.SKIPPED, SkipReason.KEY_INACTIVE)
        signal = trigger.signal
        symbol = follow.symbol
        if signal.action is SignalAction.CLOSE:
            # As the order engine's clear: our records name the entries that may rest on the book; only a
            # symbol we hold no record of has its books looked up.
            trades = self._trades.open_on(key.id, symbol)
            closed = account.flatten(
                symbol,
                ClientOrderIds.for_request(user_id, key.id, f"{trigger.id}:close", Origin.STRATEGY).close,
                resting_entries(trades) if trades else None,
            )
            self._engine.end_replaced_trades(key.id, symbol, closed, reason=CloseReason.SIGNAL, trades=trades)
            return outcome(Outcome.PLACED, amount=closed.amount if closed else None)
        ids = ClientOrderIds.for_request(user_id, key.id, f"{trigger.id}:{follow.id}", Origin.STRATEGY)
        try:
            return self._open(
                trigger, follow.risk_profile_id, plan, key, account, ids, symbol, outcome, state.equity
            )
        except ServiceUnavailableError:
            if self._trades.get(user_id, ids.trade_id) is None:
                raise  # nothing was started: SQS delivers the message again
            return outcome(Outcome.FAILED, "exchange unavailable", trade=ids.trade_id)

    def _open(
        self,
        trigger: Trigger,
        profile_id: str,
        plan: Plan,
        key: ExchangeKey,
        account: TradingAccount,
        ids: ClientOrderIds,
        symbol: str,
        outcome: Callable[..., FollowerOutcome],
        cached_equity: AccountSnapshot | None,
    ) -> FollowerOutcome:
        signal = trigger.signal
        assert signal.side is not None
        assert signal.stop_trigger_price is not None
        profile = self._catalog.get_risk_profile(profile_id)
        account = SharedPriceAccount(account, self._prices)
        rules = account.rules(symbol)
        mark = account.mark_price(symbol)
        slippage = abs(mark - signal.price) / signal.price * 100 if signal.price else 0.0
        if signal.max_slippage_percent is not None and slippage > signal.max_slippage_percent:
            return outcome(Outcome.SKIPPED, SkipReason.SLIPPAGE)
        entry = signal.price if signal.type is EntryType.LIMIT and signal.price else mark
        snapshot = self._equity.snapshot(key.user_id, key.id, account, cached_equity)
        amount = follower_amount(
            equity_usd=snapshot.equity_usdt,
            max_balance_usd=plan.max_balance_usd,
            risk_percent=profile.percentage if profile else 0.0,
            entry=entry,
            stop=signal.stop_trigger_price,
            leverage=signal.leverage,
            rules=rules,
        )
        if amount is None:
            return outcome(Outcome.SKIPPED, SkipReason.BELOW_MINIMUM)
        try:
            account.set_leverage(symbol, signal.leverage)
        except BusinessRuleError:
            return outcome(Outcome.FAILED, "leverage refused by the exchange")
        request = OrderRequest(
            symbol=symbol,
            type=signal.type,
            side=signal.side,
            amount=float(amount),
            price=signal.price if signal.type is EntryType.LIMIT else None,
            take_profit_prices=signal.take_profit_prices,
            stop_trigger_price=signal.stop_trigger_price,
            stop_trigger_type=signal.stop_trigger_type,
            stop_price=signal.stop_price,
            risk_profile_percent=profile.percentage if profile else None,
            move_stop_to_entry_after_take_profit=signal.move_stop_to_entry_after_take_profit,
            leverage=signal.leverage,
        )
        owner = TradeOwner(key.user_id, key.id, Origin.STRATEGY, trigger.strategy_id)
        try:
            placed = self._engine.place(account, owner, request, ids, snapshot=snapshot)
        except FieldValidationError as refused:
            # What the market cannot take at this follower's size (a take-profit part below the minimum ...).
            return outcome(Outcome.SKIPPED, SkipReason.BELOW_MINIMUM if refused.errors else None)
        except BusinessRuleError as refused:
            return outcome(Outcome.FAILED, f"{refused.message} ({refused.code})", trade=ids.trade_id)
        return outcome(Outcome.PLACED, amount=placed.record.amount, trade=placed.record.trade_id)

    # ------------------------------------------------------------ the strategy's own trade
    def _track(self, trigger: Trigger) -> None:
        strategy = self._catalog.get_strategy(trigger.strategy_id)
        if strategy is None:
            return
        current = self._strategy_trades.open_trade(strategy.id)
        if current is not None and current.opened_at >= trigger.received_at:
            return  # this trigger's trade, or a later one's: a redelivered or late message changes nothing
        try:
            last = float(self._market.ticker(strategy.symbol, TradeType.FUTURES)["last"])
        except ApiError:
            raise ServiceUnavailableError("no market price for the track record") from None
        if current is not None:
            ended = close_at_market(current, last, trigger.received_at)
            if ended is None:
                self._strategy_trades.discard_open(strategy.id)
            else:
                self._strategy_trades.close(ended)
        signal = trigger.signal
        if (
            signal.action is SignalAction.OPEN
            and signal.side is not None
            and signal.stop_trigger_price is not None
        ):
            trade = StrategyTrade(
                strategy_id=strategy.id,
                trade_id=trigger.id,
                side=signal.side,
                entry_type=signal.type,
                leverage=signal.leverage,
                limit_price=signal.price if signal.type is EntryType.LIMIT else None,
                take_profits=signal.take_profit_prices,
                stop=signal.stop_trigger_price,
                opened_at=trigger.received_at,
            )
            self._strategy_trades.save_open(start_trade(trade, last))
