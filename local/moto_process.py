"""moto in a process of its own, for the local stack.

The stack's own process runs the gateway, the Binance, Stripe and Telegram simulators and the queue pollers;
with moto beside them, one interpreter lock served every AWS call of every function as well, and a
1,000-follower fan-out waited on it with the machine's other core idle. Here moto answers from its own
process, with the same fidelity fixes (``local.aws``), and the stack reads back what only moto's memory
holds (the emails SES sent) through one extra route of the same server, ``GET /_local/ses/sent``.

    python -m local.moto_process HOST PORT     # prints {"url": ...} once listening; stops when stdin closes
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from local.template import PROJECT_ROOT

SENT_EMAILS_PATH = "/_local/ses/sent"


def _with_sent_emails(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """moto's WSGI application, plus the route that lists what SES sent (``local.mailbox``)."""
    from local.mailbox import sent_messages

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == SENT_EMAILS_PATH:
            body = json.dumps(sent_messages()).encode()
            start_response(
                "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            )
            return [body]
        return app(environ, start_response)

    return application


def serve(host: str, port: int) -> None:
    from moto.moto_server.threaded_moto_server import MotoRequestHandler
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    from local.aws import moto_as_aws

    # Ctrl-C in the terminal reaches this process too: the stack stops it (closing our stdin) once it has
    # stopped what talks to it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    moto_as_aws()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = _with_sent_emails(DomainDispatcherApplication(create_backend_app))
    server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    bound_host, bound_port = str(server.server_address[0]), int(server.server_address[1])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"url": f"http://{bound_host}:{bound_port}"}), flush=True)
    os.dup2(2, 1)  # the stack reads one line only: anything moto prints later goes to stderr, not a full pipe
    sys.stdin.read()  # the stack closes our stdin (or dies): stop
    server.shutdown()


class MotoProcess:
    """The running moto process: its URL, and ``stop()``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._process = subprocess.Popen(  # noqa: S603 - this interpreter, this module
            [sys.executable, "-m", "local.moto_process", host, str(port)],
            cwd=PROJECT_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            self._process.wait(timeout=10)
            raise RuntimeError(f"moto did not start (exit code {self._process.returncode})")
        self.url: str = json.loads(line)["url"]

    def stop(self) -> None:
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        if self._process.poll() is None:
            self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process.stdout.close()


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
