"""Notifications in-process against moto and the Telegram simulator: the link's transactions (a chat taken
by another code, /stop, a used code), the webhook's secret and duplicate updates, and the alert worker's
partial batch failures with SES."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local.mailbox import sent_emails
from tests.support import USER_A, USER_B, call, invoke

SECRET = "webhook-secret-token"
SENDER = "alerts@example.com"


@pytest.fixture(scope="module")
def telegram_simulator() -> Iterator[Any]:
    from local.telegram_sim import start_simulator

    running = start_simulator()
    yield running
    running.stop()


@pytest.fixture
def notifications(aws, telegram_simulator, monkeypatch):
    """The notification functions' environment: the bot's secret, SES's sender, a user pool with two users."""
    from core import wiring
    from core.config import get_settings

    simulator = telegram_simulator.simulator
    simulator.reset()
    secrets = boto3.client("secretsmanager")
    bot = secrets.create_secret(
        Name="telegram", SecretString=json.dumps({"botToken": simulator.token, "webhookSecret": SECRET})
    )["ARN"]
    link = secrets.create_secret(Name="links", SecretString="link-secret")["ARN"]
    boto3.client("ses").verify_email_identity(EmailAddress=SENDER)
    cognito = boto3.client("cognito-idp")
    pool = cognito.create_user_pool(PoolName="users", UsernameAttributes=["email"])["UserPool"]["Id"]
    users = {}
    for name in ("a", "b"):
        created = cognito.admin_create_user(
            UserPoolId=pool,
            Username=f"{name}@example.com",
            UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}],
            MessageAction="SUPPRESS",
        )["User"]
        users[name] = next(a["Value"] for a in created["Attributes"] if a["Name"] == "sub")
    for name, value in {
        "TELEGRAM_SECRET_ARN": bot,
        "TELEGRAM_API_BASE": telegram_simulator.url,
        "TELEGRAM_BOT_USERNAME": simulator.username,
        "LINK_SECRET_ARN": link,
        "EMAIL_SENDER": SENDER,
        "USER_POOL_ID": pool,
        "PUBLIC_API_URL": "https://api.example.com/dev",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    wiring.reset()
    return {"simulator": simulator, "users": users}


_update_ids = iter(range(1, 1_000_000))


def update(chat_id: int, text: str, update_id: int | None = None) -> dict[str, Any]:
    return {
        "update_id": update_id or next(_update_ids),
        "message": {
            "message_id": 1,
            "date": 1796207688,
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "A", "username": "alice"},
            "text": text,
        },
    }


def webhook(body: Any, secret: str | None = SECRET) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    status, _, _ = call("POST", "/v1/hook/telegram", body=body, headers=headers)
    return status


def method(user: str) -> dict:
    status, body, _ = call("GET", "/v1/priv/account/notification/method", user=user)
    assert status == 200
    return body


def settings(user: str) -> dict | None:
    return call("GET", "/v1/priv/account/notification", user=user)[1]


def test_a_chat_taken_by_another_users_code_moves_to_that_user_and_the_first_one_loses_its_alerts(
    notifications,
):
    simulator = notifications["simulator"]
    simulator.open_chat(2001)  # the user has the bot in their chats
    assert webhook(update(2001, f"/start {method(USER_A)['telegramAuthCode']}")) == 200
    assert method(USER_A)["telegramActive"] is True
    assert (
        call("PUT", "/v1/priv/account/notification", user=USER_A, body={"telegramStopLoss": True})[0] == 200
    )

    assert webhook(update(2001, f"/start {method(USER_B)['telegramAuthCode']}")) == 200
    assert method(USER_B)["telegramActive"] is True
    assert method(USER_A)["telegramActive"] is False
    assert settings(USER_A)["telegramStopLoss"] is False
    texts = [m["text"] for m in simulator.messages(2001)]
    assert any("linked to another account" in text for text in texts)


def test_a_used_code_links_nothing_more_and_a_repeated_update_has_no_second_effect(notifications):
    simulator = notifications["simulator"]
    simulator.open_chat(2002)
    first_code = method(USER_A)["telegramAuthCode"]
    linking = update(2002, f"/start {first_code}")
    assert webhook(linking) == 200
    new_code = method(USER_A)["telegramAuthCode"]
    assert new_code != first_code  # a new code for a later link

    assert webhook(update(2002, "/stop")) == 200
    assert method(USER_A)["telegramActive"] is False
    assert webhook(linking) == 200  # Telegram delivers the linking update again: nothing happens
    assert method(USER_A)["telegramActive"] is False
    assert webhook(update(2002, f"/start {first_code}")) == 200  # the used code, typed again
    assert method(USER_A)["telegramActive"] is False
    assert "not valid" in simulator.messages(2002)[-1]["text"]


def test_the_webhook_refuses_a_caller_without_the_secret_token_and_changes_nothing(notifications):
    code = method(USER_A)["telegramAuthCode"]
    assert webhook(update(2003, f"/start {code}"), secret=None) == 401
    assert webhook(update(2003, f"/start {code}"), secret="guessed") == 401
    assert method(USER_A)["telegramActive"] is False
    assert webhook({"update_id": "not a number"}) == 200  # unreadable: acknowledged, not retried forever
    assert webhook({"update_id": 77, "edited_message": {}}) == 200


def _alert_record(message_id: str, body: str) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": message_id,
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:alerts",
        "awsRegion": "us-east-1",
    }


def test_one_unreadable_alert_fails_alone_and_the_others_are_sent_once(notifications):
    user = notifications["users"]["a"]
    event = {
        "version": "0",
        "id": "ev-1",
        "detail-type": "Order Placed",
        "source": "trading-api.trades",
        "time": "2026-12-02T10:00:00Z",
        "detail": {"userId": user, "tradeId": "t-1", "symbol": "BTC/USDT", "side": "BUY", "amount": 0.05},
    }
    batch = {"Records": [_alert_record("m1", json.dumps(event)), _alert_record("m2", "{not json")]}
    answer = invoke("NotificationAlertFunction", batch)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    invoke(
        "NotificationAlertFunction", {"Records": [_alert_record("m3", json.dumps({**event, "id": "ev-2"}))]}
    )
    emails = sent_emails("a@example.com")
    assert len(emails) == 1
    assert emails[0]["from"] == SENDER
    assert emails[0]["subject"] == "New order: Buy 0.05 BTC/USDT"
    assert emails[0]["headers"]["List-Unsubscribe"].startswith(
        "<https://api.example.com/dev/v1/pub/notification/unsubscribe?token="
    )


def _order_placed(user_id: str, event_id: str) -> dict[str, Any]:
    event = {
        "version": "0",
        "id": event_id,
        "detail-type": "Order Placed",
        "source": "trading-api.trades",
        "time": "2026-12-02T10:00:00Z",
        "detail": {
            "userId": user_id,
            "tradeId": event_id,
            "symbol": "BTC/USDT",
            "side": "BUY",
            "amount": 0.05,
        },
    }
    return {"Records": [_alert_record(event_id, json.dumps(event))]}


def test_a_chat_that_blocked_the_bot_is_unlinked_and_hears_nothing_more(notifications):
    simulator = notifications["simulator"]
    simulator.open_chat(2002)
    assert webhook(update(2002, f"/start {method(USER_A)['telegramAuthCode']}")) == 200
    assert (
        call("PUT", "/v1/priv/account/notification", user=USER_A, body={"telegramNewOrder": True})[0] == 200
    )
    assert invoke("NotificationAlertFunction", _order_placed(USER_A, "t-sent")) == {"batchItemFailures": []}
    heard = len(simulator.messages(2002))
    # When the user blocks the bot and the next alert is refused (403)
    simulator.block_chat(2002)
    assert invoke("NotificationAlertFunction", _order_placed(USER_A, "t-refused")) == {
        "batchItemFailures": []
    }
    # Then the chat is unlinked and every Telegram setting is off, as after /stop
    assert method(USER_A)["telegramActive"] is False
    assert settings(USER_A)["telegramNewOrder"] is False
    # And once the user writes again (unblocking the bot), no alert goes to a chat no longer linked
    simulator.unblock_chat(2002)
    assert invoke("NotificationAlertFunction", _order_placed(USER_A, "t-after")) == {"batchItemFailures": []}
    assert len(simulator.messages(2002)) == heard


def test_a_report_refused_by_a_chat_that_blocked_the_bot_unlinks_it_too(notifications):
    simulator = notifications["simulator"]
    simulator.open_chat(2003)
    assert webhook(update(2003, f"/start {method(USER_A)['telegramAuthCode']}")) == 200
    assert method(USER_A)["telegramActive"] is True
    # When the user blocked the bot and the weekly report's photo is refused (403)
    simulator.block_chat(2003)
    report = json.dumps({"kind": "WEEKLY", "userId": USER_A, "runAt": "2026-11-30T00:30:00Z"})
    answer = invoke("NotificationReportFunction", {"Records": [_alert_record("weekly", report)]})
    # Then the chat is unlinked, as an alert refused so would unlink it, and the report is not retried
    assert answer == {"batchItemFailures": []}
    assert method(USER_A)["telegramActive"] is False
