"""A stand-in for Google's reCAPTCHA v3 siteverify (``POST /recaptcha/api/siteverify``), for the local stack's
``--recaptcha`` mode and the tests.

It answers as Google does (form fields ``secret``, ``response``, ``remoteip``; JSON ``success``, ``score``,
``action``, ``challenge_ts``, ``hostname``, ``error-codes``), with tokens a developer can write by hand:

- ``local:<score>`` or ``local:<score>:<action>`` (e.g. ``local:0.9:submit``): a valid token with that score
  and action (default action ``submit``);
- anything else: ``success: false`` with ``invalid-input-response``; a wrong site secret gives
  ``invalid-input-secret``, as Google does.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

VERIFY_PATH = "/recaptcha/api/siteverify"


@dataclass
class SiteverifySimulator:
    secret: str
    verified: list[dict[str, str]] = field(default_factory=list)  # the requests it answered, oldest first

    def verdict(self, form: dict[str, str]) -> dict[str, Any]:
        self.verified.append(form)
        if not form.get("secret"):
            return {"success": False, "error-codes": ["missing-input-secret"]}
        if form["secret"] != self.secret:
            return {"success": False, "error-codes": ["invalid-input-secret"]}
        token = form.get("response", "")
        if not token:
            return {"success": False, "error-codes": ["missing-input-response"]}
        parts = token.split(":")
        try:
            if parts[0] != "local" or len(parts) not in (2, 3):
                raise ValueError(token)
            score = float(parts[1])
        except ValueError:
            return {"success": False, "error-codes": ["invalid-input-response"]}
        return {
            "success": True,
            "score": score,
            "action": parts[2] if len(parts) == 3 else "submit",
            "challenge_ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "hostname": "localhost",
        }


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        if urllib.parse.urlsplit(self.path).path != VERIFY_PATH:
            self._answer(404, {"error": "not found"})
            return
        form = {key: values[-1] for key, values in urllib.parse.parse_qs(raw).items()}
        self._answer(200, self.server.simulator.verdict(form))

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], simulator: SiteverifySimulator) -> None:
        super().__init__(address, _Handler)
        self.simulator = simulator


@dataclass
class RunningSiteverify:
    simulator: SiteverifySimulator
    server: _Server

    @property
    def verify_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}{VERIFY_PATH}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_simulator(secret: str, host: str = "127.0.0.1", port: int = 0) -> RunningSiteverify:
    simulator = SiteverifySimulator(secret)
    running = RunningSiteverify(simulator, _Server((host, port), simulator))
    threading.Thread(target=running.server.serve_forever, daemon=True).start()
    return running
