"""Exchange round trips and latency of a manual order, through the local stack's API gateway (issue 12).

Targets, each measured by the Binance simulator's own request log (``GET /_sim/requests`` on its port),
never by counting the project's own calls:

- **Requests**: on a warm container, a manual order with k take-profits on an idle symbol makes at most
  k + 4 exchange requests (the price read, the account read that stands for the clear, the entry, the
  stop, the take-profits); reported for k = 1, 3 and 5.
- **Replace**: an order on a symbol still holding our earlier trade clears it in full (both books, the
  position read and its close): at most k + 7.
- **Warm reuse**: warm orders read no markets, no leverage brackets and no server time (target 0).
- **Latency**: with 50 ms of simulated exchange latency on every request, the reference order answers
  within (requests x 50 ms) + 150 ms through the local API gateway (median of the runs).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.support import (
    KEYS_PATH,
    REFERENCE_ORDER,
    SYMBOL,
    RunningStack,
    exchange_key_body,
    simulator_account,
    start_stack,
    stop_stack,
)

LATENCY_MS = 50
GATEWAY_BUDGET_MS = 150
LATENCY_RUNS = 7
COLD_READS = ("/fapi/v1/exchangeInfo", "/api/v3/exchangeInfo", "/fapi/v1/leverageBracket", "/fapi/v1/time")


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("order-path"))
    yield running
    stop_stack(running)


class Trader:
    """One MANUAL FUTURES key on a funded simulator account, and the simulator's request log."""

    def __init__(self, stack: RunningStack) -> None:
        self.stack = stack
        parameters = json.loads(stack.state_file.read_text())["parameters"]
        self.exchange_url = parameters["ExchangeEndpoint"]
        self.token, _ = stack.token("bench-order-path@example.com", plan="PROFESSIONAL")
        stack.post("/_local/exchange/price", json={"symbol": "BTC/USDT", "price": 19200})
        answer = stack.post(
            KEYS_PATH, self.token, json=exchange_key_body(simulator_account(stack, {"USDT": 9000}))
        )
        assert answer.status_code == 200, answer.text
        self.key = answer.json()["id"]
        self.orders = 0

    def received(self) -> list[dict[str, Any]]:
        return requests.get(f"{self.exchange_url}/_sim/requests", timeout=10).json()["requests"]

    def clear_received(self) -> None:
        requests.delete(f"{self.exchange_url}/_sim/requests", timeout=10).raise_for_status()

    def faults(self, **faults: Any) -> None:
        assert self.stack.post("/_local/exchange/faults", json=faults).status_code == 204

    def order(self, body: dict[str, Any]) -> tuple[float, list[dict[str, Any]]]:
        """Places ``body``; the seconds the API took and the exchange requests it made."""
        self.orders += 1
        self.clear_received()
        start = time.perf_counter()
        answer = self.stack.post(
            f"/v1/priv/exchange/order/{self.key}",
            self.token,
            json=body,
            headers={"Idempotency-Key": f"bench-{self.orders}"},
        )
        seconds = time.perf_counter() - start
        assert answer.status_code == 200, answer.text
        return seconds, self.received()

    def flatten(self) -> None:
        """Closes the position and its exits (the trade ends), so the next order meets an idle symbol."""
        answer = self.stack.delete(f"/v1/priv/exchange/position/{self.key}", self.token, json=SYMBOL)
        assert answer.status_code == 204, answer.text


def _with_take_profits(count: int) -> dict[str, Any]:
    return {**REFERENCE_ORDER, "takeProfitPrices": [19250 + 10 * i for i in range(count)]}


@pytest.fixture(scope="module")
def trader(stack: RunningStack) -> Trader:
    trader = Trader(stack)
    trader.order(REFERENCE_ORDER)  # warms the function, its markets, the key's client and its brackets
    trader.flatten()
    return trader


@pytest.mark.parametrize("take_profits", [1, 3, 5])
def test_a_warm_manual_order_makes_at_most_k_plus_4_exchange_requests(trader, bench_report, take_profits):
    _, received = trader.order(_with_take_profits(take_profits))
    trader.flatten()
    target = take_profits + 4
    count = len(received)
    print(f"k={take_profits}: {count} requests: {[(r['method'], r['path']) for r in received]}")
    bench_report.add(
        f"Manual order, {take_profits} take-profits, warm: exchange requests",
        target=f"<= {target}",
        measured=str(count),
        ratio=count / target,
        met=count <= target,
    )
    assert count <= target


def test_replacing_our_own_trade_clears_it_in_full(trader, bench_report):
    trader.order(REFERENCE_ORDER)
    _, received = trader.order(REFERENCE_ORDER)  # the first trade is still open on the symbol
    trader.flatten()
    target = 2 + 7
    count = len(received)
    paths = [r["path"] for r in received]
    bench_report.add(
        "Manual order replacing our open trade (2 take-profits): exchange requests",
        target=f"<= {target}",
        measured=str(count),
        ratio=count / target,
        met=count <= target,
    )
    assert "/fapi/v1/algoOpenOrders" in paths  # its stop and take-profits were cancelled
    assert count <= target


def test_warm_orders_read_no_markets_brackets_or_time(trader, bench_report):
    seen: list[str] = []
    for _ in range(3):
        _, received = trader.order(REFERENCE_ORDER)
        seen += [r["path"] for r in received]
        trader.clear_received()
        trader.flatten()
        seen += [r["path"] for r in trader.received()]
    cold = [path for path in seen if path in COLD_READS]
    bench_report.add(
        "Warm orders and cancels (3 rounds): market, bracket and time reads",
        target="0",
        measured=str(len(cold)),
        ratio=None,
        met=not cold,
    )
    assert not cold


def test_the_reference_order_answers_within_its_round_trips_plus_150_ms(trader, bench_report):
    trader.faults(latencyMs=LATENCY_MS)
    try:
        runs = []
        for _ in range(LATENCY_RUNS):
            seconds, received = trader.order(REFERENCE_ORDER)
            runs.append((seconds * 1000, len(received)))
            trader.flatten()
    finally:
        trader.faults()
    median_ms = statistics.median(ms for ms, _ in runs)
    requests_made = max(count for _, count in runs)
    target_ms = requests_made * LATENCY_MS + GATEWAY_BUDGET_MS
    print(f"reference order at {LATENCY_MS} ms exchange latency: {[f'{ms:.0f}' for ms, _ in runs]} ms")
    bench_report.add(
        f"Reference order through the gateway, {LATENCY_MS} ms exchange latency (median of {LATENCY_RUNS})",
        target=f"<= {target_ms} ms ({requests_made} x {LATENCY_MS} + {GATEWAY_BUDGET_MS})",
        measured=f"{median_ms:.0f} ms",
        ratio=median_ms / target_ms,
        met=median_ms <= target_ms,
    )
    assert median_ms <= target_ms
