"""The Telegram adapter (``adapters.telegram.TelegramBot``) against the Telegram simulator over HTTP."""

from __future__ import annotations

import datetime
import logging
import pickle
import socket
import struct
import threading
import traceback
import zlib
from collections.abc import Iterator

import pytest

from adapters.telegram import (
    TelegramBadRequest,
    TelegramBot,
    TelegramBotBlocked,
    TelegramChatNotFound,
    TelegramChatUnavailable,
    TelegramError,
    TelegramNetworkError,
    TelegramPermanentError,
    TelegramRateLimited,
    TelegramRetryableError,
    TelegramServerError,
    TelegramUnauthorized,
    redact,
)
from local.telegram_sim import RunningSimulator, TelegramSimulator, start_simulator

TOKEN = "987654:AAH-client-suite-secret-part_0123456789"
CHAT = 7001


def tiny_png(width: int = 8, height: int = 4) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x20" * (3 * width) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def telegram() -> Iterator[RunningSimulator]:
    running = start_simulator(simulator=TelegramSimulator(TOKEN, "client_suite_bot"))
    yield running
    running.stop()


@pytest.fixture
def sim(telegram: RunningSimulator) -> Iterator[TelegramSimulator]:
    telegram.simulator.reset()
    telegram.simulator.open_chat(CHAT, "trader")
    yield telegram.simulator
    telegram.simulator.reset()


@pytest.fixture
def bot(telegram: RunningSimulator, sim: TelegramSimulator) -> Iterator[TelegramBot]:
    client = TelegramBot(TOKEN, api_base=telegram.url, timeout_seconds=2)
    yield client
    client.close()


def assert_token_hidden(error: BaseException) -> None:
    shown = [str(error), repr(error), *map(str, error.args), "".join(traceback.format_exception(error))]
    for text in shown:
        assert TOKEN not in text
        assert TOKEN.split(":")[1] not in text


def test_get_me_names_the_bot(bot: TelegramBot) -> None:
    me = bot.get_me()
    assert (me.id, me.username, me.is_bot) == (987654, "client_suite_bot", True)


def test_set_webhook_registers_url_secret_and_allowed_updates(
    bot: TelegramBot, sim: TelegramSimulator
) -> None:
    bot.set_webhook("http://127.0.0.1:3000/v1/hook/telegram", "webhook-secret_1", drop_pending_updates=True)
    assert sim.webhook is not None
    assert (sim.webhook.url, sim.webhook.secret_token, sim.webhook.allowed_updates) == (
        "http://127.0.0.1:3000/v1/hook/telegram",
        "webhook-secret_1",
        ("message",),
    )
    info = bot.get_webhook_info()
    assert (info.url, info.allowed_updates, info.pending_update_count) == (
        "http://127.0.0.1:3000/v1/hook/telegram",
        ("message",),
        0,
    )
    bot.delete_webhook()
    assert sim.webhook is None


def test_send_message_returns_the_message_id_and_sends_html(bot: TelegramBot, sim: TelegramSimulator) -> None:
    first = bot.send_message(CHAT, "<b>BTC/USDT</b> take profit filled at 19,500.5 &lt;TP1&gt;")
    second = bot.send_message(CHAT, "تم تنفيذ جني الأرباح", parse_mode=None)
    assert second == first + 1
    assert [item["text"] for item in sim.messages(CHAT)] == [
        "BTC/USDT take profit filled at 19,500.5 <TP1>",
        "تم تنفيذ جني الأرباح",
    ]
    sent = sim.sent_messages(CHAT)[0]
    assert sent["message_id"] == first
    assert sent["entities"] == [{"offset": 0, "length": 8, "type": "bold"}]
    assert sent["link_preview_options"] == {"is_disabled": True}


def test_send_photo_uploads_the_png_with_its_caption(bot: TelegramBot, sim: TelegramSimulator) -> None:
    image = tiny_png(16, 8)
    message_id = bot.send_photo(CHAT, image, caption="<b>Weekly</b> report")
    sent = sim.sent_messages(CHAT)[-1]
    assert sent["message_id"] == message_id
    assert sent["caption"] == "Weekly report"
    assert (sent["photo"][-1]["width"], sent["photo"][-1]["height"]) == (16, 8)
    assert sim.photo_file(sent["photo"][-1]["file_id"]) == image
    assert sim.messages(CHAT)[-1]["photo"] is True
    bot.send_photo(CHAT, image)  # no caption at all
    assert "caption" not in sim.sent_messages(CHAT)[-1]


def test_the_reports_chart_goes_out_as_a_photo(bot: TelegramBot, sim: TelegramSimulator) -> None:
    from functions.notification_reports.chart import render_balance_chart

    start = datetime.date(2026, 11, 23)
    chart = render_balance_chart(
        [(start + datetime.timedelta(days=day), 10_000 + 50 * day) for day in range(7)]
    )
    bot.send_photo(CHAT, chart, caption="10,000 → 10,300")
    photo = sim.sent_messages(CHAT)[-1]["photo"]
    assert (photo[-1]["width"], photo[-1]["height"]) == (800, 400)


def test_a_chat_that_never_wrote_is_not_found_and_permanent(bot: TelegramBot) -> None:
    with pytest.raises(TelegramChatNotFound) as caught:
        bot.send_message(4242, "hello")
    error = caught.value
    assert isinstance(error, TelegramChatUnavailable)
    assert isinstance(error, TelegramPermanentError)
    assert error.retryable is False
    assert (error.error_code, error.description) == (400, "Bad Request: chat not found")
    assert_token_hidden(error)


def test_a_chat_that_blocked_the_bot_is_unavailable(bot: TelegramBot, sim: TelegramSimulator) -> None:
    sim.block_chat(CHAT)
    for send in (lambda: bot.send_message(CHAT, "alert"), lambda: bot.send_photo(CHAT, tiny_png())):
        with pytest.raises(TelegramBotBlocked) as caught:
            send()
        assert isinstance(caught.value, TelegramChatUnavailable)
        assert caught.value.error_code == 403
        assert caught.value.retryable is False


def test_malformed_html_and_empty_text_are_bad_requests(bot: TelegramBot) -> None:
    with pytest.raises(TelegramBadRequest) as caught:
        bot.send_message(CHAT, "PnL <5%")
    assert "can't parse entities" in caught.value.description
    assert not isinstance(caught.value, TelegramChatUnavailable)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        bot.send_message(CHAT, " ")


def test_a_wrong_token_is_unauthorized_and_never_shown(telegram: RunningSimulator) -> None:
    other = "987654:AAH-a-wrong-secret-part-of-the-token"
    with pytest.raises(TelegramUnauthorized) as caught:
        TelegramBot(other, api_base=telegram.url).get_me()
    assert caught.value.error_code == 401
    assert caught.value.retryable is False
    assert other not in str(caught.value)
    assert other not in repr(caught.value)


def test_throttling_is_retryable_after_retry_after(bot: TelegramBot, sim: TelegramSimulator) -> None:
    sim.inject_fault(429, count=1, retry_after=9)
    with pytest.raises(TelegramRateLimited) as caught:
        bot.send_message(CHAT, "alert")
    assert isinstance(caught.value, TelegramRetryableError)
    assert caught.value.retryable is True
    assert caught.value.retry_after == 9
    assert caught.value.error_code == 429
    # No retry inside the client: the next call is the caller's, and it succeeds.
    assert bot.send_message(CHAT, "alert") > 0
    assert [call.status for call in sim.calls("sendMessage")] == [429, 200]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retryable(bot: TelegramBot, sim: TelegramSimulator, status: int) -> None:
    sim.inject_fault(status, count=2)
    for _ in range(2):
        with pytest.raises(TelegramServerError) as caught:
            bot.send_photo(CHAT, tiny_png())
        assert caught.value.error_code == status
        assert caught.value.retryable is True
        assert_token_hidden(caught.value)
    bot.send_photo(CHAT, tiny_png())
    assert len(sim.messages(CHAT)) == 1


def test_a_dropped_connection_is_a_retryable_network_error(bot: TelegramBot, sim: TelegramSimulator) -> None:
    sim.inject_fault(disconnect=True)
    with pytest.raises(TelegramNetworkError) as caught:
        bot.send_message(CHAT, "alert")
    assert caught.value.error_code == 0
    assert caught.value.retryable is True
    assert caught.value.__context__ is None
    assert caught.value.__cause__ is None
    assert_token_hidden(caught.value)


def test_a_refused_connection_never_shows_the_token(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    bot = TelegramBot(TOKEN, api_base=f"http://127.0.0.1:{closed_port}", timeout_seconds=1)
    with caplog.at_level(logging.DEBUG), pytest.raises(TelegramNetworkError) as caught:
        bot.send_message(CHAT, "alert")
    assert "refused" in caught.value.description.lower() or "establish" in caught.value.description.lower()
    assert_token_hidden(caught.value)
    assert TOKEN not in repr(bot)
    assert all(TOKEN not in record.getMessage() for record in caplog.records)


def _silent_server(answer: bytes | None) -> tuple[socket.socket, threading.Event]:
    """Accepts connections and answers ``answer`` raw (None: reads and never answers)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)
                if answer is not None:
                    connection.sendall(answer)
                done.wait(3)

    threading.Thread(target=serve, daemon=True).start()
    return listener, done


def test_a_timeout_is_a_retryable_network_error() -> None:
    listener, done = _silent_server(None)
    try:
        bot = TelegramBot(
            TOKEN, api_base=f"http://127.0.0.1:{listener.getsockname()[1]}", timeout_seconds=0.3
        )
        with pytest.raises(TelegramNetworkError) as caught:
            bot.get_me()
        assert "timed out" in caught.value.description.lower()
        assert_token_hidden(caught.value)
    finally:
        done.set()
        listener.close()


def test_an_answer_that_is_not_the_bot_apis_is_a_server_error() -> None:
    page = b"<html><body>502 Bad Gateway</body></html>"
    answer = b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s" % (
        len(page),
        page,
    )
    listener, done = _silent_server(answer)
    try:
        bot = TelegramBot(TOKEN, api_base=f"http://127.0.0.1:{listener.getsockname()[1]}")
        with pytest.raises(TelegramServerError) as caught:
            bot.send_message(CHAT, "alert")
        assert caught.value.error_code == 502
        assert "html" not in caught.value.description
    finally:
        done.set()
        listener.close()


def test_urllib3_request_logs_never_carry_the_token(
    bot: TelegramBot, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="urllib3"):
        bot.send_message(CHAT, "alert")
    request_lines = [record.getMessage() for record in caplog.records if "sendMessage" in record.getMessage()]
    assert request_lines  # urllib3 did log the request line ...
    assert all(
        TOKEN not in line and "/bot<token>/sendMessage" in line for line in request_lines
    )  # ... redacted


def test_errors_pickle_and_redact_helper() -> None:
    error = TelegramRateLimited(429, "Too Many Requests: retry after 3", retry_after=3)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - bytes this test just made
    assert (type(copy), copy.error_code, copy.retry_after) == (TelegramRateLimited, 429, 3)
    assert isinstance(copy, TelegramError)
    assert redact(f"POST /bot{TOKEN}/sendMessage") == "POST /bot<token>/sendMessage"
    assert TOKEN not in redact(f"token {TOKEN} leaked")


def test_an_empty_token_is_refused_up_front() -> None:
    with pytest.raises(ValueError, match="token is required"):
        TelegramBot("  ")
