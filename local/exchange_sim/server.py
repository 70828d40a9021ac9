"""HTTP transport: a threading HTTP/1.1 server that feeds requests through faults into the API.

HTTP/1.1 with Content-Length keeps ccxt's ``requests`` session on one connection per thread, which
keeps a test run fast. Every request is handled in its own daemon thread, so a request that hangs
on an injected timeout never blocks the others (or the interpreter's exit).
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from local.exchange_sim import errors
from local.exchange_sim.api import ApiRequest, BinanceApi
from local.exchange_sim.faults import FaultInjector
from local.exchange_sim.request_log import CONTROL_PATH, RequestLog
from local.exchange_sim.simulator import BinanceSimulator
from local.exchange_sim.weights import WeightCounter, WeightDecision

_CONNECTION_ERRORS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


class _SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # a burst of new connections (a fan-out's workers) waits, not refused

    def __init__(
        self,
        address: tuple[str, int],
        api: BinanceApi,
        faults: FaultInjector,
        weights: WeightCounter,
        requests: RequestLog,
    ) -> None:
        super().__init__(address, _Handler)
        self.api = api
        self.faults = faults
        self.weights = weights
        self.requests = requests

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and closed its socket is part of the scenarios, not a server error.
        if isinstance(sys.exc_info()[1], _CONNECTION_ERRORS):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # No Nagle delay: headers and body leave in separate writes, and on a keep-alive connection the second
    # would otherwise wait for the client's delayed ACK (~40 ms a request).
    disable_nagle_algorithm = True
    server: _SimulatorHTTPServer
    server_version = "BinanceSimulator/1.0"

    def setup(self) -> None:
        super().setup()
        self._weight_headers: dict[str, str] = {}
        self._unlogged: tuple[str, str] | None = None

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _serve(self, method: str) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        headers = {key.upper(): value for key, value in self.headers.items()}
        if split.path == CONTROL_PATH:
            self._request_log(method)
            return
        request = ApiRequest(method, split.path, split.query, body, headers)
        # Logged by ``_send`` before the answer leaves (a client that reads the log right after its
        # answer must find its request there); an injected hang is logged with status 0.
        self._unlogged = (method, split.path)
        try:
            self._serve_api(method, split.path, request, headers)
        finally:
            self._log_request(0)

    def _log_request(self, status: int) -> None:
        unlogged, self._unlogged = self._unlogged, None
        if unlogged is not None:
            method, path = unlogged
            self.server.requests.add(method, path, status)

    def _request_log(self, method: str) -> None:
        if method == "DELETE":
            self.server.requests.clear()
            self._send(200, {"requests": []})
        else:
            self._send(200, {"requests": [entry.to_json() for entry in self.server.requests.entries()]})

    def _serve_api(self, method: str, path: str, request: ApiRequest, headers: dict[str, str]) -> None:
        ip = self._caller_ip(headers)
        weight = self.server.weights.add(ip, method, path, request.params())
        self._weight_headers = weight.headers()
        if weight.refused:
            self._send(*self._throttled(ip, weight), {"Retry-After": str(weight.retry_after_s)})
            return
        decision = self.server.faults.decide(f"{method} {path}", request.params().get("type"))
        decision.wait(decision.latency_s)
        if decision.hang and not decision.after_accept:
            decision.hang_now()
            self.close_connection = True  # no answer at all: the request was never processed
            return
        if decision.error and not decision.after_accept:
            self._send(decision.status, decision.body, decision.headers)
            return
        response = self.server.api.handle(request)
        if decision.hang:
            # "Accepted, but the answer was lost": the order exists, the client only sees a timeout.
            decision.hang_now()
            self.close_connection = True
            return
        if decision.error:
            # Accepted, yet answered with an error: Binance's "5xx means execution status unknown".
            self._send(decision.status, decision.body, decision.headers)
            return
        self._send(response.status, response.body)

    def _caller_ip(self, headers: dict[str, str]) -> str:
        """The first X-Forwarded-For address if any (tests simulate several egress IPs), else the peer."""
        forwarded = headers.get("X-FORWARDED-FOR", "").split(",")[0].strip()
        return forwarded or str(self.client_address[0])

    @staticmethod
    def _throttled(ip: str, weight: WeightDecision) -> tuple[int, Any]:
        if weight.family == "spot":
            error = errors.spot_too_much_weight(weight.limit)
        else:
            error = errors.futures_too_many_requests(ip, weight.limit)
        return error.http_status, error.to_body()

    def _send(self, status: int, body: Any, extra_headers: dict[str, str] | None = None) -> None:
        if isinstance(body, str):
            payload, content_type = body.encode("utf-8"), "text/html; charset=utf-8"
        else:
            payload = json.dumps(body, separators=(",", ":")).encode("utf-8")
            content_type = "application/json;charset=UTF-8"
        self._log_request(status)
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in {**getattr(self, "_weight_headers", {}), **(extra_headers or {})}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except _CONNECTION_ERRORS:
            self.close_connection = True


class RunningSimulator:
    """A simulator served on ``url`` from a daemon thread; ``stop()`` (or ``with``) shuts it down."""

    def __init__(self, simulator: BinanceSimulator, server: _SimulatorHTTPServer) -> None:
        self.simulator = simulator
        self._server = server
        host, port = server.server_address[:2]
        assert isinstance(host, str)  # an AF_INET server's address
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"binance-sim:{port}",
            daemon=True,
        )
        self._thread.start()

    def used_weight(self, ip: str = "127.0.0.1", api: str = "futures") -> int:
        """The request weight ``ip`` used in the last minute on ``api`` (see ``BinanceSimulator``)."""
        return self.simulator.used_weight(ip, api)

    def stop(self) -> None:
        self.simulator.faults.release_all()  # wake requests hanging on an injected timeout
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
    host: str = "127.0.0.1", port: int = 0, simulator: BinanceSimulator | None = None
) -> RunningSimulator:
    """Serve ``simulator`` (a fresh one by default) on ``host:port`` (0 picks a free port)."""
    simulator = simulator or BinanceSimulator()
    server = _SimulatorHTTPServer(
        (host, port), BinanceApi(simulator.engine), simulator.faults, simulator.weights, simulator.requests
    )
    return RunningSimulator(simulator, server)
