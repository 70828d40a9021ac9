"""Users writing to the bot: the simulator posts Telegram's Updates to a real webhook over HTTP."""

from __future__ import annotations

import socket

import pytest
import requests

from local.telegram_sim import SECRET_HEADER, UpdateNotAllowed, WebhookNotSet, WebhookUnreachable

CHAT = 1001


def set_webhook(api: str, url: str, **params: object) -> None:
    answer = requests.post(f"{api}/setWebhook", json={"url": url, **params}, timeout=5).json()
    assert answer["ok"] is True


def test_deliver_update_posts_a_private_message_update_with_the_secret_token(
    sim, api, webhook_receiver
) -> None:
    set_webhook(api, webhook_receiver.url, secret_token="hook-secret", allowed_updates=["message"])

    status = sim.deliver_update(CHAT, "/start 8pvv88pj", username="alice")

    assert status == 200
    [received] = webhook_receiver.received
    assert received.headers[SECRET_HEADER] == "hook-secret"
    assert received.headers["Content-Type"] == "application/json"
    update = received.update
    message = update["message"]
    assert set(update) == {"update_id", "message"}
    assert message["from"] == {"id": CHAT, "is_bot": False, "first_name": "alice", "username": "alice"}
    assert message["chat"] == {"id": CHAT, "first_name": "alice", "username": "alice", "type": "private"}
    assert message["text"] == "/start 8pvv88pj"
    assert message["entities"] == [{"offset": 0, "length": 6, "type": "bot_command"}]
    assert isinstance(message["message_id"], int)
    assert isinstance(message["date"], int)


def test_update_ids_grow_and_plain_text_has_no_command_entity(sim, api, webhook_receiver) -> None:
    set_webhook(api, webhook_receiver.url)
    sim.deliver_update(CHAT, "/stop")
    sim.deliver_update(CHAT, "hello bot", first_name="Ada", language_code="ar")
    sim.deliver_update(2002, "/start@trading_api_local_bot abc")
    first, second, third = webhook_receiver.updates
    assert first["update_id"] < second["update_id"] < third["update_id"]
    assert second["message"]["message_id"] == first["message"]["message_id"] + 1  # per chat
    assert "entities" not in second["message"]
    assert second["message"]["from"]["first_name"] == "Ada"
    assert second["message"]["from"]["language_code"] == "ar"
    assert third["message"]["entities"] == [{"offset": 0, "length": 28, "type": "bot_command"}]
    assert third["message"]["chat"] == {"id": 2002, "first_name": "User 2002", "type": "private"}


def test_without_a_secret_token_the_header_is_omitted(sim, api, webhook_receiver) -> None:
    set_webhook(api, webhook_receiver.url)
    sim.deliver_update(CHAT, "/start")
    assert SECRET_HEADER not in webhook_receiver.received[0].headers
    assert sim.deliveries[0].secret_token_sent is False


def test_redeliver_posts_the_same_update_again(sim, api, webhook_receiver) -> None:
    set_webhook(api, webhook_receiver.url, secret_token="hook-secret")
    sim.deliver_update(CHAT, "/start code1")
    sim.deliver_update(CHAT, "/start code2")
    first_id = webhook_receiver.updates[0]["update_id"]

    assert sim.redeliver() == 200  # the last one
    assert sim.redeliver(first_id) == 200
    updates = webhook_receiver.updates
    assert updates[2] == updates[1]
    assert updates[3] == updates[0]
    assert webhook_receiver.received[3].headers[SECRET_HEADER] == "hook-secret"
    with pytest.raises(KeyError):
        sim.redeliver(999_999)


def test_the_webhooks_status_is_returned_and_a_failure_is_pending(sim, api, webhook_receiver) -> None:
    set_webhook(api, webhook_receiver.url)
    webhook_receiver.answer_status = 500

    assert sim.deliver_update(CHAT, "/start") == 500

    info = requests.get(f"{api}/getWebhookInfo", timeout=5).json()["result"]
    assert info["pending_update_count"] == 1
    assert info["last_error_message"] == "Wrong response from the webhook: 500 Internal Server Error"
    assert isinstance(info["last_error_date"], int)
    webhook_receiver.answer_status = 200
    assert sim.redeliver() == 200
    assert requests.get(f"{api}/getWebhookInfo", timeout=5).json()["result"]["pending_update_count"] == 0


def test_the_webhook_can_answer_through_the_bot_api_while_the_update_is_delivered(
    sim, api, webhook_receiver
) -> None:
    def reply(update: dict) -> None:
        chat_id = update["message"]["chat"]["id"]
        answer = requests.post(
            f"{api}/sendMessage", json={"chat_id": chat_id, "text": "Linked ✅"}, timeout=5
        )
        assert answer.ok

    webhook_receiver.on_update = reply
    set_webhook(api, webhook_receiver.url)

    assert sim.deliver_update(CHAT, "/start 8pvv88pj", username="alice") == 200
    [message] = sim.messages(CHAT)
    assert (message["chatId"], message["text"], message["photo"]) == (CHAT, "Linked ✅", False)
    assert sim.sent_messages(CHAT)[0]["chat"]["username"] == "alice"


def test_a_delivery_needs_a_reachable_webhook_that_accepts_messages(sim, api, webhook_receiver) -> None:
    with pytest.raises(WebhookNotSet):
        sim.deliver_update(CHAT, "/start")
    # The user still wrote to the bot: the bot may answer.
    assert requests.post(f"{api}/sendMessage", json={"chat_id": CHAT, "text": "hi"}, timeout=5).ok

    set_webhook(api, webhook_receiver.url, allowed_updates=["callback_query"])
    with pytest.raises(UpdateNotAllowed):
        sim.deliver_update(CHAT, "/start")

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    set_webhook(api, f"http://127.0.0.1:{closed_port}/hook", allowed_updates=[])
    with pytest.raises(WebhookUnreachable):
        sim.deliver_update(CHAT, "/start")
    assert sim.deliveries[-1].status is None
    assert webhook_receiver.received == []


def test_set_webhook_without_allowed_updates_keeps_the_previous_ones(sim, api, webhook_receiver) -> None:
    set_webhook(api, webhook_receiver.url, allowed_updates=["message"])
    set_webhook(api, webhook_receiver.url + "?v=2")
    assert sim.webhook is not None
    assert sim.webhook.allowed_updates == ("message",)
    assert sim.webhook.url.endswith("?v=2")


def test_raw_updates_of_other_kinds_reach_the_webhook(sim, api, webhook_receiver) -> None:
    set_webhook(api, webhook_receiver.url)
    edited = {
        "edited_message": {"message_id": 1, "chat": {"id": CHAT, "type": "private"}, "date": 0, "text": "x"}
    }
    assert sim.deliver_raw_update(edited) == 200
    [update] = webhook_receiver.updates
    assert update["edited_message"] == edited["edited_message"]
    assert isinstance(update["update_id"], int)


def test_reset_forgets_everything(sim, api, webhook_receiver) -> None:
    set_webhook(api, webhook_receiver.url)
    sim.deliver_update(CHAT, "/start")
    requests.post(f"{api}/sendMessage", json={"chat_id": CHAT, "text": "hi"}, timeout=5)
    sim.reset()
    assert sim.webhook is None
    assert sim.messages(CHAT) == []
    assert (
        requests.post(f"{api}/sendMessage", json={"chat_id": CHAT, "text": "hi"}, timeout=5).status_code
        == 400
    )
