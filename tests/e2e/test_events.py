"""Every ready event of ``events/`` through ``python -m local invoke``'s own code path, against the session's
freshly started stack: each answers what ``local.event_files`` says it does on a fresh stack (a 2xx where
the event can succeed on its own, a documented refusal where a static file cannot), never a 5xx.

The events run in ``local.event_files.EVENTS``' order, which is also the order a person would try them in:
the key's settings, then the reference order, then its position closed; the spare key followed, then
deleted. ``local.__main__.invoke`` runs in this process (one function worker per event, as the command
starts one); only the first event also goes through the command itself, in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from local import __main__ as command
from local.event_files import EVENTS, EVENTS_DIR, ApiEvent, DirectEvent, function_of
from local.template import load_template
from tests.support import PROJECT_ROOT

TEMPLATE = load_template()


@pytest.fixture(scope="module")
def invoke(stack):
    """``python -m local invoke <function> --event <file>``, in-process, against the running stack."""
    import local.stack

    saved = local.stack.STATE_FILE
    local.stack.STATE_FILE = stack.state_file
    # The reference's market, which other tests of the session may have moved.
    assert (
        stack.post("/_local/exchange/price", json={"symbol": "BTC/USDT", "price": 19200}).status_code == 204
    )
    yield
    local.stack.STATE_FILE = saved


def _answer(name: str, capsys: pytest.CaptureFixture[str]) -> dict:
    event = next(event for event in EVENTS if event.name == name)
    capsys.readouterr()
    assert command.invoke(function_of(event, TEMPLATE), EVENTS_DIR / f"{name}.json") == 0
    return json.loads(capsys.readouterr().out)


def test_the_command_itself_invokes_an_event_against_the_running_stack(stack):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "local",
            "invoke",
            "AccountExchangeFunction",
            "--event",
            "events/account_exchange_key_list.json",
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "LOCAL_STATE_FILE": str(stack.state_file)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    response = json.loads(result.stdout)
    assert response["statusCode"] == 200
    keys = json.loads(response["body"])["items"]
    assert [key["name"] for key in keys][:3] == ["Demo manual", "Demo automated", "Demo spare"]


@pytest.mark.parametrize("name", [event.name for event in EVENTS])
def test_every_event_answers_as_documented_on_a_fresh_stack(name, invoke, capsys):
    event = next(event for event in EVENTS if event.name == name)
    response = _answer(name, capsys)
    if isinstance(event, DirectEvent):
        # A schedule's or a queue's function: it returned (a raise fails the invocation), failing no record.
        assert not (response or {}).get("batchItemFailures"), response
        return
    assert isinstance(event, ApiEvent)
    status = response["statusCode"]
    assert status < 500, response
    assert status in event.answers, response
    if name == "strategy_signal_post":  # past the secret's check: refused as stale, nothing recorded
        assert json.loads(response["body"])["errors"][0]["param"] == "timestamp", response
    if name == "account_exchange_key_create":
        assert json.loads(response["body"]) == {"error": "exchange API authorization failed (1103)"}
    if name == "exchange_order_create":  # the entry, its stop and its take-profits
        orders = json.loads(response["body"])
        assert {order["symbol"] for order in orders} == {"BTC/USDT"}, orders


def test_an_order_event_again_places_nothing_and_the_position_stays_closed(invoke, capsys):
    """The order event's Idempotency-Key: invoked again, it answers the first order and trades nothing."""
    first = json.loads(_answer("exchange_order_create", capsys)["body"])
    # (whether this test runs first or after the parametrized ones: the position its order opened is closed)
    assert _answer("exchange_position_cancel", capsys)["statusCode"] < 300
    again = json.loads(_answer("exchange_order_create", capsys)["body"])
    assert again == first
    position = _answer("exchange_position_get", capsys)
    assert (position["statusCode"], json.loads(position["body"] or "null")) == (200, None)
