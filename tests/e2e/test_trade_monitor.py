"""The order path and the trade monitor over HTTP against the local stack: a request whose process is killed
mid-order is repaired by the monitor job, and fills reach the trade event bus."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import boto3
import pytest

from tests.support import KEYS_PATH, REFERENCE_ORDER, SYMBOL, exchange_key_body, simulator_account

pytestmark = pytest.mark.e2e


def _descendants(pid: int) -> list[int]:
    children: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return children
    for task in tasks:
        try:
            listed = (task / "children").read_text().split()
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
        for child in listed:
            children += [int(child), *_descendants(int(child))]
    return children


def kill_function_processes(stack) -> int:
    """SIGKILL every Lambda worker process of the stack, as a crash of their containers would, and wait until
    they are dead (a zombie or gone): a request sent meanwhile could still be handed to a dying one."""
    killed = []
    for pid in _descendants(stack.process.pid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"--multiprocessing-fork" in command and b"resource_tracker" not in command:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
    deadline = time.monotonic() + 10
    for pid in killed:
        while time.monotonic() < deadline:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (FileNotFoundError, ProcessLookupError):
                break
            if state in ("Z", "X"):
                break
            time.sleep(0.02)
    return len(killed)


def audit_log(stack) -> list[dict]:
    """The trade events the bus delivered to its audit log group (read from the stack's moto)."""
    state = json.loads(stack.state_file.read_text())
    logs = boto3.client("logs", endpoint_url=state["awsEndpointUrl"])
    events = logs.filter_log_events(logGroupName="/aws/events/trading-api-local-trades")["events"]
    return [json.loads(event["message"]) for event in events]


@pytest.fixture
def trader(stack):
    token, _ = stack.token(f"monitor-{time.time_ns()}@example.com", plan="PROFESSIONAL")
    account = simulator_account(stack, {"USDT": 10000})
    key = stack.post(KEYS_PATH, token, json=exchange_key_body(account)).json()["id"]
    assert (
        stack.post("/_local/exchange/price", json={"symbol": "BTC/USDT", "price": 19200}).status_code == 204
    )
    return token, key


def test_an_order_killed_mid_way_is_protected_by_the_trade_monitor(stack, trader):
    token, key = trader
    assert stack.get(f"/v1/priv/exchange/position/{key}", token, params=SYMBOL).json() is None  # warm
    # Given an exchange that never answers the stop (each attempt hangs past the client's timeout)
    stack.post(
        "/_local/exchange/faults", json={"timeout": True, "match": "POST /fapi/v1/algoOrder", "count": 3}
    )
    answers: list = []
    request = threading.Thread(
        target=lambda: answers.append(
            stack.post(f"/v1/priv/exchange/order/{key}", token, json=REFERENCE_ORDER)
        )
    )
    request.start()
    # When the function's process is killed while the stop is on its way
    deadline = time.monotonic() + 20
    while not stack.get(f"/v1/priv/exchange/position/{key}", token, params=SYMBOL).json():
        assert time.monotonic() < deadline, "the entry never reached the exchange"
        time.sleep(0.2)
    assert kill_function_processes(stack) >= 1
    request.join(timeout=30)
    stack.post("/_local/exchange/faults", json={})
    # Then the request failed, leaving the position without its stop
    assert answers[0].status_code >= 500
    position = stack.get(f"/v1/priv/exchange/position/{key}", token, params=SYMBOL)
    assert (position.json() or {}).get("contracts") == 0.05, position.text
    exits = stack.get(f"/v1/priv/exchange/order/{key}/list", token, params=SYMBOL).json()
    assert "stop" not in [order["type"] for order in exits]
    # When the trade monitor runs once the record is stale; Then it puts the stop and the take-profits on the book
    time.sleep(6)
    report = stack.post("/_local/jobs/trade-monitor").json()
    assert report["repaired"] == 1
    exits = stack.get(f"/v1/priv/exchange/order/{key}/list", token, params=SYMBOL).json()
    assert sorted(order["type"] for order in exits) == ["stop", "take_profit", "take_profit"]
    assert "Trade Repaired" in [event["detail-type"] for event in audit_log(stack)]


def test_fills_reported_by_the_monitor_reach_the_event_bus(stack, trader):
    # Given the reference trade; When the price crosses both take profits and the monitor runs
    token, key = trader
    placed = stack.post(f"/v1/priv/exchange/order/{key}", token, json=REFERENCE_ORDER)
    assert placed.status_code == 200
    stack.post("/_local/exchange/price", json={"symbol": "BTC/USDT", "price": 19310})
    report = stack.post("/_local/jobs/trade-monitor").json()
    # Then the trade is closed and its fills reached the bus in order
    assert report["take_profits_filled"] >= 2
    assert stack.get(f"/v1/priv/exchange/position/{key}", token, params=SYMBOL).json() is None
    assert stack.get(f"/v1/priv/exchange/order/{key}/list", token, params=SYMBOL).json() == []
    mine = [e for e in audit_log(stack) if e["detail"].get("keyId") == key]
    assert [e["detail-type"] for e in mine] == [
        "Order Placed",
        "Take Profit Filled",
        "Take Profit Filled",
        "Trade Closed",
    ]
    assert mine[-1]["detail"]["reason"] == "TAKE_PROFIT"
