"""Fixtures: a running Telegram simulator and a webhook receiver standing in for the bot's webhook route."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from local.telegram_sim import RunningSimulator, TelegramSimulator, start_simulator

TOKEN = "4242:simulator-suite-token"
USERNAME = "suite_bot"


@dataclass
class ReceivedUpdate:
    headers: dict[str, str]
    raw_body: bytes

    @property
    def update(self) -> dict[str, Any]:
        return json.loads(self.raw_body)


@dataclass
class WebhookReceiver:
    """A webhook endpoint: records every POST and answers ``answer_status`` (after ``on_update``, if set)."""

    url: str = ""
    answer_status: int = 200
    on_update: Callable[[dict[str, Any]], None] | None = None
    received: list[ReceivedUpdate] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def updates(self) -> list[dict[str, Any]]:
        with self.lock:
            return [item.update for item in self.received]


def _handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with receiver.lock:
                receiver.received.append(ReceivedUpdate(dict(self.headers.items()), raw))
            if receiver.on_update is not None:
                receiver.on_update(json.loads(raw))
            self.send_response(receiver.answer_status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/v1/hook/telegram"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def telegram() -> Iterator[RunningSimulator]:
    running = start_simulator(simulator=TelegramSimulator(TOKEN, USERNAME, webhook_timeout_seconds=5))
    yield running
    running.stop()


@pytest.fixture
def sim(telegram: RunningSimulator) -> TelegramSimulator:
    return telegram.simulator


@pytest.fixture
def api(telegram: RunningSimulator) -> str:
    """The Bot API base of the suite's bot: ``f"{api}/sendMessage"``."""
    return f"{telegram.url}/bot{TOKEN}"
