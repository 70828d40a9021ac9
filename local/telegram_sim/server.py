"""HTTP front end: ``/bot<token>/<method>`` over GET or POST, answered as api.telegram.org answers.

HTTP/1.1 keep-alive with Content-Length and TCP_NODELAY (headers and body leave in separate writes;
without it Nagle's algorithm and the client's delayed ACK add ~40 ms to every request), one daemon
thread per connection, so a webhook that calls the API back while an Update is being delivered is
served at once.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

from local.telegram_sim import errors
from local.telegram_sim.params import parse_request
from local.telegram_sim.simulator import Answer, TelegramSimulator

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 50 * 1024 * 1024  # Telegram's limit for a multipart upload
_API_PATH = re.compile(r"^/bot([^/]*)/([^/]*)$")
_CONNECTION_ERRORS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


class _SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a hung keep-alive client must not keep the process alive
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], simulator: TelegramSimulator) -> None:
        super().__init__(address, _Handler)
        self.simulator = simulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up and closed its socket is part of the scenarios, not a server error.
        if isinstance(sys.exc_info()[1], _CONNECTION_ERRORS):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _SimulatorHTTPServer
    protocol_version = "HTTP/1.1"
    # No Nagle delay: headers and body are written separately, and on a keep-alive connection the
    # second write would otherwise wait for the client's delayed ACK (~40 ms a request).
    disable_nagle_algorithm = True
    server_version = "nginx/1.18.0"  # what api.telegram.org answers with
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        return  # the request line holds the bot token

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            self._send(Answer(413, errors.BotApiError(413, "Request Entity Too Large").to_body()))
            return
        # Always read the body, so the keep-alive connection stays in step even on errors.
        body = self.rfile.read(length) if length else b""
        match = _API_PATH.match(url.path)
        if match is None:
            self._send(Answer(404, errors.not_found().to_body()))
            return
        token, method = unquote(match.group(1)), match.group(2)
        content_type = self.headers.get("Content-Type") or ""
        try:
            answer = self.server.simulator.handle(
                token, method, lambda: parse_request(url.query, content_type, body)
            )
        except Exception:
            logger.exception("telegram simulator failed on %s", method)
            answer = Answer(500, errors.server_error(500).to_body())
        if answer.disconnect:
            self.close_connection = True
            return
        self._send(answer)

    def _send(self, answer: Answer) -> None:
        payload = json.dumps(answer.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except _CONNECTION_ERRORS:
            self.close_connection = True


class RunningSimulator:
    """A simulator served on ``url`` from a daemon thread; ``stop()`` (or ``with``) shuts it down.

    ``url`` is the Bot API base: a client calls ``f"{url}/bot{token}/sendMessage"``.
    """

    def __init__(self, simulator: TelegramSimulator, server: _SimulatorHTTPServer) -> None:
        self.simulator = simulator
        self._server = server
        host, port = server.server_address[:2]
        assert isinstance(host, str)  # an AF_INET server's address
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},  # a short poll keeps stop(), and so each test's teardown, fast
            name=f"telegram-sim:{port}",
            daemon=True,
        )
        self._thread.start()
        logger.info("Telegram simulator listening on %s (bot @%s)", self.url, simulator.username)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_simulator(
    host: str = "127.0.0.1", port: int = 0, simulator: TelegramSimulator | None = None
) -> RunningSimulator:
    """Serve ``simulator`` (a fresh one with the default bot by default) on ``host:port``; 0 picks a free port."""
    simulator = simulator or TelegramSimulator()
    return RunningSimulator(simulator, _SimulatorHTTPServer((host, port), simulator))
