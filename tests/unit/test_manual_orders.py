"""The manual-order saga with an in-memory exchange: ordering, splitting, compensation, resumption."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import ExchangeBadRequest, FieldValidationError, ServiceUnavailableError
from core.models.trading import EntryType, ManualOrderRequest, MarketRules, OrderKind, Side, StopTriggerType
from core.services.manual_orders import ClientOrderIds, ManualOrderService, plan_orders, split_amount

RULES = MarketRules(
    amount_step=Decimal("0.001"),
    price_step=Decimal("0.1"),
    min_amount=Decimal("0.001"),
    min_cost=Decimal("100"),
)


class FakeTradingAccount:
    def __init__(self, failing: set[OrderKind] | None = None) -> None:
        self.orders: dict[str, dict] = {}
        self.calls: list[str] = []
        self.failing = failing or set()
        self.position_size = 0.0

    def rules(self, symbol):
        return RULES

    def last_price(self, symbol):
        return 19200.0

    def cancel_all_orders(self, symbol):
        self.calls.append("cancel_all")
        for order in self.orders.values():
            order["status"] = "canceled"

    def close_position(self, symbol, client_order_id):
        self.calls.append("close")
        if not self.position_size:
            return None
        self.position_size = 0.0
        return {"id": "close", "status": "closed", "side": "sell", "amount": 0.05}

    def find_order(self, symbol, client_order_id, conditional):
        return self.orders.get(client_order_id)

    def place(self, symbol, spec):
        self.calls.append(f"place:{spec.kind.value}")
        if spec.kind in self.failing:
            raise ExchangeBadRequest("refused")
        order = {
            "id": str(len(self.orders) + 1),
            "clientOrderId": spec.client_order_id,
            "amount": spec.amount,
            "status": "open",
        }
        if spec.kind is OrderKind.MARKET:
            self.position_size += spec.amount
            order.update(status="closed", average=19200.0, cost=spec.amount * 19200)
        self.orders[spec.client_order_id] = order
        return order


class Records:
    def __init__(self) -> None:
        self.saved: list = []

    def save(self, record):
        self.saved.append(record.model_copy(deep=True))


REFERENCE = ManualOrderRequest(
    symbol="BTC/USDT",
    type=EntryType.MARKET,
    side=Side.BUY,
    amount=0.05,
    take_profit_prices=[19250, 19300],
    stop_trigger_price=19000,
    stop_trigger_type=StopTriggerType.LIMIT,
    stop_price=19000,
)


def test_split_amount_rounds_to_the_step_and_puts_the_remainder_last():
    assert split_amount(Decimal("0.05"), 2, Decimal("0.001")) == [Decimal("0.025"), Decimal("0.025")]
    assert split_amount(Decimal("0.01"), 3, Decimal("0.001")) == [
        Decimal("0.003"),
        Decimal("0.003"),
        Decimal("0.004"),
    ]
    assert sum(split_amount(Decimal("1.337"), 25, Decimal("0.001"))) == Decimal("1.337")


def test_plan_of_the_reference_order():
    entry, take_profits, stop = plan_orders(
        REFERENCE, RULES, 19200.0, ClientOrderIds("abc", idempotent=False)
    )
    assert (entry.spec.kind, entry.spec.amount, entry.spec.client_order_id) == (
        OrderKind.MARKET,
        0.05,
        "mabce",
    )
    assert [(t.spec.amount, t.spec.price, t.spec.reduce_only, t.spec.side) for t in take_profits] == [
        (0.025, 19250.0, True, Side.SELL),
        (0.025, 19300.0, True, Side.SELL),
    ]
    assert (stop.spec.kind, stop.spec.amount, stop.spec.price, stop.spec.trigger_price) == (
        OrderKind.STOP_LIMIT,
        0.05,
        19000.0,
        19000.0,
    )


def test_a_short_takes_profit_below_and_stops_above():
    short = REFERENCE.model_copy(
        update={"side": Side.SELL, "take_profit_prices": [19100], "stop_trigger_price": 19400}
    )
    _, (take_profit,), stop = plan_orders(short, RULES, 19200.0, ClientOrderIds("abc", False))
    assert (take_profit.spec.side, stop.spec.side) == (Side.BUY, Side.BUY)
    with pytest.raises(FieldValidationError):
        plan_orders(
            REFERENCE.model_copy(update={"side": Side.SELL}), RULES, 19200.0, ClientOrderIds("abc", False)
        )


def test_the_stop_is_placed_right_after_the_entry_and_the_answer_keeps_the_reference_order():
    account, records = FakeTradingAccount(), Records()
    placed = ManualOrderService(records, sleep=lambda _: None).place(
        account, "u", "k", REFERENCE, ClientOrderIds("abc", False)
    )
    assert account.calls == [
        "cancel_all",
        "close",
        "place:market",
        "place:stop_limit",
        "place:take_profit",
        "place:take_profit",
    ]
    assert [o["clientOrderId"] for o in placed] == ["mabce", "mabct1", "mabct2", "mabcs"]
    assert records.saved[0].outcome == "PENDING"
    assert records.saved[-1].outcome == "PLACED"


def test_a_failing_stop_is_retried_then_everything_is_undone():
    account, records = FakeTradingAccount(failing={OrderKind.STOP_LIMIT}), Records()
    with pytest.raises(ExchangeBadRequest):
        ManualOrderService(records, stop_attempts=3, sleep=lambda _: None).place(
            account, "u", "k", REFERENCE, ClientOrderIds("abc", False)
        )
    assert account.calls.count("place:stop_limit") == 3
    assert "place:take_profit" not in account.calls
    assert account.calls[-2:] == ["cancel_all", "close"]
    assert account.position_size == 0
    assert (records.saved[-1].outcome, len(records.saved[-1].compensations)) == ("COMPENSATED", 2)


def test_a_failing_take_profit_is_undone_too():
    account = FakeTradingAccount(failing={OrderKind.TAKE_PROFIT})
    with pytest.raises(ExchangeBadRequest):
        ManualOrderService(Records(), sleep=lambda _: None).place(
            account, "u", "k", REFERENCE, ClientOrderIds("abc", False)
        )
    assert account.position_size == 0


def test_a_failed_entry_places_nothing_else():
    account, records = FakeTradingAccount(failing={OrderKind.MARKET}), Records()
    with pytest.raises(ExchangeBadRequest):
        ManualOrderService(records, sleep=lambda _: None).place(
            account, "u", "k", REFERENCE, ClientOrderIds("abc", False)
        )
    assert [call for call in account.calls if call.startswith("place")] == ["place:market"]
    assert records.saved[-1].outcome == "FAILED"


def test_a_retried_request_resumes_without_clearing_or_placing_twice():
    account = FakeTradingAccount()
    ids = ClientOrderIds.for_request("u", "k", "retry-me")
    account.place(
        "BTC/USDT", plan_orders(REFERENCE, RULES, 19200.0, ids)[0].spec
    )  # the entry got through before a crash
    account.calls.clear()
    placed = ManualOrderService(Records(), sleep=lambda _: None).place(account, "u", "k", REFERENCE, ids)
    assert "cancel_all" not in account.calls
    assert account.calls.count("place:market") == 0
    assert len(placed) == 4


def test_client_order_ids_are_stable_per_key_and_fit_binance():
    one = ClientOrderIds.for_request("user", "key", "idem")
    assert one == ClientOrderIds.for_request("user", "key", "idem")
    assert one != ClientOrderIds.for_request("other", "key", "idem")
    assert all(
        len(identifier) <= 36
        for identifier in (one.entry, one.stop, one.take_profit(25), one.clear, one.close)
    )


def test_an_unreachable_exchange_during_compensation_is_recorded_as_failed():
    class Unreachable(FakeTradingAccount):
        def cancel_all_orders(self, symbol):
            if "place:market" in self.calls:
                raise ServiceUnavailableError
            super().cancel_all_orders(symbol)

    records = Records()
    with pytest.raises(ExchangeBadRequest):
        ManualOrderService(records, sleep=lambda _: None).place(
            Unreachable(failing={OrderKind.STOP_LIMIT}), "u", "k", REFERENCE, ClientOrderIds("abc", False)
        )
    assert records.saved[-1].outcome == "FAILED"
    assert "unprotected" in records.saved[-1].compensations[-1]
