"""Every request the simulator received, as Binance's own access log would show it.

Benchmarks count exchange round trips here, not by counting the project's own calls: what reaches the
exchange is what costs latency and weight. ``GET /_sim/requests`` on the simulator's port answers the log
(``{"requests": [{"method", "path", "status"}]}``, oldest first) and ``DELETE /_sim/requests`` empties it,
so a test can read it across processes (the local stack's simulator). ``/_sim`` is not a Binance path.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

CONTROL_PATH = "/_sim/requests"
MAX_KEPT = 100_000  # a long benchmark must not grow without bound


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    status: int

    def to_json(self) -> dict[str, object]:
        return {"method": self.method, "path": self.path, "status": self.status}


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LoggedRequest] = []

    def add(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self._entries.append(LoggedRequest(method, path, status))
            if len(self._entries) > MAX_KEPT:
                del self._entries[: len(self._entries) - MAX_KEPT]

    def entries(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
