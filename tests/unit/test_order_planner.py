"""Planning a trade: everything the market would refuse is a 422 on its field before anything is sent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import FieldValidationError
from core.models.trading import EntryType, OrderKind, OrderRequest, Origin, Side
from core.services.order_planner import ClientOrderIds, plan_trade, split_amount
from tests.unit.fakes import MARK, REFERENCE, RULES

IDS = ClientOrderIds("abc", idempotent=False)


def problems(request: OrderRequest, mark: float = MARK) -> dict[str, str]:
    with pytest.raises(FieldValidationError) as refused:
        plan_trade(request, RULES, mark, IDS)
    return {error.param: error.msg for error in refused.value.errors}


def test_split_amount_rounds_to_the_step_and_puts_the_remainder_last():
    assert split_amount(Decimal("0.05"), 2, Decimal("0.001")) == [Decimal("0.025"), Decimal("0.025")]
    assert split_amount(Decimal("0.01"), 3, Decimal("0.001")) == [
        Decimal("0.003"),
        Decimal("0.003"),
        Decimal("0.004"),
    ]
    assert sum(split_amount(Decimal("1.337"), 25, Decimal("0.001"))) == Decimal("1.337")


def test_the_reference_order_is_an_entry_a_conditional_ladder_and_a_stop_limit():
    plan = plan_trade(REFERENCE, RULES, MARK, IDS)
    assert (plan.entry.spec.kind, plan.entry.spec.amount, plan.entry.spec.client_order_id) == (
        OrderKind.MARKET,
        0.05,
        "mabce",
    )
    assert [
        (t.spec.kind, t.spec.amount, t.spec.price, t.spec.reduce_only, t.spec.side) for t in plan.take_profits
    ] == [
        (OrderKind.TAKE_PROFIT, 0.025, 19250.0, True, Side.SELL),
        (OrderKind.TAKE_PROFIT, 0.025, 19300.0, True, Side.SELL),
    ]
    assert plan.stop is not None
    assert (
        plan.stop.spec.kind,
        plan.stop.spec.amount,
        plan.stop.spec.price,
        plan.stop.spec.trigger_price,
    ) == (
        OrderKind.STOP_LIMIT,
        0.05,
        19000.0,
        19000.0,
    )
    assert [p.role for p in plan.exits] == ["stop", "take_profit_1", "take_profit_2"]


def test_a_short_takes_profit_below_and_stops_above():
    short = REFERENCE.model_copy(
        update={"side": Side.SELL, "take_profit_prices": [19100], "stop_trigger_price": 19400}
    )
    plan = plan_trade(short, RULES, MARK, IDS)
    assert plan.stop is not None
    assert (plan.take_profits[0].spec.side, plan.stop.spec.side) == (Side.BUY, Side.BUY)
    assert problems(REFERENCE.model_copy(update={"side": Side.SELL})) == {
        "stopTriggerPrice": "must be above the entry price",
        "takeProfitPrices[0]": "must be below the entry price",
        "takeProfitPrices[1]": "must be below the entry price",
    }


@pytest.mark.parametrize(
    ("update", "param", "msg"),
    [
        ({"amount": 1e9}, "amount", "must be at most 120"),  # a market order's own maximum
        ({"amount": float("inf")}, "amount", "must be a positive number"),
        ({"amount": float("nan")}, "amount", "must be a positive number"),
        ({"amount": 0.0001}, "amount", "must be at least 0.001"),
        ({"amount": 0.004}, "amount", "order value must be at least 100 USDT"),
        ({"take_profit_prices": [1e12]}, "takeProfitPrices[0]", "must be at most 4529764"),
        ({"stop_trigger_price": 1.0}, "stopTriggerPrice", "must be at least 556.8"),
        ({"stop_price": float("inf")}, "stopPrice", "must be a positive number"),
    ],
)
def test_numbers_the_market_cannot_trade_are_refused_on_their_field(update, param, msg):
    assert problems(REFERENCE.model_copy(update=update))[param] == msg


def test_a_limit_price_outside_the_band_around_the_mark_price_is_refused():
    limit = REFERENCE.model_copy(
        update={
            "type": EntryType.LIMIT,
            "price": 25000.0,
            "take_profit_prices": [26000.0],
            "stop_trigger_price": 24000.0,
            "stop_price": 24000.0,
        }
    )
    assert problems(limit) == {"price": "must be at most 20160 (the band around the mark price)"}


def test_a_ladder_longer_than_the_conditional_slots_rests_as_reduce_only_limits_after_a_market_entry():
    prices = [19210.0 + 10 * index for index in range(25)]
    plan = plan_trade(
        REFERENCE.model_copy(update={"amount": 0.1, "take_profit_prices": prices}), RULES, MARK, IDS
    )
    assert {t.spec.kind for t in plan.take_profits} == {OrderKind.LIMIT}
    assert all(t.spec.reduce_only and t.spec.trigger_price is None for t in plan.take_profits)
    assert plan.stop is not None
    assert plan.stop.spec.kind.conditional
    assert sum(Decimal(str(t.spec.amount)) for t in plan.take_profits) == Decimal("0.1")


def test_a_long_ladder_must_sit_in_the_price_band_and_cannot_follow_a_resting_entry():
    far = [19210.0 + 10 * index for index in range(24)] + [21000.0]
    assert problems(REFERENCE.model_copy(update={"amount": 0.1, "take_profit_prices": far})) == {
        "takeProfitPrices[24]": "must be at most 20160 (the band around the mark price)"
    }
    resting = REFERENCE.model_copy(
        update={
            "type": EntryType.LIMIT,
            "price": 19100.0,
            "amount": 0.1,
            "take_profit_prices": [19210.0 + 10 * i for i in range(10)],
        }
    )
    assert problems(resting) == {
        "takeProfitPrices": "must contain at most 9 items with a LIMIT entry (the exchange allows 10 conditional orders per symbol)"
    }


def test_client_order_ids_are_stable_per_request_differ_by_origin_and_fit_binance():
    one = ClientOrderIds.for_request("user", "key", "idem")
    assert one == ClientOrderIds.for_request("user", "key", "idem")
    assert one != ClientOrderIds.for_request("other", "key", "idem")
    strategy = ClientOrderIds.for_request("user", "key", "idem", Origin.STRATEGY)
    assert strategy.entry.startswith("s")
    assert one.entry.startswith("m")
    assert all(
        len(identifier) <= 36
        for identifier in (
            one.entry,
            one.stop,
            one.take_profit(25),
            one.clear,
            one.close,
            one.replacement_stop(9),
        )
    )
