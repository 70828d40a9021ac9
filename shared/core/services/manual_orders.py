"""Manual futures orders: entry, take-profit ladder and stop, placed so that money is never left unprotected.

The order of work:

1. Check the amounts and prices against the market (step, minimum amount, minimum order value, which
   side of the price exits belong on): a request that cannot be placed whole is a 422 before anything
   is sent.
2. Clear the symbol: cancel its open and conditional orders and close its position.
3. Place the entry, then the stop (retried), then the take-profits, each reduce-only.
4. If the stop or a take-profit cannot be placed, compensate: cancel every order on the symbol and
   close the position, then answer 433 (1500). A position never stays without its stop.

Client order ids derive from the request's Idempotency-Key (or a fresh id), so an order whose outcome
was lost in a timeout is found again by its id instead of being placed twice; a retried request whose
entry already exists resumes instead of clearing the symbol again.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from core.errors import ApiError, ExchangeBadRequest, FieldError, FieldValidationError
from core.models.trading import (
    EntryType,
    ManualOrderRecord,
    ManualOrderRequest,
    MarketRules,
    OrderKind,
    OrderSpec,
    PlacedOrder,
    Side,
    StopTriggerType,
)
from core.observability import logger
from core.ports import TradingAccount
from core.timeutil import iso_now

STOP_ATTEMPTS = 3


class ManualOrderRecorder(Protocol):
    def save(self, record: ManualOrderRecord) -> None: ...


@dataclass(frozen=True)
class ClientOrderIds:
    """Binance client order ids (at most 36 of ``[A-Za-z0-9._:/-]``), one per role in one request."""

    base: str
    idempotent: bool

    @classmethod
    def for_request(cls, user_id: str, key_id: str, idempotency_key: str | None) -> ClientOrderIds:
        if idempotency_key is None:
            return cls(uuid.uuid4().hex[:24], idempotent=False)
        digest = hashlib.sha256(f"{user_id}:{key_id}:{idempotency_key}".encode()).hexdigest()
        return cls(digest[:24], idempotent=True)

    @property
    def entry(self) -> str:
        return f"m{self.base}e"

    @property
    def stop(self) -> str:
        return f"m{self.base}s"

    def take_profit(self, index: int) -> str:
        return f"m{self.base}t{index}"

    @property
    def clear(self) -> str:
        return f"m{self.base}c"

    @property
    def close(self) -> str:
        return f"m{self.base}x"


def split_amount(total: Decimal, parts: int, step: Decimal) -> list[Decimal]:
    """Equal parts rounded down to the step; the remainder goes on the last part."""
    if parts <= 0:
        return []
    share = (total / parts / step).to_integral_value(rounding="ROUND_DOWN") * step
    return [share] * (parts - 1) + [total - share * (parts - 1)]


@dataclass(frozen=True)
class PlannedOrder:
    role: str
    spec: OrderSpec


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")


def _error(value: Any, msg: str, param: str) -> FieldError:
    return FieldError(value=value, msg=msg, param=param, location="body")


def plan_orders(
    request: ManualOrderRequest, rules: MarketRules, market_price: float, ids: ClientOrderIds
) -> tuple[PlannedOrder, list[PlannedOrder], PlannedOrder | None]:
    """The entry, the take-profits and the stop to send, or a 422 listing everything that cannot work."""
    errors: list[FieldError] = []
    amount = rules.round_amount(request.amount)
    entry_price = Decimal(str(request.price)) if request.price is not None else Decimal(str(market_price))
    if amount < rules.min_amount or amount <= 0:
        errors.append(_error(request.amount, f"must be at least {_plain(rules.min_amount)}", "amount"))
    elif rules.min_cost and amount * entry_price < rules.min_cost:
        errors.append(
            _error(request.amount, f"order value must be at least {_plain(rules.min_cost)} USDT", "amount")
        )

    exit_side = request.side.opposite
    above = request.side is Side.BUY  # a long takes profit above and stops below; a short the reverse
    take_profits = [rules.round_price(price) for price in request.take_profit_prices]
    parts = split_amount(amount, len(take_profits), rules.amount_step) if take_profits else []
    if parts and min(parts) < rules.min_amount:
        errors.append(
            _error(
                request.take_profit_prices,
                f"each take profit needs at least {_plain(rules.min_amount)}",
                "takeProfitPrices",
            )
        )
    for index, price in enumerate(take_profits):
        if (price <= entry_price) if above else (price >= entry_price):
            side = "above" if above else "below"
            errors.append(
                _error(
                    request.take_profit_prices[index],
                    f"must be {side} the entry price",
                    f"takeProfitPrices[{index}]",
                )
            )
    if request.stop_trigger_price is not None:
        trigger = rules.round_price(request.stop_trigger_price)
        if (trigger >= entry_price) if above else (trigger <= entry_price):
            side = "below" if above else "above"
            errors.append(
                _error(request.stop_trigger_price, f"must be {side} the entry price", "stopTriggerPrice")
            )
    if errors:
        raise FieldValidationError(*errors)

    def price(value: float | None) -> float | None:
        return float(rules.round_price(value)) if value is not None else None

    entry_kind = {EntryType.MARKET: OrderKind.MARKET, EntryType.LIMIT: OrderKind.LIMIT}.get(
        request.type, OrderKind.TRAILING_STOP
    )
    entry = PlannedOrder(
        "entry",
        OrderSpec(
            kind=entry_kind,
            side=request.side,
            amount=float(amount),
            client_order_id=ids.entry,
            price=price(request.price),
            callback_rate=request.callback_rate,
        ),
    )
    take_profit_orders = [
        PlannedOrder(
            f"take_profit_{index + 1}",
            OrderSpec(
                kind=OrderKind.TAKE_PROFIT,
                side=exit_side,
                amount=float(part),
                client_order_id=ids.take_profit(index + 1),
                price=float(tp_price),
                trigger_price=float(tp_price),
                reduce_only=True,
            ),
        )
        for index, (tp_price, part) in enumerate(zip(take_profits, parts, strict=True))
    ]
    stop = None
    if request.stop_trigger_price is not None:
        limit = request.stop_trigger_type is StopTriggerType.LIMIT
        stop = PlannedOrder(
            "stop",
            OrderSpec(
                kind=OrderKind.STOP_LIMIT if limit else OrderKind.STOP_MARKET,
                side=exit_side,
                amount=float(amount),
                client_order_id=ids.stop,
                price=price(request.stop_price) if limit else None,
                trigger_price=price(request.stop_trigger_price),
                reduce_only=True,
            ),
        )
    return entry, take_profit_orders, stop


def _placed(role: str, spec: OrderSpec, order: dict[str, Any] | None) -> PlacedOrder:
    return PlacedOrder(
        role=role,
        id=str(order["id"]) if order and order.get("id") is not None else None,
        client_order_id=spec.client_order_id,
        kind=spec.kind.value,
        side=spec.side.value,
        amount=spec.amount,
        price=spec.price,
        trigger_price=spec.trigger_price,
        status=order.get("status") if order else None,
    )


class ManualOrderService:
    def __init__(
        self,
        recorder: ManualOrderRecorder,
        stop_attempts: int = STOP_ATTEMPTS,
        retry_delay_seconds: float = 0.3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._recorder = recorder
        self._stop_attempts = stop_attempts
        self._retry_delay = retry_delay_seconds
        self._sleep = sleep

    def place(
        self,
        account: TradingAccount,
        user_id: str,
        key_id: str,
        request: ManualOrderRequest,
        ids: ClientOrderIds,
    ) -> list[dict[str, Any]]:
        rules = account.rules(request.symbol)
        market_price = request.price if request.price is not None else account.last_price(request.symbol)
        entry, take_profits, stop = plan_orders(request, rules, market_price, ids)
        record = ManualOrderRecord(
            user_id=user_id,
            key_id=key_id,
            request_id=ids.base,
            symbol=request.symbol,
            stop=request.stop_trigger_price,
            stop_type=request.stop_trigger_type.value if request.stop_trigger_type else None,
            take_profit=request.take_profit_prices,
            trailing_trigger_price=request.price if request.type is EntryType.TRAILING_STOP else None,
            callback_rate=request.callback_rate,
            risk_profile_percent=request.risk_profile_percent,
            created_at=iso_now(),
        )
        self._recorder.save(record)
        symbol = request.symbol

        existing_entry = (
            account.find_order(symbol, ids.entry, entry.spec.kind.conditional) if ids.idempotent else None
        )
        if existing_entry is None:
            self._clear(account, symbol, ids, record)
        try:
            entry_order = existing_entry or account.place(symbol, entry.spec)
        except ApiError:
            record.outcome = "FAILED"
            self._recorder.save(record)
            raise
        record.orders.append(_placed("entry", entry.spec, entry_order))
        record.order_id = str(entry_order.get("id"))
        record.amount = entry_order.get("amount") or entry.spec.amount
        record.price = entry_order.get("average") or entry_order.get("price") or entry.spec.price
        record.cost = entry_order.get("cost")
        self._recorder.save(record)

        placed: dict[str, dict[str, Any]] = {}
        try:
            if stop is not None:
                placed["stop"] = self._place_stop(account, symbol, stop, ids.idempotent)
                record.orders.append(_placed("stop", stop.spec, placed["stop"]))
            for take_profit in take_profits:
                placed[take_profit.role] = self._find_or_place(
                    account, symbol, take_profit.spec, ids.idempotent
                )
                record.orders.append(_placed(take_profit.role, take_profit.spec, placed[take_profit.role]))
        except ApiError as error:
            self._compensate(
                account, symbol, ids, record, reason=f"{type(error).__name__} while placing exits"
            )
            raise ExchangeBadRequest(
                "the position's exits could not be placed: its orders were cancelled and the position closed"
            ) from None

        record.outcome = "PLACED"
        self._recorder.save(record)
        return [entry_order, *(placed[t.role] for t in take_profits), *([placed["stop"]] if stop else [])]

    def _find_or_place(
        self, account: TradingAccount, symbol: str, spec: OrderSpec, idempotent: bool
    ) -> dict[str, Any]:
        if idempotent:
            found = account.find_order(symbol, spec.client_order_id, spec.kind.conditional)
            if found is not None:
                return found
        return account.place(symbol, spec)

    def _place_stop(
        self, account: TradingAccount, symbol: str, stop: PlannedOrder, idempotent: bool
    ) -> dict[str, Any]:
        last_error: ApiError | None = None
        for attempt in range(1, self._stop_attempts + 1):
            try:
                return self._find_or_place(account, symbol, stop.spec, idempotent or attempt > 1)
            except ApiError as error:
                last_error = error
                logger.warning(
                    "stop order failed", extra={"attempt": attempt, "error_type": type(error).__name__}
                )
                if attempt < self._stop_attempts:
                    self._sleep(self._retry_delay * attempt)
        assert last_error is not None
        raise last_error

    def _clear(
        self, account: TradingAccount, symbol: str, ids: ClientOrderIds, record: ManualOrderRecord
    ) -> None:
        account.cancel_all_orders(symbol)
        closed = account.close_position(symbol, ids.clear)
        if closed is not None:
            record.orders.append(
                PlacedOrder(
                    role="clear",
                    id=str(closed.get("id")),
                    client_order_id=ids.clear,
                    kind="market",
                    side=str(closed.get("side", "")).upper(),
                    amount=closed.get("amount"),
                    price=None,
                    trigger_price=None,
                    status=closed.get("status"),
                )
            )

    def _compensate(
        self,
        account: TradingAccount,
        symbol: str,
        ids: ClientOrderIds,
        record: ManualOrderRecord,
        reason: str,
    ) -> None:
        record.compensations.append(
            f"{iso_now()} {reason}: cancelling every order on {symbol} and closing the position"
        )
        try:
            account.cancel_all_orders(symbol)
            closed = account.close_position(symbol, ids.close)
            record.compensations.append(
                f"{iso_now()} cancelled all orders; position {'closed by order ' + str(closed.get('id')) if closed else 'was already flat'}"
            )
            record.outcome = "COMPENSATED"
        except ApiError as error:
            # Nothing more can be done from here: alert loudly, the record says what is left open.
            logger.critical(
                "compensation failed: position may be unprotected",
                extra={
                    "user_id": record.user_id,
                    "key_id": record.key_id,
                    "symbol": symbol,
                    "error_type": type(error).__name__,
                },
            )
            record.compensations.append(
                f"{iso_now()} compensation failed ({type(error).__name__}): position may be unprotected"
            )
            record.outcome = "FAILED"
        self._recorder.save(record)
