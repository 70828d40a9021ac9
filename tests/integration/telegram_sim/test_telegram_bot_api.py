"""The Telegram simulator's Bot API over HTTP, with plain ``requests``: shapes, encodings, refusals, faults."""

from __future__ import annotations

import json
import re
import struct
import threading
import zlib

import pytest
import requests

from local.telegram_sim import DEFAULT_TOKEN, DEFAULT_USERNAME, TelegramSimulator, start_simulator
from tests.integration.telegram_sim.conftest import USERNAME

CHAT = 1001


def png(width: int, height: int) -> bytes:
    """A valid grey RGB PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * (3 * width) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def opened_chat(sim: TelegramSimulator, chat_id: int = CHAT) -> int:
    """The user has started the bot, so the bot may write to the chat."""
    sim.open_chat(chat_id)
    return chat_id


def test_get_me_answers_the_bot_user_over_get_and_post(api: str) -> None:
    for response in (requests.get(f"{api}/getMe", timeout=5), requests.post(f"{api}/getMe", timeout=5)):
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/json"
        body = response.json()
        assert body["ok"] is True
        assert body["result"] == {
            "id": 4242,
            "is_bot": True,
            "first_name": "Trading API (local)",
            "username": USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }


def test_method_names_are_case_insensitive(api: str) -> None:
    assert requests.get(f"{api}/GETME", timeout=5).json()["ok"] is True


def test_a_wrong_token_is_unauthorized_and_an_unknown_method_not_found(telegram, api: str) -> None:
    wrong = requests.post(f"{telegram.url}/bot4242:not-the-token/getMe", timeout=5)
    assert wrong.status_code == 401
    assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    unknown = requests.post(f"{api}/sendSticker", timeout=5)
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert requests.get(f"{telegram.url}/getMe", timeout=5).status_code == 404


def test_a_chat_that_never_wrote_to_the_bot_is_not_found(api: str) -> None:
    response = requests.post(f"{api}/sendMessage", json={"chat_id": CHAT, "text": "hello"}, timeout=5)
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
    by_name = requests.post(f"{api}/sendMessage", json={"chat_id": "@alice", "text": "hello"}, timeout=5)
    assert by_name.json()["description"] == "Bad Request: chat not found"


def test_send_message_answers_a_message_and_records_what_the_user_reads(sim, api: str) -> None:
    opened_chat(sim)
    response = requests.post(
        f"{api}/sendMessage",
        json={
            "chat_id": CHAT,
            "text": "<b>BTC/USDT</b> take profit &amp; more 📈 <a href='https://example.com/t'>trade</a>\n",
            "parse_mode": "HTML",
            "disable_web_page_preview": True,
        },
        timeout=5,
    )
    assert response.status_code == 200
    message = response.json()["result"]
    assert message["text"] == "BTC/USDT take profit & more 📈 trade"
    assert message["entities"] == [
        {"offset": 0, "length": 8, "type": "bold"},
        # The emoji counts two UTF-16 code units, as in Telegram's offsets.
        {"offset": 31, "length": 5, "type": "text_link", "url": "https://example.com/t"},
    ]
    assert message["chat"] == {"id": CHAT, "first_name": f"User {CHAT}", "type": "private"}
    assert message["from"] == {
        "id": 4242,
        "is_bot": True,
        "first_name": "Trading API (local)",
        "username": USERNAME,
    }
    assert message["link_preview_options"] == {"is_disabled": True}
    assert isinstance(message["date"], int)
    [recorded] = sim.messages(CHAT)
    assert recorded == {
        "chatId": CHAT,
        "text": "BTC/USDT take profit & more 📈 trade",
        "photo": False,
        "date": recorded["date"],
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", recorded["date"])
    assert sim.messages(2002) == []


def test_parameters_arrive_as_json_form_or_query_string(sim, api: str) -> None:
    opened_chat(sim)
    as_form = requests.post(f"{api}/sendMessage", data={"chat_id": str(CHAT), "text": "form"}, timeout=5)
    as_query = requests.get(f"{api}/sendMessage", params={"chat_id": CHAT, "text": "query"}, timeout=5)
    as_json = requests.post(f"{api}/sendMessage", json={"chat_id": str(CHAT), "text": "json"}, timeout=5)
    ids = [answer.json()["result"]["message_id"] for answer in (as_form, as_query, as_json)]
    assert ids == [1, 2, 3]  # message ids count per chat
    assert [item["text"] for item in sim.messages(CHAT)] == ["form", "query", "json"]


def test_an_empty_text_is_refused(sim, api: str) -> None:
    opened_chat(sim)
    for params in (
        {"chat_id": CHAT},
        {"chat_id": CHAT, "text": "  \n"},
        {"chat_id": CHAT, "text": "<b> </b>", "parse_mode": "HTML"},
    ):
        response = requests.post(f"{api}/sendMessage", json=params, timeout=5)
        assert response.status_code == 400
        assert response.json()["description"] == "Bad Request: message text is empty"
    missing_chat = requests.post(f"{api}/sendMessage", json={"text": "hi"}, timeout=5)
    assert missing_chat.json()["description"] == "Bad Request: chat_id is empty"
    assert sim.messages(CHAT) == []


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("profit < loss", 'Bad Request: can\'t parse entities: Unsupported start tag "" at byte offset 7'),
        ("PnL <5%", "Bad Request: can't parse entities: Unclosed start tag at byte offset 4"),
        ("<br/>", 'Bad Request: can\'t parse entities: Unsupported start tag "br/" at byte offset 0'),
        (
            "<blink>x</blink>",
            'Bad Request: can\'t parse entities: Unsupported start tag "blink" at byte offset 0',
        ),
        (
            "<b>x</i>",
            'Bad Request: can\'t parse entities: Unmatched end tag at byte offset 4, expected "</b>", found "</i>"',
        ),
        ("<b>x", "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""),
        ("x</b>", "Bad Request: can't parse entities: Unexpected end tag at byte offset 1"),
    ],
)
def test_malformed_html_is_refused_as_telegram_refuses_it(sim, api: str, text: str, description: str) -> None:
    opened_chat(sim)
    response = requests.post(
        f"{api}/sendMessage", json={"chat_id": CHAT, "text": text, "parse_mode": "HTML"}, timeout=5
    )
    assert response.status_code == 400
    assert response.json()["description"] == description
    # Without parse_mode the same text is plain text.
    plain = requests.post(f"{api}/sendMessage", json={"chat_id": CHAT, "text": text}, timeout=5)
    assert plain.json()["result"]["text"] == text


def test_an_unknown_parse_mode_and_an_overlong_text_are_refused(sim, api: str) -> None:
    opened_chat(sim)
    mode = requests.post(
        f"{api}/sendMessage", json={"chat_id": CHAT, "text": "x", "parse_mode": "BBCode"}, timeout=5
    )
    assert mode.json()["description"] == "Bad Request: unsupported parse_mode"
    long = requests.post(f"{api}/sendMessage", json={"chat_id": CHAT, "text": "x" * 4097}, timeout=5)
    assert long.json()["description"] == "Bad Request: message is too long"
    assert requests.post(f"{api}/sendMessage", json={"chat_id": CHAT, "text": "x" * 4096}, timeout=5).ok


def test_a_chat_that_blocked_the_bot_is_forbidden_until_its_user_writes_again(
    sim, webhook_receiver, api: str
) -> None:
    sim.block_chat(CHAT)
    response = requests.post(f"{api}/sendMessage", json={"chat_id": CHAT, "text": "alert"}, timeout=5)
    assert response.status_code == 403
    assert response.json() == {
        "ok": False,
        "error_code": 403,
        "description": "Forbidden: bot was blocked by the user",
    }
    photo = requests.post(
        f"{api}/sendPhoto", data={"chat_id": CHAT}, files={"photo": ("c.png", png(10, 10))}, timeout=5
    )
    assert photo.status_code == 403

    requests.post(f"{api}/setWebhook", json={"url": webhook_receiver.url}, timeout=5)
    assert sim.deliver_update(CHAT, "/start") == 200
    assert requests.post(f"{api}/sendMessage", json={"chat_id": CHAT, "text": "alert"}, timeout=5).ok


def test_send_photo_uploads_a_file_and_answers_its_photo_sizes(sim, api: str) -> None:
    opened_chat(sim)
    image = png(800, 400)
    response = requests.post(
        f"{api}/sendPhoto",
        data={"chat_id": CHAT, "caption": "Weekly <b>report</b>", "parse_mode": "HTML"},
        files={"photo": ("chart.png", image, "image/png")},
        timeout=5,
    )
    assert response.status_code == 200
    message = response.json()["result"]
    assert [(size["width"], size["height"]) for size in message["photo"]] == [
        (90, 45),
        (320, 160),
        (800, 400),
    ]
    assert message["photo"][-1]["file_size"] == len(image)
    assert {"file_id", "file_unique_id", "file_size", "width", "height"} == set(message["photo"][0])
    assert message["caption"] == "Weekly report"
    assert message["caption_entities"] == [{"offset": 7, "length": 6, "type": "bold"}]
    assert "text" not in message
    assert sim.photo_file(message["photo"][-1]["file_id"]) == image
    assert sim.messages(CHAT) == [
        {"chatId": CHAT, "text": "Weekly report", "photo": True, "date": sim.messages(CHAT)[0]["date"]}
    ]

    # The same photo again by its file_id, without a caption: same sizes, empty text.
    again = requests.post(
        f"{api}/sendPhoto", json={"chat_id": CHAT, "photo": message["photo"][-1]["file_id"]}, timeout=5
    )
    assert again.json()["result"]["photo"] == message["photo"]
    assert sim.messages(CHAT)[-1]["text"] == ""


def test_send_photo_refuses_a_missing_or_unreadable_photo(sim, api: str) -> None:
    opened_chat(sim)
    missing = requests.post(f"{api}/sendPhoto", data={"chat_id": CHAT}, timeout=5)
    assert missing.json()["description"] == "Bad Request: there is no photo in the request"
    not_an_image = requests.post(
        f"{api}/sendPhoto", data={"chat_id": CHAT}, files={"photo": ("a.png", b"plain text")}, timeout=5
    )
    assert not_an_image.json()["description"] == "Bad Request: IMAGE_PROCESS_FAILED"
    unknown_id = requests.post(f"{api}/sendPhoto", json={"chat_id": CHAT, "photo": "AgACAgnope"}, timeout=5)
    assert unknown_id.json()["description"] == "Bad Request: wrong file identifier/HTTP URL specified"
    long_caption = requests.post(
        f"{api}/sendPhoto",
        data={"chat_id": CHAT, "caption": "x" * 1025},
        files={"photo": ("a.png", png(4, 4))},
        timeout=5,
    )
    assert long_caption.json()["description"] == "Bad Request: message caption is too long"
    assert sim.messages(CHAT) == []


def test_webhook_is_set_read_and_deleted(sim, api: str) -> None:
    info = requests.get(f"{api}/getWebhookInfo", timeout=5).json()
    assert info == {
        "ok": True,
        "result": {"url": "", "has_custom_certificate": False, "pending_update_count": 0},
    }
    answer = requests.post(
        f"{api}/setWebhook",
        data={
            "url": "http://127.0.0.1:3000/v1/hook/telegram",
            "secret_token": "s3cret_-token",
            "allowed_updates": json.dumps(["message"]),
            "drop_pending_updates": "true",
        },
        timeout=5,
    ).json()
    assert answer == {"ok": True, "result": True, "description": "Webhook was set"}
    assert sim.webhook is not None
    assert (sim.webhook.url, sim.webhook.secret, sim.webhook.allowed_updates) == (
        "http://127.0.0.1:3000/v1/hook/telegram",
        "s3cret_-token",
        ("message",),
    )
    info = requests.get(f"{api}/getWebhookInfo", timeout=5).json()["result"]
    assert info["url"] == "http://127.0.0.1:3000/v1/hook/telegram"
    assert info["allowed_updates"] == ["message"]
    assert info["max_connections"] == 40
    deleted = requests.post(f"{api}/deleteWebhook", timeout=5).json()
    assert deleted == {"ok": True, "result": True, "description": "Webhook was deleted"}
    assert sim.webhook is None
    assert (
        requests.post(f"{api}/deleteWebhook", timeout=5).json()["description"] == "Webhook is already deleted"
    )


def test_set_webhook_refuses_a_bad_url_or_secret(api: str) -> None:
    bad_url = requests.post(f"{api}/setWebhook", json={"url": "ftp://example.com/hook"}, timeout=5).json()
    assert bad_url["description"] == "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
    bad_secret = requests.post(
        f"{api}/setWebhook", json={"url": "http://127.0.0.1/hook", "secret_token": "no spaces!"}, timeout=5
    ).json()
    assert bad_secret["error_code"] == 400


def test_injected_faults_fail_the_next_sends_then_clear(sim, api: str) -> None:
    opened_chat(sim)
    sim.inject_fault(500, count=2)
    statuses = [
        requests.post(f"{api}/sendMessage", json={"chat_id": CHAT, "text": "x"}, timeout=5) for _ in range(3)
    ]
    assert [answer.status_code for answer in statuses] == [500, 500, 200]
    assert statuses[0].json() == {"ok": False, "error_code": 500, "description": "Internal Server Error"}
    assert len(sim.messages(CHAT)) == 1  # a failed send sent nothing
    assert [call.status for call in sim.calls("sendMessage")] == [500, 500, 200]

    sim.inject_fault(429, retry_after=7)
    assert requests.get(f"{api}/getMe", timeout=5).ok  # only the send methods fail
    throttled = requests.post(
        f"{api}/sendPhoto", data={"chat_id": CHAT}, files={"photo": ("a.png", png(4, 4))}, timeout=5
    )
    assert throttled.status_code == 429
    assert throttled.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }

    sim.inject_fault(disconnect=True)
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{api}/sendMessage", json={"chat_id": CHAT, "text": "x"}, timeout=5)
    sim.inject_fault(503, count=5)
    sim.clear_faults()
    assert requests.post(f"{api}/sendMessage", json={"chat_id": CHAT, "text": "x"}, timeout=5).ok


def test_concurrent_sends_get_distinct_message_ids(sim, api: str) -> None:
    opened_chat(sim)
    ids: list[int] = []
    lock = threading.Lock()

    def send(worker: int) -> None:
        with requests.Session() as session:
            for number in range(10):
                answer = session.post(
                    f"{api}/sendMessage", json={"chat_id": CHAT, "text": f"{worker}-{number}"}, timeout=5
                )
                with lock:
                    ids.append(answer.json()["result"]["message_id"])

    threads = [threading.Thread(target=send, args=(worker,)) for worker in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(ids) == list(range(1, 61))
    assert len(sim.messages(CHAT)) == 60


def test_port_zero_picks_a_free_port_and_stop_frees_it() -> None:
    first, second = start_simulator(), start_simulator()
    try:
        assert first.url != second.url
        assert (first.simulator.token, first.simulator.username) == (DEFAULT_TOKEN, DEFAULT_USERNAME)
        me = requests.get(f"{first.url}/bot{DEFAULT_TOKEN}/getMe", timeout=5).json()["result"]
        assert me["username"] == DEFAULT_USERNAME
    finally:
        first.stop()
        second.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{first.url}/bot{DEFAULT_TOKEN}/getMe", timeout=2)
