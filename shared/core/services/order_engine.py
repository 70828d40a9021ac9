"""The one order path of every trade, manual or automated: plan, record, place, protect, or undo.

1. **Plan** (``order_planner``): the request is checked whole against the market before anything is
   sent; a request that would be refused changes nothing on the exchange (422).
2. **Record** the trade (state PENDING) before the first exchange call. Its trade id comes from the
   request's Idempotency-Key (or the strategy trigger and follow), so a retry meets its first attempt:
   a finished one answers as it did then; an unfinished one resumes from what is on the exchange.
3. **Clear** the symbol when it holds anything (``TradingAccount.flatten``: what could add to the position
   is cancelled, the position closed, and only then its exits, so a close that fails leaves its stop), then place
   the **entry** (ENTERING), then the **stop** (retried while the error is temporary), then the
   **take-profits** side by side (PROTECTING), each recorded before it is sent (what it returned is written with the
   next step: one record write per send). A fresh trade sends each order once without looking it up
   first: its record is written before each send, so only a resumed trade (or a retried stop) needs to
   look its orders up by client order id.
4. Any failure after the symbol is touched, of whatever kind, **compensates**: the symbol is flattened
   the same way (COMPENSATED, answered 433 1500). If even that fails, the record
   stays unfinished and the trade monitor repairs it; a metric and an alarm say so.
5. The answer is 200 only for a live trade with every exit it asked for (OPEN); ``Order Placed`` is
   published then.

**The cheapest correct clear.** Cancelling both books and reading the position costs three requests
(weight 1 + 1 + 5) on every order. One account read (``AccountSnapshot``; USD-M ``GET /fapi/v3/account``,
weight 5) lists every symbol that holds a position or open orders, but Binance documents it for the
regular order book only: conditional (algo) orders live in their separate service since the 2025 algo
migration, and nothing says they make a symbol appear there (the simulator follows that reading). A symbol
holding only an old stop or take-profit would therefore look empty. Our own records cover our own exits:
every exit this engine places belongs to a trade recorded before it is sent, and that trade stays in
``TradeRepository.open_on`` until it is closed with its exits cancelled. So the clear is skipped (no
request at all) only when the key's records show no open or unfinished trade on the symbol AND the
snapshot does not list it; otherwise the full clear runs. With records on the symbol the snapshot is not
read at all (the full clear runs anyway). A caller may hand in a recent snapshot (the strategy fan-out, from
its equity cache); without one the engine reads it itself (one request, side by side with the mark
price read, so it costs no extra round trip of time; a request the planner then refuses has spent it). An algo order placed on the key
by hand outside this API is not seen by this rule; manual and automated keys are meant to trade only here.

No HTTP-shaped error is raised here beyond the domain's own (``core.errors``); the edge maps them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal

from core.errors import (
    ApiError,
    BusinessRuleError,
    ExchangeBadRequest,
    ServiceUnavailableError,
    business_rule_errors,
)
from core.models.trading import (
    AccountSnapshot,
    CloseReason,
    EntryType,
    ExchangeOrder,
    JournalEntry,
    OrderKind,
    OrderRef,
    OrderRequest,
    OrderSpec,
    Origin,
    PlacedOrder,
    Side,
    TradeRecord,
    TradeState,
)
from core.observability import logger
from core.ports import Counter, TradeEventPublisher, TradingAccount
from core.repositories.trade_history import TradeAlreadyStarted, TradeRepository
from core.services.order_planner import ClientOrderIds, PlannedOrder, TradePlan, plan_trade
from core.services.trade_events import order_placed, trade_closed
from core.timeutil import iso_now

STOP_ATTEMPTS = 3
MAX_SENDS_TOGETHER = 4  # take-profits in flight at once (Binance allows 300 orders per 10 s per account)
UNAVAILABLE = "503"


@dataclass(frozen=True)
class TradeOwner:
    """Whose account a trade runs on and who asked for it."""

    user_id: str
    key_id: str
    origin: Origin = Origin.MANUAL
    strategy_id: str | None = None


@dataclass(frozen=True)
class PlacedTrade:
    record: TradeRecord
    orders: list[ExchangeOrder]  # the reference's order: entry, take-profits, stop


def placed_order(role: str, spec: OrderSpec, order: ExchangeOrder | None) -> PlacedOrder:
    return PlacedOrder(
        role=role,
        id=order.id if order else None,
        client_order_id=spec.client_order_id,
        kind=spec.kind.value,
        side=spec.side.value,
        amount=spec.amount,
        price=spec.price,
        trigger_price=spec.trigger_price,
        status=order.status if order else None,
        conditional=spec.kind.conditional,
    )


def error_for(code: str | None) -> ApiError:
    """The documented error a finished trade answered with, to answer a retry the same way."""
    if code == UNAVAILABLE:
        return ServiceUnavailableError("exchange temporarily unavailable")
    for error_class in business_rule_errors():
        if error_class.code == code:
            return error_class("answered as the first attempt was")
    return ExchangeBadRequest("answered as the first attempt was")


class OrderEngine:
    def __init__(
        self,
        trades: TradeRepository,
        events: TradeEventPublisher,
        counter: Counter,
        stop_attempts: int = STOP_ATTEMPTS,
        retry_delay_seconds: float = 0.3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._trades = trades
        self._events = events
        self._counter = counter
        self._stop_attempts = stop_attempts
        self._retry_delay = retry_delay_seconds
        self._sleep = sleep

    # ------------------------------------------------------------ the saga
    def place(
        self,
        account: TradingAccount,
        owner: TradeOwner,
        request: OrderRequest,
        ids: ClientOrderIds,
        snapshot: AccountSnapshot | None = None,
    ) -> PlacedTrade:
        """Places the trade. ``snapshot``: a recent account read of the key (the clear step reads one
        itself when it needs one and none is given)."""
        if ids.idempotent:
            earlier = self._trades.get(owner.user_id, ids.trade_id)
            if earlier is not None:
                return self._answer_again(account, earlier, ids)
        rules = account.rules(request.symbol)
        mark, snapshot = self._reads(account, owner, request.symbol, ids, snapshot)
        plan = plan_trade(request, rules, mark, ids)
        record = self._new_record(owner, request, plan, ids)
        try:
            self._trades.start(record)
        except TradeAlreadyStarted:
            earlier = self._trades.get(owner.user_id, ids.trade_id)
            assert earlier is not None
            return self._answer_again(account, earlier, ids)
        return self._run(account, record, plan, ids, resumed=False, snapshot=snapshot)

    def _reads(
        self,
        account: TradingAccount,
        owner: TradeOwner,
        symbol: str,
        ids: ClientOrderIds,
        snapshot: AccountSnapshot | None,
    ) -> tuple[float, AccountSnapshot | None]:
        """The mark price the planner needs and, side by side with it, the account read the clear will
        need (none when one was handed in or our records already make the clear run): two round trips
        in the time of one. Both are reads: nothing is sent before the trade is recorded."""
        if snapshot is not None or self._earlier_trades(owner.key_id, symbol, ids.trade_id):
            return account.mark_price(symbol), snapshot
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(account.account_snapshot)
            mark = account.mark_price(symbol)
            return mark, pending.result()

    def _earlier_trades(self, key_id: str, symbol: str, trade_id: str) -> list[TradeRecord]:
        """Our open or unfinished trades on the key's symbol, other than this one."""
        return [t for t in self._trades.open_on(key_id, symbol) if t.trade_id != trade_id]

    def _answer_again(self, account: TradingAccount, record: TradeRecord, ids: ClientOrderIds) -> PlacedTrade:
        """A retried request: a finished trade answers as it did; an unfinished one resumes."""
        if record.state in (TradeState.COMPENSATED, TradeState.FAILED):
            raise error_for(record.failure)
        plan = plan_of(record)
        if record.state is TradeState.OPEN or record.state is TradeState.CLOSED:
            return self._verified(account, record, plan, require_live=False)
        return self._run(account, record, plan, ids, resumed=True)

    def _run(
        self,
        account: TradingAccount,
        record: TradeRecord,
        plan: TradePlan,
        ids: ClientOrderIds,
        resumed: bool,
        snapshot: AccountSnapshot | None = None,
    ) -> PlacedTrade:
        symbol = record.symbol
        entry_order = None
        if resumed:
            entry_order = account.find_order(
                symbol, plan.entry.spec.client_order_id, plan.entry.spec.kind.conditional
            )
        try:
            if entry_order is None:
                self._step(record, TradeState.ENTERING, "clear symbol", save=False)  # saved before a cancel
                self._clear(account, record, ids, snapshot)
                self._step(record, TradeState.ENTERING, "send entry")
                try:
                    entry_order = account.place(symbol, plan.entry.spec)
                except BusinessRuleError as refused:
                    # The exchange refused the entry: nothing of this trade is on the book.
                    record.failure = refused.code
                    self._step(record, TradeState.FAILED, "entry refused", type(refused).__name__)
                    raise
            self._entry_placed(record, plan.entry, entry_order)
            placed: dict[str, ExchangeOrder] = {}
            if plan.stop is not None:
                self._step(record, TradeState.PROTECTING, "send stop")
                order = self._place_stop(account, symbol, plan.stop.spec, look_first=resumed)
                self._exit_placed(record, plan.stop, order, placed)
            if plan.take_profits:
                # The take-profits go out together once the stop is on the book: all recorded, then sent.
                for planned in plan.take_profits:
                    self._step(record, TradeState.PROTECTING, f"send {planned.role}", save=False)
                self._trades.save(record)
                orders = self._send_together(account, symbol, plan.take_profits, look_first=resumed)
                for planned, order in zip(plan.take_profits, orders, strict=True):
                    self._exit_placed(record, planned, order, placed)
            result = self._verified(
                account,
                record,
                plan,
                require_live=True,
                check_position=resumed,
                placed=placed,
                entry=entry_order,
            )
        except BusinessRuleError as error:
            if record.state is TradeState.FAILED:
                raise
            self._compensate(account, record, ids, f"{type(error).__name__} while placing")
            raise ExchangeBadRequest("the trade could not be protected: its orders were cancelled") from None
        except Exception as error:  # anything at all after the symbol was touched: never leave it half-done
            logger.error(
                "order path failed", extra={"trade_id": record.trade_id, "error_type": type(error).__name__}
            )
            # The exchange stopped answering before the entry was on the book: nothing of the trade was placed,
            # a 503 as when it fails before anything is sent. Once the entry is placed, an exit that cannot
            # be placed is the 1500 of trades.md (the position is closed), whatever the cause.
            unavailable = isinstance(error, ServiceUnavailableError) and entry_order is None
            self._compensate(account, record, ids, f"{type(error).__name__} while placing", unavailable)
            if unavailable:
                raise ServiceUnavailableError(
                    "exchange temporarily unavailable: the trade was not placed, its orders were cancelled"
                ) from None
            raise ExchangeBadRequest("the trade could not be protected: its orders were cancelled") from None
        if record.state is not TradeState.OPEN:
            record.failure = None  # a resumed trade that is now live and protected answers 200
            self._step(record, TradeState.OPEN, "open")
            self._counter.count("OrdersPlaced")
            self._events.publish("Order Placed", order_placed(record))
        return result

    def _exit_placed(
        self,
        record: TradeRecord,
        planned: PlannedOrder,
        order: ExchangeOrder,
        placed: dict[str, ExchangeOrder],
    ) -> None:
        placed[planned.role] = order
        record.orders.append(placed_order(planned.role, planned.spec, order))
        self._step(record, TradeState.PROTECTING, f"{planned.role} placed", order.id, save=False)

    def _send_together(
        self, account: TradingAccount, symbol: str, planned: list[PlannedOrder], look_first: bool
    ) -> list[ExchangeOrder]:
        """Sends the orders side by side (k round trips in the time of one) and waits for every one of
        them, so that a failure compensates only once nothing is in flight any more."""
        if len(planned) == 1:
            return [self._send(account, symbol, planned[0].spec, look_first)]
        with ThreadPoolExecutor(max_workers=min(len(planned), MAX_SENDS_TOGETHER)) as pool:
            pending = [pool.submit(self._send, account, symbol, p.spec, look_first) for p in planned]
        failed = [error for future in pending if (error := future.exception()) is not None]
        if failed:
            raise failed[0]
        return [future.result() for future in pending]

    def _entry_placed(self, record: TradeRecord, entry: PlannedOrder, order: ExchangeOrder) -> None:
        if record.placed("entry") is None:
            record.orders.append(placed_order("entry", entry.spec, order))
        record.order_id = order.id
        record.amount = order.amount or entry.spec.amount
        record.price = order.average or order.price or entry.spec.price
        record.cost = order.cost
        self._step(record, TradeState.PROTECTING, "entry placed", order.id, save=False)

    def _verified(
        self,
        account: TradingAccount,
        record: TradeRecord,
        plan: TradePlan,
        require_live: bool,
        check_position: bool = True,
        placed: dict[str, ExchangeOrder] | None = None,
        entry: ExchangeOrder | None = None,
    ) -> PlacedTrade:
        """The trade's orders as the exchange has them now. With ``require_live``, only a live trade with
        every exit on the book passes (a resumed request answers 200 for nothing less)."""
        symbol = record.symbol
        orders = dict(placed or {})
        for planned in plan.orders:
            if planned.role == "entry" and entry is not None:
                orders["entry"] = entry
            if planned.role not in orders:
                found = account.find_order(
                    symbol, planned.spec.client_order_id, planned.spec.kind.conditional
                )
                if found is None:
                    raise ExchangeBadRequest(f"{planned.role} of the trade is not on the exchange")
                orders[planned.role] = found
        if require_live:
            if any(not orders[p.role].is_open for p in plan.exits):
                raise ExchangeBadRequest("an exit of the trade is no longer on the book")
            if check_position and record.entry_type is EntryType.MARKET and account.position(symbol) is None:
                raise ExchangeBadRequest("the trade's position is gone")
        answer = [orders["entry"], *(orders[p.role] for p in plan.take_profits)]
        if plan.stop is not None:
            answer.append(orders["stop"])
        return PlacedTrade(record=record, orders=answer)

    # ------------------------------------------------------------ steps
    def _step(
        self, record: TradeRecord, state: TradeState, step: str, detail: str | None = None, save: bool = True
    ) -> None:
        """Journals a step. Every send is saved before it goes out; what a send returned is written with the
        next step (a crash in between resumes by client order id, so nothing is lost but a write)."""
        record.state = state
        record.updated_at = iso_now()
        record.journal.append(JournalEntry(at=record.updated_at, step=step, detail=detail))
        if save:
            self._trades.save(record)

    @staticmethod
    def _send(account: TradingAccount, symbol: str, spec: OrderSpec, look_first: bool) -> ExchangeOrder:
        """Places the order; ``look_first`` (a resumed trade, a retried stop) finds it by client id first,
        since an earlier attempt may have been accepted."""
        if look_first:
            found = account.find_order(symbol, spec.client_order_id, spec.kind.conditional)
            if found is not None:
                return found
        return account.place(symbol, spec)

    def _place_stop(
        self, account: TradingAccount, symbol: str, spec: OrderSpec, look_first: bool
    ) -> ExchangeOrder:
        """The stop is retried while the exchange is unavailable (each retry looks for the earlier attempt
        first); a refusal is final at once."""
        for attempt in range(1, self._stop_attempts + 1):
            try:
                return self._send(account, symbol, spec, look_first=look_first or attempt > 1)
            except ServiceUnavailableError:
                logger.warning("stop order failed", extra={"attempt": attempt})
                if attempt == self._stop_attempts:
                    raise
                self._sleep(self._retry_delay * attempt)
        raise AssertionError("unreachable")

    def _clear(
        self,
        account: TradingAccount,
        record: TradeRecord,
        ids: ClientOrderIds,
        snapshot: AccountSnapshot | None,
    ) -> None:
        """Skipped when neither our records nor the account read show anything on the symbol (see the
        module's docstring); otherwise the symbol is flattened (its position closed before its exits go)."""
        earlier = self._earlier_trades(record.key_id, record.symbol, record.trade_id)  # ours is recorded now
        if not earlier:
            if snapshot is None:
                snapshot = account.account_snapshot()
            if record.symbol not in snapshot.busy_symbols:
                record.journal.append(JournalEntry(at=iso_now(), step="symbol already clear"))
                return
        self._trades.save(record)  # the clear is the first send: recorded before it goes out
        # Our records name every resting entry of ours on the symbol; a position they do not know of (the
        # account read listed the symbol) has its books looked up.
        closed = account.flatten(record.symbol, ids.clear, resting_entries(earlier) if earlier else None)
        self.end_replaced_trades(record.key_id, record.symbol, closed, keep=record.trade_id, trades=earlier)
        if closed is not None:
            record.orders.append(
                PlacedOrder(
                    role="clear",
                    id=closed.id,
                    client_order_id=ids.clear,
                    kind="market",
                    side=(closed.side or "").upper(),
                    amount=closed.amount,
                    price=None,
                    trigger_price=None,
                    status=closed.status,
                )
            )

    def end_replaced_trades(
        self,
        key_id: str,
        symbol: str,
        closing: ExchangeOrder | None,
        keep: str | None = None,
        reason: CloseReason = CloseReason.MANUAL,
        trades: list[TradeRecord] | None = None,
    ) -> None:
        """The open trades of a key's symbol end when the symbol is cleared (a new order, a cancel, a
        strategy's CLOSE): closed with ``reason`` at the clearing order's price, their exits already cancelled.
        ``trades``: those trades when the caller has just read them."""
        for earlier in trades if trades is not None else self._trades.open_on(key_id, symbol):
            if earlier.trade_id == keep or earlier.state is not TradeState.OPEN:
                continue
            if closing is not None:
                earlier.exit_price = closing.average or closing.price
            earlier.close_reason = reason
            earlier.closed_at = iso_now()
            self._step(earlier, TradeState.CLOSED, "closed", "the symbol was cleared")
            self._events.publish("Trade Closed", trade_closed(earlier))

    def _compensate(
        self,
        account: TradingAccount,
        record: TradeRecord,
        ids: ClientOrderIds,
        reason: str,
        unavailable: bool = False,
    ) -> None:
        """Flattens the symbol (entries cancelled, position closed, then exits); a retry of the request answers with
        ``record.failure``: 503 when the exchange was unavailable, else 1500."""
        self._counter.count("Compensations")
        record.failure = UNAVAILABLE if unavailable else ExchangeBadRequest.code
        self._step(
            record, record.state, "compensate", f"{reason}: cancelling every order and closing the position"
        )
        try:
            closed = account.flatten(record.symbol, ids.close, resting_entries([record]))
        except Exception as error:
            # Nothing more can be done from here: the record stays unfinished for the monitor to repair.
            self._counter.count("CompensationsFailed")
            logger.critical(
                "compensation failed: position may be unprotected",
                extra={
                    "trade_id": record.trade_id,
                    "key_id": record.key_id,
                    "error_type": type(error).__name__,
                },
            )
            self._step(record, record.state, "compensation failed", type(error).__name__)
            return
        detail = f"position closed by order {closed.id}" if closed else "position was already flat"
        self._step(record, TradeState.COMPENSATED, "compensated", detail)

    # ------------------------------------------------------------ records
    @staticmethod
    def _new_record(
        owner: TradeOwner, request: OrderRequest, plan: TradePlan, ids: ClientOrderIds
    ) -> TradeRecord:
        now = iso_now()
        return TradeRecord(
            user_id=owner.user_id,
            key_id=owner.key_id,
            trade_id=ids.trade_id,
            origin=owner.origin,
            strategy_id=owner.strategy_id,
            symbol=request.symbol,
            side=request.side,
            entry_type=request.type,
            amount=plan.entry.spec.amount,
            price=plan.entry.spec.price,
            stop=plan.stop.spec.trigger_price if plan.stop else None,
            stop_type=request.stop_trigger_type.value if plan.stop and request.stop_trigger_type else None,
            take_profit=[float(p.spec.price or 0) for p in plan.take_profits],
            trailing_trigger_price=request.price if request.type is EntryType.TRAILING_STOP else None,
            callback_rate=request.callback_rate,
            risk_profile_percent=request.risk_profile_percent,
            move_stop_to_entry=request.move_stop_to_entry_after_take_profit,
            leverage=request.leverage,
            created_at=now,
            updated_at=now,
            planned=[placed_order(p.role, p.spec, None) for p in plan.orders],
            journal=[JournalEntry(at=now, step="planned")],
        )


def resting_entries(records: list[TradeRecord]) -> list[OrderRef]:
    """The trades' entries that may rest on the book (limit and trailing entries; a market entry never does)."""
    return [
        OrderRef(order.client_order_id, OrderKind(order.kind).conditional)
        for record in records
        for order in record.planned
        if order.role == "entry" and OrderKind(order.kind) is not OrderKind.MARKET
    ]


def plan_of(record: TradeRecord) -> TradePlan:
    """The plan a record was started with, rebuilt from its planned orders (to resume or verify it)."""

    def planned(order: PlacedOrder) -> PlannedOrder:
        return PlannedOrder(
            order.role,
            OrderSpec(
                kind=OrderKind(order.kind),
                side=Side(order.side),
                amount=order.amount or 0,
                client_order_id=order.client_order_id,
                price=order.price,
                trigger_price=order.trigger_price,
                callback_rate=record.callback_rate if order.role == "entry" else None,
                reduce_only=order.role != "entry",
            ),
        )

    by_role = {order.role: planned(order) for order in record.planned}
    take_profits = sorted(
        (p for role, p in by_role.items() if role.startswith("take_profit_")),
        key=lambda p: int(p.role.rsplit("_", 1)[1]),
    )
    return TradePlan(
        entry=by_role["entry"],
        stop=by_role.get("stop"),
        take_profits=take_profits,
        entry_price=Decimal(str(record.price or 0)),
    )
