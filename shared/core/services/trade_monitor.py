"""The trade monitor (``trades.md``): records fills and closes, repairs what a crash left, moves stops.

One run, every minute:

1. Read every unfinished trade (the sparse open-trades index) and group them by symbol.
2. Per symbol, read the price range since the last run once (1-minute candles, one public request).
3. Ask the exchange (with the trade's key) only about the trades whose levels that range crossed, the
   records a crash left unfinished, and the trades flagged for a check. So the exchange cost grows with
   fills, not with open trades, and it stops at a budget of request weight (the egress IPs' share).
4. For each trade inspected: record each take-profit fill and the stop's; when the position is flat,
   cancel what is left of its exits and close the record (exit price, realized P&L and fees from the
   fills, the reason); when the position lives without its stop, place it again (or close the position
   if that fails); move the stop to the entry after the first take-profit when the trade asks for it
   (the new stop is on the book before the old one is cancelled). Every change is published once.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from core.errors import ApiError, NotFoundError
from core.models.exchange import TradeType
from core.models.trading import (
    CloseReason,
    EntryType,
    ExchangeFill,
    ExchangeOrder,
    ExchangePosition,
    JournalEntry,
    OrderKind,
    OrderSpec,
    PlacedOrder,
    PriceRange,
    Side,
    TradeRecord,
    TradeState,
)
from core.observability import logger
from core.ports import Counter, ExchangeMarketData, TradeEventPublisher, TradingAccount
from core.repositories.monitor_state import MonitorCursorRepository
from core.repositories.trade_history import TradeRepository
from core.services.key_accounts import KeyAccounts
from core.services.order_engine import placed_order, plan_of
from core.services.order_planner import ClientOrderIds
from core.services.strategy_watch import StrategyTradeWatcher
from core.services.trade_events import (
    order_placed,
    stop_loss_filled,
    take_profit_filled,
    trade_closed,
    trade_repaired,
)
from core.timeutil import iso_now

MARKET = TradeType.FUTURES.value
# Binance USD-M request weights of what the monitor calls (the exchange's own table).
WEIGHT_CANDLES = 5
WEIGHT_INSPECTION = 5 + 1  # the position, then one order lookup per exit (counted as they happen)
WEIGHT_ORDER = 1
FIRST_LOOK_BACK_MS = 5 * 60_000


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


@dataclass
class MonitorReport:
    open_trades: int = 0
    symbols: int = 0
    inspected: int = 0
    take_profits_filled: int = 0
    stops_filled: int = 0
    closed: int = 0
    repaired: int = 0
    stops_moved: int = 0
    deferred: int = 0  # left for the next run: the weight budget was spent
    strategy_trades_closed: int = 0  # strategies' own trades, measured on the market
    weight_used: int = 0
    errors: int = 0
    trades: list[str] = field(default_factory=list)


class WeightBudget:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def spend(self, weight: int) -> bool:
        if self.used + weight > self.limit:
            return False
        self.used += weight
        return True


def settle(record: TradeRecord, fills: list[ExchangeFill]) -> tuple[float | None, float, float]:
    """Exit price, realized P&L and fees of a trade from its symbol's fills over its life.

    Each order clears the symbol, so the fills between a trade's creation and its close are its own
    (the fill of the order that cleared an earlier trade's position is left out)."""
    cleared = {order.id for order in record.orders if order.role == "clear" and order.id}
    entry_side = record.side.value.lower()
    entry_value = entry_amount = exit_value = exit_amount = fees = 0.0
    for fill in fills:
        if fill.order_id in cleared or fill.price is None or fill.amount is None:
            continue
        fees += sum(fee.cost or 0.0 for fee in fill.fees) or (fill.fee.cost or 0.0 if fill.fee else 0.0)
        if fill.side == entry_side:
            entry_value += fill.price * fill.amount
            entry_amount += fill.amount
        else:
            exit_value += fill.price * fill.amount
            exit_amount += fill.amount
    if not exit_amount:
        return None, -fees, fees
    exit_price = exit_value / exit_amount
    entry_price = entry_value / entry_amount if entry_amount else (record.price or exit_price)
    direction = 1 if record.side is Side.BUY else -1
    gross = direction * (exit_price - entry_price) * exit_amount
    return exit_price, round(gross - fees, 8), round(fees, 8)


class TradeMonitor:
    def __init__(
        self,
        trades: TradeRepository,
        cursors: MonitorCursorRepository,
        accounts: KeyAccounts,
        market: ExchangeMarketData,
        events: TradeEventPublisher,
        counter: Counter,
        weight_budget: int,
        stale_after_seconds: int,
        strategies: StrategyTradeWatcher | None = None,
        now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self._strategies = strategies
        self._trades = trades
        self._cursors = cursors
        self._accounts = accounts
        self._market = market
        self._events = events
        self._counter = counter
        self._weight_budget = weight_budget
        self._stale_after_ms = stale_after_seconds * 1000
        self._now_ms = now_ms

    def run(self) -> MonitorReport:
        report = MonitorReport()
        budget = WeightBudget(self._weight_budget)
        by_symbol: dict[str, list[TradeRecord]] = defaultdict(list)
        for record in self._trades.open_trades():
            by_symbol[record.symbol].append(record)
            report.open_trades += 1
        report.symbols = len(by_symbol)
        now = self._now_ms()
        for symbol, records in sorted(by_symbol.items()):
            price_range = None
            if budget.spend(WEIGHT_CANDLES):
                since = self._cursors.since(MARKET, symbol)
                if since is None:
                    since = min(_ms(record.created_at) for record in records) - FIRST_LOOK_BACK_MS
                try:
                    price_range = self._market.price_range(symbol, TradeType.FUTURES, since)
                except ApiError as error:
                    logger.warning(
                        "price range unavailable",
                        extra={"symbol": symbol, "error_type": type(error).__name__},
                    )
            for record in records:
                if not self._needs_inspection(record, price_range, now):
                    continue
                if not budget.spend(WEIGHT_INSPECTION):
                    report.deferred += 1
                    continue
                try:
                    self._inspect(record, report, budget)
                except ApiError as error:
                    report.errors += 1
                    logger.warning(
                        "trade inspection failed",
                        extra={"trade_id": record.trade_id, "error_type": type(error).__name__},
                    )
            if price_range is not None and not report.deferred:
                # The last candle may still be forming: read it again next time.
                self._cursors.advance(MARKET, symbol, price_range.until_ms - 60_000)
        if self._strategies is not None:
            report.strategy_trades_closed = self._strategies.run(now, budget.spend, WEIGHT_CANDLES)
        report.weight_used = budget.used
        logger.info("trade monitor run", extra={"report": report.__dict__})
        return report

    # ------------------------------------------------------------ what to look at
    def _needs_inspection(self, record: TradeRecord, price_range: PriceRange | None, now: int) -> bool:
        if record.state.unfinished:
            return now - _ms(record.updated_at or record.created_at) >= self._stale_after_ms
        if price_range is None:
            return True  # no candles: look rather than miss a fill
        levels = [order.trigger_price or order.price for order in record.exits if order.role != "clear"]
        if record.entry_type is not EntryType.MARKET:
            levels.append(record.price)
        return any(level is not None and price_range.crossed(level) for level in levels)

    # ------------------------------------------------------------ inspecting one trade
    def _inspect(self, record: TradeRecord, report: MonitorReport, budget: WeightBudget) -> None:
        try:
            _, account = self._accounts.trading(record.user_id, record.key_id)
        except NotFoundError:
            # The key is gone (deleted with its orders cancelled): nothing can be watched any more.
            self._close(record, None, CloseReason.MANUAL, "the key was deleted")
            report.closed += 1
            return
        report.inspected += 1
        report.trades.append(record.trade_id)
        if record.state.unfinished:
            self._finish(account, record, report)
            return
        position = account.position(record.symbol)
        statuses = self._exit_statuses(account, record, budget)
        self._record_fills(record, statuses, position, report)
        entry_open = False
        if record.entry_type is not EntryType.MARKET and position is None:
            entry = account.find_order(
                record.symbol,
                ClientOrderIds.of_trade(record.trade_id, record.origin).entry,
                record.entry_type is EntryType.TRAILING_STOP,
            )
            entry_open = entry is not None and entry.is_open
        if position is None and not entry_open:
            self._end(account, record, statuses, report)
            return
        if position is not None:
            self._protect(account, record, statuses, position, report)
        self._save(record, "inspected")

    def _exit_statuses(
        self, account: TradingAccount, record: TradeRecord, budget: WeightBudget
    ) -> dict[str, ExchangeOrder | None]:
        statuses: dict[str, ExchangeOrder | None] = {}
        for order in record.exits:
            budget.spend(WEIGHT_ORDER)
            statuses[order.role] = account.find_order(record.symbol, order.client_order_id, order.conditional)
        return statuses

    def _record_fills(
        self,
        record: TradeRecord,
        statuses: dict[str, ExchangeOrder | None],
        position: ExchangePosition | None,
        report: MonitorReport,
    ) -> None:
        remaining = position.contracts if position is not None else 0.0
        for role, order in sorted(statuses.items()):
            if order is None or not order.is_filled:
                continue
            if role.startswith("take_profit_"):
                index = int(role.rsplit("_", 1)[1])
                if index in record.filled_take_profits:
                    continue
                record.filled_take_profits.append(index)
                self._save(record, f"take profit {index} filled", order.id)
                self._events.publish(
                    "Take Profit Filled",
                    take_profit_filled(
                        record,
                        index,
                        order.average or order.price or order.stop_price,
                        order.filled or order.amount,
                        remaining,
                    ),
                )
                report.take_profits_filled += 1
            elif (
                role == "stop"
                and position is None
                and not any(entry.step == "stop filled" for entry in record.journal)
            ):
                # A triggered stop-limit may rest unfilled (the price gapped past its limit): filled means flat.
                self._save(record, "stop filled", order.id)
                self._events.publish(
                    "Stop Loss Filled",
                    stop_loss_filled(
                        record, order.average or order.stop_price or order.price, order.filled or order.amount
                    ),
                )
                report.stops_filled += 1

    def _end(
        self,
        account: TradingAccount,
        record: TradeRecord,
        statuses: dict[str, ExchangeOrder | None],
        report: MonitorReport,
    ) -> None:
        """The position is flat: no exit of the trade may stay on the book; the record is closed."""
        orphans = [
            order
            for order in record.exits
            if (status := statuses.get(order.role)) is not None and status.is_open
        ]
        for order in orphans:
            account.cancel_order(record.symbol, order.client_order_id, order.conditional)
        stop = statuses.get("stop")
        take_profits = [role for role in statuses if role.startswith("take_profit_")]
        if stop is not None and stop.is_filled:
            reason = CloseReason.STOP_LOSS
        elif take_profits and all((s := statuses[role]) is not None and s.is_filled for role in take_profits):
            reason = CloseReason.TAKE_PROFIT
        else:
            reason = CloseReason.MANUAL
        fills = account.fills(record.symbol, _ms(record.created_at))
        detail = f"cancelled {len(orphans)} orphan exits" if orphans else None
        self._close(record, fills, reason, detail)
        report.closed += 1

    def _close(
        self,
        record: TradeRecord,
        fills: list[ExchangeFill] | None,
        reason: CloseReason,
        detail: str | None,
    ) -> None:
        if fills is not None:
            record.exit_price, record.realized_pnl, record.fees = settle(record, fills)
        record.close_reason = reason
        record.closed_at = iso_now()
        record.state = TradeState.CLOSED
        self._save(record, "closed", detail or reason.value)
        self._events.publish("Trade Closed", trade_closed(record))

    def _protect(
        self,
        account: TradingAccount,
        record: TradeRecord,
        statuses: dict[str, ExchangeOrder | None],
        position: ExchangePosition,
        report: MonitorReport,
    ) -> None:
        stop = record.placed("stop")
        status = statuses.get("stop")
        if stop is not None and (status is None or status.status in ("canceled", "expired", "rejected")):
            self._repair_stop(account, record, position, stop, report, problem="the position had no stop")
            return
        if (
            record.move_stop_to_entry
            and not record.stop_moved
            and record.filled_take_profits
            and stop is not None
            and record.price is not None
        ):
            self._move_stop(account, record, stop, position, report)

    def _replacement(
        self, record: TradeRecord, stop: PlacedOrder, trigger: float, amount: float
    ) -> OrderSpec:
        generation = 1 + sum(1 for order in record.orders if order.role == "stop")
        return OrderSpec(
            kind=OrderKind.STOP_MARKET,
            side=Side(stop.side),
            amount=amount,
            client_order_id=ClientOrderIds.of_trade(record.trade_id, record.origin).replacement_stop(
                generation
            ),
            trigger_price=trigger,
            reduce_only=True,
        )

    def _repair_stop(
        self,
        account: TradingAccount,
        record: TradeRecord,
        position: ExchangePosition,
        stop: PlacedOrder,
        report: MonitorReport,
        problem: str,
    ) -> None:
        trigger = stop.trigger_price or record.stop
        assert trigger is not None
        spec = self._replacement(record, stop, trigger, position.contracts)
        try:
            placed = account.place(record.symbol, spec)
            record.orders.append(placed_order("stop", spec, placed))
            action = f"placed the stop again at {trigger}"
        except ApiError as error:
            logger.error(
                "repair: stop refused, closing",
                extra={"trade_id": record.trade_id, "error_type": type(error).__name__},
            )
            account.flatten(record.symbol, ClientOrderIds.of_trade(record.trade_id, record.origin).close)
            action = "closed the position: its stop could not be placed"
        self._repaired(record, problem, action, report)

    def _move_stop(
        self,
        account: TradingAccount,
        record: TradeRecord,
        stop: PlacedOrder,
        position: ExchangePosition,
        report: MonitorReport,
    ) -> None:
        """Break-even: the new stop at the entry is on the book before the old one is cancelled."""
        assert record.price is not None
        spec = self._replacement(record, stop, record.price, position.contracts)
        try:
            placed = account.place(record.symbol, spec)
        except ApiError as error:
            # The old stop stays: the trade is still protected; the move is tried again next run.
            logger.warning(
                "stop move refused", extra={"trade_id": record.trade_id, "error_type": type(error).__name__}
            )
            return
        record.orders.append(placed_order("stop", spec, placed))
        account.cancel_order(record.symbol, stop.client_order_id, stop.conditional)
        record.stop_moved = True
        record.stop = record.price
        self._save(record, "stop moved to the entry", placed.id)
        report.stops_moved += 1

    def _finish(self, account: TradingAccount, record: TradeRecord, report: MonitorReport) -> None:
        """A record a crash left mid-way: protect what is live with what the trade asked for, or undo it."""
        plan = plan_of(record)
        ids = ClientOrderIds.of_trade(record.trade_id, record.origin)
        entry = account.find_order(
            record.symbol, plan.entry.spec.client_order_id, plan.entry.spec.kind.conditional
        )
        touched = any(step.step == "clear symbol" for step in record.journal)
        if record.failure is not None or (entry is None and touched):
            # The request answered that the trade was undone (its compensation then failed), or it died while
            # clearing the symbol (an earlier position may have lost its exits): finish the clearing.
            account.flatten(record.symbol, ids.close)
            record.state = TradeState.COMPENSATED if record.failure is not None else TradeState.FAILED
            self._save(
                record, "finished by the monitor", "the symbol's orders cancelled and its position closed"
            )
            self._repaired(
                record, "the request stopped while clearing or undoing", "cleared the symbol", report
            )
            return
        if entry is None:
            record.state = TradeState.FAILED
            self._save(record, "finished by the monitor", "the entry was never placed")
            self._repaired(
                record, "the request stopped before its entry", "marked failed: nothing was placed", report
            )
            return
        position = account.position(record.symbol)
        if record.entry_type is EntryType.MARKET and position is None:
            account.cancel_all_orders(record.symbol)
            record.state = TradeState.COMPENSATED
            self._save(record, "finished by the monitor", "the position was already flat")
            self._repaired(
                record,
                "the request stopped after its entry",
                "cancelled its exits; no position was left",
                report,
            )
            return
        try:
            if record.placed("entry") is None:
                record.orders.append(placed_order("entry", plan.entry.spec, entry))
                record.order_id = entry.id
                record.price = entry.average or entry.price or record.price
            for planned in plan.exits:
                found = account.find_order(
                    record.symbol, planned.spec.client_order_id, planned.spec.kind.conditional
                )
                order = found if found is not None else account.place(record.symbol, planned.spec)
                if record.placed(planned.role) is None:
                    record.orders.append(placed_order(planned.role, planned.spec, order))
        except ApiError as error:
            logger.error(
                "repair: exits refused, closing",
                extra={"trade_id": record.trade_id, "error_type": type(error).__name__},
            )
            account.flatten(record.symbol, ids.close)
            record.state = TradeState.COMPENSATED
            record.failure = "1500"
            self._save(record, "finished by the monitor", "the exits could not be placed: closed")
            self._repaired(record, "the position had no stop", "closed the position", report)
            return
        record.state = TradeState.OPEN
        self._save(record, "finished by the monitor", "exits placed")
        self._repaired(
            record,
            "the position had no stop" if plan.stop else "the trade had no exits",
            "placed its exits",
            report,
        )
        self._events.publish("Order Placed", order_placed(record))

    # ------------------------------------------------------------ records
    def _repaired(self, record: TradeRecord, problem: str, action: str, report: MonitorReport) -> None:
        self._counter.count("Repairs")
        report.repaired += 1
        logger.warning(
            "trade repaired", extra={"trade_id": record.trade_id, "problem": problem, "action": action}
        )
        self._save(record, "repaired", f"{problem}: {action}")
        self._events.publish("Trade Repaired", trade_repaired(record, problem, action))

    def _save(self, record: TradeRecord, step: str, detail: str | None = None) -> None:
        record.updated_at = iso_now()
        record.journal.append(JournalEntry(at=record.updated_at, step=step, detail=detail))
        self._trades.save(record)
