"""Notifications over HTTP against the local stack (notifications.md): Telegram linked through the simulator
with the code of the method route, alerts by email and Telegram for an order and a take profit, /stop, and a
weekly report with its chart whose one-click unsubscribe link works."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.support import KEYS_PATH, REFERENCE_ORDER, exchange_key_body, simulator_account

pytestmark = pytest.mark.e2e

SETTINGS = "/v1/priv/account/notification"
METHOD = "/v1/priv/account/notification/method"


def wait_for(read: Callable[[], list[Any]], count: int, timeout: float = 30.0) -> list[Any]:
    """``read()`` once it holds at least ``count`` items (alerts travel through the bus and a queue)."""
    deadline = time.monotonic() + timeout
    items = read()
    while len(items) < count and time.monotonic() < deadline:
        time.sleep(0.25)
        items = read()
    return items


@pytest.fixture
def user(stack):
    email = f"alerts-{time.time_ns()}@example.com"
    token, sub = stack.token(email, plan="PROFESSIONAL")
    chat_id = time.time_ns() % 1_000_000_000 + 1000

    def emails() -> list[dict]:
        return stack.get("/_local/email", params={"to": email}).json()["items"]

    def messages() -> list[dict]:
        return stack.get("/_local/telegram/messages", params={"chatId": chat_id}).json()["items"]

    return {
        "email": email,
        "token": token,
        "sub": sub,
        "chat": chat_id,
        "emails": emails,
        "messages": messages,
    }


def link_telegram(stack, user) -> None:
    code = stack.get(METHOD, user["token"]).json()["telegramAuthCode"]
    answer = stack.post("/_local/telegram/updates", json={"chatId": user["chat"], "text": f"/start {code}"})
    assert answer.json() == {"status": 200}


def test_settings_are_null_until_set_and_telegram_alerts_need_a_linked_chat(stack, user):
    token = user["token"]
    assert stack.get(SETTINGS, token).json() is None
    method = stack.get(METHOD, token).json()
    assert method["telegramBotUrl"].startswith("https://t.me/")
    assert len(method["telegramAuthCode"]) == 8
    assert method["telegramActive"] is False
    assert stack.get(METHOD, token).json()["telegramAuthCode"] == method["telegramAuthCode"]  # created once

    refused = stack.put(SETTINGS, token, json={"telegramNewOrder": True, "emailStopLoss": "no"})
    assert refused.status_code == 422
    assert [e["param"] for e in refused.json()["errors"]] == ["emailStopLoss"]
    refused = stack.put(SETTINGS, token, json={"telegramNewOrder": True, "telegramStopLoss": True})
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {
            "value": True,
            "msg": "account must be linked to Telegram",
            "param": "telegramNewOrder",
            "location": "body",
        },
        {
            "value": True,
            "msg": "account must be linked to Telegram",
            "param": "telegramStopLoss",
            "location": "body",
        },
    ]
    assert stack.get(SETTINGS, token).json() is None  # nothing half-done

    changed = stack.put(SETTINGS, token, json={"monthlyReport": False})
    assert changed.status_code == 200
    assert changed.json()["monthlyReport"] is False
    assert changed.json()["emailNewOrder"] is True


def test_a_linked_user_hears_of_an_order_and_its_take_profit_by_email_and_telegram_then_stop_unlinks(
    stack, user
):
    token = user["token"]
    # An unknown code links nothing and is told so; the webhook refuses a caller without the secret token.
    stack.post("/_local/telegram/updates", json={"chatId": user["chat"], "text": "/start zzzzzzzz"})
    assert "not valid" in user["messages"]()[-1]["text"]
    forged = requests.post(f"{stack.url}/v1/hook/telegram", json={"update_id": 1}, timeout=10)
    assert forged.status_code == 401

    link_telegram(stack, user)
    assert stack.get(METHOD, token).json()["telegramActive"] is True
    assert "linked" in user["messages"]()[-1]["text"]
    turned_on = stack.put(SETTINGS, token, json={"telegramNewOrder": True, "telegramTakeProfit": True})
    assert turned_on.status_code == 200

    account = simulator_account(stack, {"USDT": 10000})
    key = stack.post(KEYS_PATH, token, json=exchange_key_body(account)).json()["id"]
    stack.post("/_local/exchange/price", json={"symbol": "BTC/USDT", "price": 19200})
    placed = stack.post(
        f"/v1/priv/exchange/order/{key}", token, json=REFERENCE_ORDER, headers={"Idempotency-Key": "alert-1"}
    )
    assert placed.status_code == 200

    emails = wait_for(user["emails"], 1)
    assert len(emails) == 1
    assert emails[0]["subject"].startswith("New order")
    assert "BTC/USDT" in emails[0]["text"]
    assert "0.05" in emails[0]["text"]
    assert emails[0]["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    alerts = wait_for(user["messages"], 3)  # "not valid", "linked", the order
    assert alerts[-1]["text"].startswith("New order")
    assert "BTC/USDT" in alerts[-1]["text"]

    # The market reaches the first take profit; the trade monitor reports its fill.
    stack.post("/_local/exchange/price", json={"symbol": "BTC/USDT", "price": 19260})
    assert stack.post("/_local/jobs/trade-monitor").status_code == 200
    take_profit = wait_for(user["emails"], 2)[-1]
    assert take_profit["subject"].startswith("Take profit filled #1")
    assert "+" in take_profit["text"]  # its result: (19250 - entry) x 0.025, a gain
    assert wait_for(user["messages"], 4)[-1]["text"].startswith("Take profit filled #1")

    # Once each: running the monitor again sends nothing more.
    stack.post("/_local/jobs/trade-monitor")
    time.sleep(2)
    assert len(user["emails"]()) == 2
    assert len(user["messages"]()) == 4

    # /stop unlinks and turns every Telegram setting off.
    assert stack.post("/_local/telegram/updates", json={"chatId": user["chat"], "text": "/stop"}).json() == {
        "status": 200
    }
    assert stack.get(METHOD, token).json()["telegramActive"] is False
    settings = stack.get(SETTINGS, token).json()
    assert (settings["telegramNewOrder"], settings["telegramTakeProfit"], settings["telegramStopLoss"]) == (
        False,
        False,
        False,
    )
    assert "unlinked" in user["messages"]()[-1]["text"]


def test_a_weekly_report_arrives_with_its_chart_and_its_one_click_unsubscribe_works(stack, user):
    token = user["token"]
    account = simulator_account(stack, {"USDT": 2000})
    assert stack.post(KEYS_PATH, token, json=exchange_key_body(account)).status_code == 200
    assert stack.post("/_local/jobs/balance-snapshot").status_code == 200
    link_telegram(stack, user)

    ran = stack.post("/_local/jobs/weekly-report")
    assert ran.status_code == 200
    assert ran.json()["queued"] >= 1
    reports = [e for e in user["emails"]() if e["subject"].startswith("Weekly report")]
    assert len(reports) == 1
    report = reports[0]
    assert report["images"] == 1
    assert 'src="cid:' in report["html"]
    assert "No trade closed in this period." in report["text"]
    photos = [m for m in user["messages"]() if m["photo"]]
    assert len(photos) == 1
    assert photos[0]["text"].startswith("Weekly report")

    unsubscribe = report["headers"]["List-Unsubscribe"].strip("<>")
    assert report["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert requests.get(unsubscribe, timeout=10).status_code == 200  # a confirmation page: nothing changes
    assert stack.get(SETTINGS, token).json() is None
    # RFC 8058: the mail client POSTs the form body, without any sign-in.
    done = requests.post(
        unsubscribe,
        data="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert done.status_code == 200
    assert done.json() == {"unsubscribed": "weeklyReport"}
    assert stack.get(SETTINGS, token).json()["weeklyReport"] is False
    tampered = requests.post(unsubscribe[:-2] + "xx", data="List-Unsubscribe=One-Click", timeout=10)
    assert tampered.status_code == 404

    # Unsubscribed, the next weekly report skips this user.
    stack.post("/_local/jobs/weekly-report")
    assert len([e for e in user["emails"]() if e["subject"].startswith("Weekly report")]) == 1
