"""PublicStrategyExpressJSv1's track record routes against moto: history, performance and the trades behind them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.models.strategy_track import StrategyTrade
from core.models.trading import EntryType, Side
from core.repositories.strategy_trades import StrategyTradeRepository
from core.services.strategy_track_record import apply_candle, start_trade
from core.timeutil import to_iso
from tests.support import call

STRATEGY = "b9f67eb2-1d6e-4a47-a735-d0d9039c9b08"  # STRATEGY #1 of the reference data


def closed_trade(trade_id: str, side: Side, closed: datetime, win: bool) -> StrategyTrade:
    """A trade measured on the market: entered at 100, then its take-profit (110 / 90) or its stop."""
    take_profit, stop = (110.0, 95.0) if side is Side.BUY else (90.0, 105.0)
    trade = start_trade(
        StrategyTrade(
            strategy_id=STRATEGY,
            trade_id=trade_id,
            side=side,
            entry_type=EntryType.MARKET,
            take_profits=[take_profit],
            stop=stop,
            opened_at=to_iso(closed - timedelta(hours=1)),
        ),
        last_price=100.0,
    )
    level = take_profit if win else stop
    return apply_candle(trade, low=level, high=level, at=to_iso(closed))


@pytest.fixture
def record(aws):
    """Given a track record: two trades today (a long win, a short loss), one three days ago (a long loss)."""
    repository = StrategyTradeRepository()
    today = datetime.now(UTC).replace(hour=0, minute=30, second=0, microsecond=0)
    trades = [
        closed_trade("a", Side.BUY, today, win=True),
        closed_trade("b", Side.SELL, today + timedelta(minutes=5), win=False),
        closed_trade("c", Side.BUY, today - timedelta(days=3), win=False),
    ]
    for trade in trades:
        repository.save_open(trade)
        repository.close(trade)
    return trades


def test_history_is_newest_first_with_empty_days_as_nulls_and_zero_counts(record):
    status, body, _ = call(
        "GET", f"/v1/pub/strategy/{STRATEGY}/history", query={"interval": "1d", "limit": "4"}
    )
    assert status == 200
    days = body["items"]
    assert [(d["trades"], d["long"], d["short"]) for d in days] == [
        (2, 1, 1),
        (0, 0, 0),
        (0, 0, 0),
        (1, 1, 0),
    ]
    assert days[1] | {"netProfitPercent": None, "winRate": None, "maxDrawDown": None} == days[1]
    assert days[0]["winRate"] == 0.5
    assert days[1]["endAt"] == days[0]["start"] > days[1]["start"]
    first, second = record[0].return_fraction, record[1].return_fraction
    assert days[0]["netProfitPercent"] == pytest.approx(((1 + first) * (1 + second) - 1) * 100, abs=1e-6)
    assert days[0]["maxDrawDown"] == pytest.approx(-second, abs=1e-8)  # from the peak after the win


def test_performance_is_the_total_of_the_same_range(record):
    _, four_days, _ = call("GET", f"/v1/pub/strategy/{STRATEGY}/performance", query={"limit": "4"})
    _, one_day, _ = call("GET", f"/v1/pub/strategy/{STRATEGY}/performance", query={"limit": "1"})
    assert (four_days["trades"], four_days["long"], four_days["short"]) == (3, 2, 1)
    assert four_days["winRate"] == pytest.approx(1 / 3, abs=1e-8)
    assert one_day["trades"] == 2
    _, month, _ = call(
        "GET", f"/v1/pub/strategy/{STRATEGY}/performance", query={"interval": "1M", "limit": "2"}
    )
    assert month["trades"] == 3


def test_the_trades_behind_the_numbers_are_public_newest_first_and_paged(record):
    status, first, _ = call("GET", f"/v1/pub/strategy/{STRATEGY}/trades", query={"limit": "2"})
    assert status == 200
    assert [t["id"] for t in first["items"]] == ["b", "a"]
    assert first["items"][1] | {"side": "BUY", "entry": 100.0, "reason": "TAKE_PROFIT"} == first["items"][1]
    assert first["items"][1]["exits"] == [
        {"price": 110.0, "part": 1.0, "reason": "TAKE_PROFIT", "at": first["items"][1]["closedAt"]}
    ]
    _, rest, _ = call(
        "GET", f"/v1/pub/strategy/{STRATEGY}/trades", query={"limit": "2", "nextToken": first["nextToken"]}
    )
    assert ([t["id"] for t in rest["items"]], rest["nextToken"]) == (["c"], None)


@pytest.mark.parametrize(
    ("path", "query", "status"),
    [
        ("/v1/pub/strategy/00000000-0000-4000-8000-000000000000/history", {}, 404),
        ("/v1/pub/strategy/not-a-uuid/performance", {}, 422),
        (f"/v1/pub/strategy/{STRATEGY}/history", {"interval": "1w"}, 422),
        (f"/v1/pub/strategy/{STRATEGY}/history", {"limit": "1001"}, 422),
        (f"/v1/pub/strategy/{STRATEGY}/trades", {"nextToken": "forged"}, 422),
    ],
)
def test_unknown_strategies_and_bad_queries(aws, path, query, status):
    assert call("GET", path, query=query)[0] == status
