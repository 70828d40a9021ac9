"""The container's boto3 clients: one per service, built on first use, one at a time.

boto3's default session is not safe to build clients from on several threads at once (its credential and
endpoint resolvers are set up lazily), and this code does build them from threads: the fan-out's and the
snapshot worker's records run concurrently, and so do the SQS sender's batches. Clients themselves are
safe to share once built, so each service's is built once and shared by every module of the container;
``reset()`` forgets them (a changed environment, in tests and the local stack).
"""

from __future__ import annotations

import threading
from typing import Any

_building = threading.Lock()
_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    """The container's client of ``service``."""
    built = _clients.get(service)
    if built is not None:
        return built
    import boto3

    with _building:
        built = _clients.get(service)
        if built is None:
            built = _clients[service] = boto3.client(service)
        return built


def reset() -> None:
    with _building:
        _clients.clear()
