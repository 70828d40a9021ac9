"""Work done once per key, whatever the deliveries: the claim, the work, then done (or released to retry)."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Protocol, TypeVar

from core.observability import logger

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


class Delivery(StrEnum):
    SENT = "SENT"
    UNDELIVERABLE = "UNDELIVERABLE"  # refused for good: done, no retry changes it
    DUPLICATE = "DUPLICATE"  # sent (or being sent) by an earlier delivery


def send_once(
    markers: OnceMarkers,
    key: str,
    lease_seconds: int,
    keep_days: int,
    send: Callable[[], object],
    permanent: Callable[[Exception], bool],
    count: Callable[[str], None],
    what: str,
) -> Delivery:
    """Sends a message once per ``key``. A refusal ``permanent`` names is UNDELIVERABLE (done); any other
    error releases the claim and raises, for the queue to retry. Counted as ``<what>Sent`` and
    ``<what>Undeliverable``."""

    def attempt() -> Delivery:
        try:
            send()
        except Exception as error:
            if not permanent(error):
                raise
            count(f"{what}Undeliverable")
            logger.warning(f"{what.lower()} undeliverable", extra={"error": type(error).__name__})
            return Delivery.UNDELIVERABLE
        count(f"{what}Sent")
        return Delivery.SENT

    return run_once(markers, key, lease_seconds, keep_days, attempt) or Delivery.DUPLICATE
