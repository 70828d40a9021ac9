"""End-to-end tier: the local stack (`python -m local run`) started once, driven over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

PROJECT_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 60


@dataclass
class RunningStack:
    url: str
    process: subprocess.Popen[str]
    output: list[str]
    state_file: Path

    def token(self, email: str, plan: str | None = None) -> tuple[str, str]:
        body = {"email": email, **({"plan": plan} if plan else {})}
        answer = requests.post(f"{self.url}/_local/token", json=body, timeout=30)
        answer.raise_for_status()
        return answer.json()["idToken"], answer.json()["sub"]

    def request(
        self, method: str, path: str, token: str | None = None, headers: dict | None = None, **kwargs
    ) -> requests.Response:
        return requests.request(
            method, f"{self.url}{path}", headers={**_auth(token), **(headers or {})}, timeout=30, **kwargs
        )

    def get(self, path: str, token: str | None = None, **kwargs) -> requests.Response:
        return self.request("GET", path, token, **kwargs)

    def put(self, path: str, token: str | None = None, **kwargs) -> requests.Response:
        return self.request("PUT", path, token, **kwargs)

    def post(self, path: str, token: str | None = None, **kwargs) -> requests.Response:
        return self.request("POST", path, token, **kwargs)

    def delete(self, path: str, token: str | None = None, **kwargs) -> requests.Response:
        return self.request("DELETE", path, token, **kwargs)


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": token} if token else {}


def start_stack(tmp_path: Path) -> RunningStack:
    state_file = tmp_path / "stack.json"
    environment = {**os.environ, "PORT": "0", "LOCAL_STATE_FILE": str(state_file), "PYTHONUNBUFFERED": "1"}
    environment.pop("AWS_ENDPOINT_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "local", "run"],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    ready = threading.Event()
    url: list[str] = []

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if line.startswith("API ready at "):
                url.append(line.removeprefix("API ready at ").strip())
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(START_TIMEOUT_SECONDS):
        process.kill()
        raise RuntimeError("local stack did not start:\n" + "".join(output[-50:]))
    return RunningStack(url=url[0], process=process, output=output, state_file=state_file)


def stop_stack(stack: RunningStack) -> int:
    stack.process.send_signal(signal.SIGTERM)
    try:
        return stack.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        raise


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("local-stack"))
    yield running
    stop_stack(running)
