"""Work done once per key, whatever the deliveries: the claim, the work, then done (or released to retry)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

T = TypeVar("T")


class OnceMarkers(Protocol):
    def claim_once(self, key: str, lease_seconds: int, keep_days: int) -> bool: ...

    def complete_once(self, key: str) -> None: ...

    def release_once(self, key: str) -> None: ...


def run_once(
    markers: OnceMarkers, key: str, lease_seconds: int, keep_days: int, work: Callable[[], T]
) -> T | None:
    """``work()``'s result, or None when ``key`` was done already (or is being done, within its lease). Work
    that raises releases its claim, so the caller's retry may do it again; work that returns marks it done."""
    if not markers.claim_once(key, lease_seconds, keep_days):
        return None
    try:
        result = work()
    except Exception:
        markers.release_once(key)
        raise
    markers.complete_once(key)
    return result
