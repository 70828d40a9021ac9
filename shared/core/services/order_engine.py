"""The one order path of every trade, manual or automated: plan, record, place, protect, or undo.

1. **Plan** (``order_planner``): the request is checked whole against the market before anything is
   sent; a request that would be refused changes nothing on the exchange (422).
2. **Record** the trade (state PENDING) before the first exchange call. Its trade id comes from the
   request's Idempotency-Key (or the strategy trigger and follow), so a retry meets its first attempt:
   a finished one answers as it did then; an unfinished one resumes from what is on the exchange.
3. **Clear** the symbol (its orders cancelled, its position closed), then place the **entry**
   (ENTERING), then the **stop** (retried while the error is temporary) and the **take-profits**
   (PROTECTING), each recorded before it is sent and after it returns.
4. Any failure after the symbol is touched, of whatever kind, **compensates**: every order on the symbol
   is cancelled and the position closed (COMPENSATED, answered 433 1500). If even that fails, the record
   stays unfinished and the trade monitor repairs it; a metric and an alarm say so.
5. The answer is 200 only for a live trade with every exit it asked for (OPEN); ``Order Placed`` is
   published then.

No HTTP-shaped error is raised here beyond the domain's own (``core.errors``); the edge maps them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
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
    CloseReason,
    EntryType,
    ExchangeOrder,
    JournalEntry,
    OrderKind,
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
        self, account: TradingAccount, owner: TradeOwner, request: OrderRequest, ids: ClientOrderIds
    ) -> PlacedTrade:
        if ids.idempotent:
            earlier = self._trades.get(owner.user_id, ids.trade_id)
            if earlier is not None:
                return self._answer_again(account, earlier, ids)
        rules = account.rules(request.symbol)
        mark = account.mark_price(request.symbol)
        plan = plan_trade(request, rules, mark, ids)
        record = self._new_record(owner, request, plan, ids)
        try:
            self._trades.start(record)
        except TradeAlreadyStarted:
            earlier = self._trades.get(owner.user_id, ids.trade_id)
            assert earlier is not None
            return self._answer_again(account, earlier, ids)
        return self._run(account, record, plan, ids, resumed=False)

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
    ) -> PlacedTrade:
        symbol = record.symbol
        entry_order = None
        if resumed:
            entry_order = account.find_order(
                symbol, plan.entry.spec.client_order_id, plan.entry.spec.kind.conditional
            )
        try:
            if entry_order is None:
                self._step(record, TradeState.ENTERING, "clear symbol")
                self._clear(account, record, ids)
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
            for planned in plan.exits:
                self._step(record, TradeState.PROTECTING, f"send {planned.role}")
                if planned.role == "stop":
                    order = self._place_stop(account, symbol, planned.spec)
                else:
                    order = self._find_or_place(account, symbol, planned.spec)
                placed[planned.role] = order
                record.orders.append(placed_order(planned.role, planned.spec, order))
                self._step(record, TradeState.PROTECTING, f"{planned.role} placed", order.id)
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
            self._compensate(account, record, ids, f"{type(error).__name__} while placing")
            raise ExchangeBadRequest("the trade could not be protected: its orders were cancelled") from None
        if record.state is not TradeState.OPEN:
            record.failure = None  # a resumed trade that is now live and protected answers 200
            self._step(record, TradeState.OPEN, "open")
            self._counter.count("OrdersPlaced")
            self._events.publish("Order Placed", order_placed(record))
        return result

    def _entry_placed(self, record: TradeRecord, entry: PlannedOrder, order: ExchangeOrder) -> None:
        if record.placed("entry") is None:
            record.orders.append(placed_order("entry", entry.spec, order))
        record.order_id = order.id
        record.amount = order.amount or entry.spec.amount
        record.price = order.average or order.price or entry.spec.price
        record.cost = order.cost
        self._step(record, TradeState.PROTECTING, "entry placed", order.id)

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
    def _step(self, record: TradeRecord, state: TradeState, step: str, detail: str | None = None) -> None:
        record.state = state
        record.updated_at = iso_now()
        record.journal.append(JournalEntry(at=record.updated_at, step=step, detail=detail))
        self._trades.save(record)

    def _find_or_place(self, account: TradingAccount, symbol: str, spec: OrderSpec) -> ExchangeOrder:
        found = account.find_order(symbol, spec.client_order_id, spec.kind.conditional)
        return found if found is not None else account.place(symbol, spec)

    def _place_stop(self, account: TradingAccount, symbol: str, spec: OrderSpec) -> ExchangeOrder:
        """The stop is retried while the exchange is unavailable; a refusal is final at once."""
        for attempt in range(1, self._stop_attempts + 1):
            try:
                return self._find_or_place(account, symbol, spec)
            except ServiceUnavailableError:
                logger.warning("stop order failed", extra={"attempt": attempt})
                if attempt == self._stop_attempts:
                    raise
                self._sleep(self._retry_delay * attempt)
        raise AssertionError("unreachable")

    def _clear(self, account: TradingAccount, record: TradeRecord, ids: ClientOrderIds) -> None:
        account.cancel_all_orders(record.symbol)
        closed = account.close_position(record.symbol, ids.clear)
        self.end_replaced_trades(record.key_id, record.symbol, closed, keep=record.trade_id)
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
    ) -> None:
        """The open trades of a key's symbol end when the symbol is cleared (a new order, a cancel, a
        strategy's CLOSE): closed with ``reason`` at the clearing order's price, their exits already cancelled."""
        for earlier in self._trades.open_on(key_id, symbol):
            if earlier.trade_id == keep or earlier.state is not TradeState.OPEN:
                continue
            if closing is not None:
                earlier.exit_price = closing.average or closing.price
            earlier.close_reason = reason
            earlier.closed_at = iso_now()
            self._step(earlier, TradeState.CLOSED, "closed", "the symbol was cleared")
            self._events.publish("Trade Closed", trade_closed(earlier))

    def _compensate(
        self, account: TradingAccount, record: TradeRecord, ids: ClientOrderIds, reason: str
    ) -> None:
        self._counter.count("Compensations")
        record.failure = ExchangeBadRequest.code
        self._step(
            record, record.state, "compensate", f"{reason}: cancelling every order and closing the position"
        )
        try:
            account.cancel_all_orders(record.symbol)
            closed = account.close_position(record.symbol, ids.close)
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
