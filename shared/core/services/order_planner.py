"""Planning a trade: pure, no I/O. Everything the exchange would refuse is found here, before anything is sent.

A request is checked whole against the market's own filters (step, minimum and maximum amount, a
market order's maximum, minimum notional, price limits, the band around the mark price, the number of
conditional orders a symbol allows) and the sides of its exits; every problem is reported at once as a
422 on its field. Only a plan that passes is placed, so a refused request never clears the symbol.

Placement of the ladder: Binance keeps stops and take-profits in its conditional-order service, which
allows ``max_conditional_orders`` per symbol (10 on USD-M). A ladder that fits beside the stop is placed
as conditional take-profits (the reference's ``take_profit`` orders). A longer one after a MARKET entry
(the position exists once the entry returns) is placed as resting reduce-only limit orders, which
count against the plain order limit instead, and whose prices must then lie within the band around the
mark price. A resting entry's exits must all be conditional: a longer ladder there is refused.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.errors import FieldError, FieldValidationError
from core.models.trading import (
    EntryType,
    MarketRules,
    OrderKind,
    OrderRequest,
    OrderSpec,
    Origin,
    Side,
    StopTriggerType,
)


@dataclass(frozen=True)
class ClientOrderIds:
    """Binance client order ids (at most 36 of ``[A-Za-z0-9._:/-]``), one per role of one trade.

    The trade id is derived from what makes a request unique (the caller's Idempotency-Key, or a
    strategy trigger and follow), so a retried request finds its own orders instead of placing twice.
    """

    trade_id: str
    idempotent: bool
    origin: Origin = Origin.MANUAL

    @classmethod
    def for_request(
        cls, user_id: str, key_id: str, idempotency_key: str | None, origin: Origin = Origin.MANUAL
    ) -> ClientOrderIds:
        if idempotency_key is None:
            return cls(uuid.uuid4().hex[:24], idempotent=False, origin=origin)
        digest = hashlib.sha256(f"{origin.value}:{user_id}:{key_id}:{idempotency_key}".encode()).hexdigest()
        return cls(digest[:24], idempotent=True, origin=origin)

    @classmethod
    def of_trade(cls, trade_id: str, origin: Origin) -> ClientOrderIds:
        return cls(trade_id, idempotent=True, origin=origin)

    def _id(self, role: str) -> str:
        return f"{self.origin.id_prefix}{self.trade_id}{role}"

    @property
    def entry(self) -> str:
        return self._id("e")

    @property
    def stop(self) -> str:
        return self._id("s")

    def take_profit(self, index: int) -> str:
        return self._id(f"t{index}")

    @property
    def clear(self) -> str:
        return self._id("c")

    @property
    def close(self) -> str:
        return self._id("x")

    def replacement_stop(self, generation: int) -> str:
        """A stop placed later by the monitor (moved to the entry, or a repair)."""
        return self._id(f"s{generation}")


@dataclass(frozen=True)
class PlannedOrder:
    role: str  # entry, stop, take_profit_<n>
    spec: OrderSpec


@dataclass(frozen=True)
class TradePlan:
    entry: PlannedOrder
    stop: PlannedOrder | None
    take_profits: list[PlannedOrder]
    entry_price: Decimal  # the limit or activation price, or the mark price for a market entry

    @property
    def exits(self) -> list[PlannedOrder]:
        """In the order they are placed: the stop first, so a position is never without it for long."""
        return [*([self.stop] if self.stop else []), *self.take_profits]

    @property
    def orders(self) -> list[PlannedOrder]:
        return [self.entry, *self.exits]


def split_amount(total: Decimal, parts: int, step: Decimal) -> list[Decimal]:
    """Equal parts rounded down to the step; the remainder goes on the last part."""
    if parts <= 0:
        return []
    share = (total / parts / step).to_integral_value(rounding="ROUND_DOWN") * step
    return [share] * (parts - 1) + [total - share * (parts - 1)]


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")


class _Problems:
    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, value: Any, msg: str, param: str) -> None:
        self.errors.append(FieldError(value=value, msg=msg, param=param, location="body"))

    def raise_any(self) -> None:
        if self.errors:
            raise FieldValidationError(*self.errors)


def _finite(value: float | None) -> Decimal | None:
    if value is None:
        return None
    number = Decimal(str(value))
    return number if number.is_finite() else None


def _check_price(problems: _Problems, rules: MarketRules, value: float, param: str) -> Decimal | None:
    """The price rounded to the tick, or None (with a problem) when the market cannot take it."""
    number = _finite(value)
    if number is None or number <= 0:
        problems.add(value, "must be a positive number", param)
        return None
    rounded = rules.round_price(number)
    if rules.min_price is not None and rounded < rules.min_price:
        problems.add(value, f"must be at least {_plain(rules.min_price)}", param)
        return None
    if rules.max_price is not None and rounded > rules.max_price:
        problems.add(value, f"must be at most {_plain(rules.max_price)}", param)
        return None
    return rounded


def _within_band(
    problems: _Problems, rules: MarketRules, mark: Decimal, price: Decimal, value: Any, param: str
) -> None:
    low, high = rules.price_band(mark)
    if low is not None and price < low:
        problems.add(
            value,
            f"must be at least {_plain(rules.round_price(low))} (the band around the mark price)",
            param,
        )
    elif high is not None and price > high:
        problems.add(
            value,
            f"must be at most {_plain(rules.round_price(high))} (the band around the mark price)",
            param,
        )


def plan_trade(
    request: OrderRequest, rules: MarketRules, mark_price: float, ids: ClientOrderIds
) -> TradePlan:
    """The orders to send for ``request``, or a ``FieldValidationError`` listing everything that cannot work."""
    problems = _Problems()
    mark = Decimal(str(mark_price))
    long = request.side is Side.BUY  # a long takes profit above and stops below; a short the reverse
    exit_side = request.side.opposite

    # The entry.
    entry_price = mark
    if request.type is not EntryType.MARKET and request.price is not None:
        checked = _check_price(problems, rules, request.price, "price")
        if checked is not None:
            entry_price = checked
            if request.type is EntryType.LIMIT:
                _within_band(problems, rules, mark, checked, request.price, "price")
    amount = _check_amount(problems, rules, request, entry_price)

    # The stop.
    stop_trigger = None
    if request.stop_trigger_price is not None:
        stop_trigger = _check_price(problems, rules, request.stop_trigger_price, "stopTriggerPrice")
        if stop_trigger is not None and (
            (stop_trigger >= entry_price) if long else (stop_trigger <= entry_price)
        ):
            side = "below" if long else "above"
            problems.add(request.stop_trigger_price, f"must be {side} the entry price", "stopTriggerPrice")
    stop_limit = None
    limit_stop = request.stop_trigger_type is StopTriggerType.LIMIT and request.stop_trigger_price is not None
    if limit_stop and request.stop_price is not None:
        stop_limit = _check_price(problems, rules, request.stop_price, "stopPrice")

    # The take-profit ladder.
    take_profit_prices: list[Decimal | None] = []
    for index, value in enumerate(request.take_profit_prices):
        param = f"takeProfitPrices[{index}]"
        price = _check_price(problems, rules, value, param)
        if price is not None and ((price <= entry_price) if long else (price >= entry_price)):
            problems.add(value, f"must be {'above' if long else 'below'} the entry price", param)
            price = None
        take_profit_prices.append(price)
    parts = (
        split_amount(amount, len(take_profit_prices), rules.amount_step)
        if amount and take_profit_prices
        else []
    )
    if parts and min(parts) < rules.min_amount:
        problems.add(
            request.take_profit_prices,
            f"each take profit needs at least {_plain(rules.min_amount)}",
            "takeProfitPrices",
        )
    conditional_take_profits = _ladder_placement(problems, rules, request, mark, take_profit_prices)
    problems.raise_any()
    assert amount is not None

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
            price=float(entry_price) if request.type is not EntryType.MARKET else None,
            callback_rate=request.callback_rate,
        ),
    )
    take_profits = [
        PlannedOrder(
            f"take_profit_{index + 1}",
            OrderSpec(
                kind=OrderKind.TAKE_PROFIT if conditional_take_profits else OrderKind.LIMIT,
                side=exit_side,
                amount=float(part),
                client_order_id=ids.take_profit(index + 1),
                price=float(price),
                trigger_price=float(price) if conditional_take_profits else None,
                reduce_only=True,
            ),
        )
        for index, (price, part) in enumerate(zip(take_profit_prices, parts, strict=True))
        if price is not None
    ]
    stop = None
    if stop_trigger is not None:
        stop = PlannedOrder(
            "stop",
            OrderSpec(
                kind=OrderKind.STOP_LIMIT if limit_stop else OrderKind.STOP_MARKET,
                side=exit_side,
                amount=float(amount),
                client_order_id=ids.stop,
                price=float(stop_limit) if stop_limit is not None else None,
                trigger_price=float(stop_trigger),
                reduce_only=True,
            ),
        )
    return TradePlan(entry=entry, stop=stop, take_profits=take_profits, entry_price=entry_price)


def _check_amount(
    problems: _Problems, rules: MarketRules, request: OrderRequest, entry_price: Decimal
) -> Decimal | None:
    number = _finite(request.amount)
    if number is None or number <= 0:
        problems.add(request.amount, "must be a positive number", "amount")
        return None
    amount = rules.round_amount(number)
    if amount < rules.min_amount or amount <= 0:
        problems.add(request.amount, f"must be at least {_plain(rules.min_amount)}", "amount")
        return None
    maximum = rules.max_amount
    if request.type is EntryType.MARKET and rules.max_market_amount is not None:
        maximum = min(maximum, rules.max_market_amount) if maximum is not None else rules.max_market_amount
    if maximum is not None and amount > maximum:
        problems.add(request.amount, f"must be at most {_plain(maximum)}", "amount")
        return None
    if rules.min_cost and amount * entry_price < rules.min_cost:
        problems.add(request.amount, f"order value must be at least {_plain(rules.min_cost)} USDT", "amount")
        return None
    return amount


def _ladder_placement(
    problems: _Problems,
    rules: MarketRules,
    request: OrderRequest,
    mark: Decimal,
    prices: list[Decimal | None],
) -> bool:
    """Whether the take-profits go to the conditional-order service (else: resting reduce-only limits)."""
    if not prices:
        return True
    slots = rules.max_conditional_orders
    used = (1 if request.stop_trigger_price is not None else 0) + (
        1 if request.type is EntryType.TRAILING_STOP else 0
    )
    if slots is None or used + len(prices) <= slots:
        return True
    if request.type is not EntryType.MARKET:
        problems.add(
            request.take_profit_prices,
            f"must contain at most {slots - used} items with a {request.type.value} entry "
            f"(the exchange allows {slots} conditional orders per symbol)",
            "takeProfitPrices",
        )
        return True
    if rules.max_open_orders is not None and len(prices) > rules.max_open_orders:
        problems.add(
            request.take_profit_prices,
            f"must contain at most {rules.max_open_orders} items",
            "takeProfitPrices",
        )
    for index, price in enumerate(prices):
        if price is not None:
            _within_band(
                problems, rules, mark, price, request.take_profit_prices[index], f"takeProfitPrices[{index}]"
            )
    return False
