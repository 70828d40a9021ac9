"""Making boto3 clients: one at a time in a container.

boto3's default session is not safe to build clients from on several threads at once (its credential and
endpoint resolvers are set up lazily), and this code does build them from threads: the fan-out's and the
snapshot worker's records run concurrently, and so do the SQS sender's batches. Clients themselves are
safe to share once built; each module keeps its own for the container.
"""

from __future__ import annotations

import threading
from typing import Any

_building = threading.Lock()


def new_client(service: str) -> Any:
    import boto3

    with _building:
        return boto3.client(service)
