"""Signing and delivering webhook events exactly the way Stripe does.

Stripe signs ``f"{timestamp}.{raw_body}"`` with HMAC-SHA256 keyed by the endpoint secret and sends
``Stripe-Signature: t=<timestamp>,v1=<hex digest>``; ``stripe.Webhook.construct_event`` verifies
precisely that, so a receiver tested against the simulator needs no test-only code path.

Delivery is synchronous: the event reaches the receiver before the API call (or test helper) that
caused it returns, which keeps tests deterministic.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


def sign_payload(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header value for ``payload``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def serialize_event(event: dict[str, Any]) -> str:
    # Stripe's webhook bodies are pretty-printed JSON; receivers must verify the raw bytes, not a
    # re-serialisation, and the indentation makes a re-serialising receiver fail loudly.
    return json.dumps(event, indent=2)


@dataclass(frozen=True)
class Delivery:
    """One POST of one event to the endpoint, as the receiver answered it."""

    event_id: str
    event_type: str
    url: str
    status: int | None  # HTTP status, None when the connection failed
    error: str | None
    attempted_at: float
    duration_ms: float
    payload: str
    signature: str

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class WebhookDispatcher:
    """Posts events to the configured endpoint and records every attempt."""

    def __init__(self, target: Callable[[], tuple[str | None, str]], *, timeout: float = 10.0) -> None:
        self._target = target  # read at send time: webhook_url/secret may change after construction
        self._timeout = timeout
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []

    @property
    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    def dispatch(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            self.send(event)

    def send(self, event: dict[str, Any]) -> Delivery | None:
        """POST one event now; None when no endpoint is configured (the event is only recorded)."""
        url, secret = self._target()
        if not url:
            return None
        payload = serialize_event(event)
        signature = sign_payload(payload, secret)
        started = time.monotonic()
        attempted_at = time.time()
        status: int | None = None
        error: str | None = None
        try:
            status = _post(url, payload, signature, self._timeout)
        except OSError as exc:  # refused, reset, timeout: the receiver is down or hung
            error = f"{type(exc).__name__}: {exc}"
            logger.warning("webhook %s %s to %s failed: %s", event["id"], event["type"], url, error)
        delivery = Delivery(
            event_id=event["id"],
            event_type=event["type"],
            url=url,
            status=status,
            error=error,
            attempted_at=attempted_at,
            duration_ms=(time.monotonic() - started) * 1000,
            payload=payload,
            signature=signature,
        )
        with self._lock:
            self._deliveries.append(delivery)
        return delivery


def _post(url: str, payload: str, signature: str, timeout: float) -> int:
    # http.client rather than urllib: no proxy environment variables, no redirects followed.
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    body = payload.encode("utf-8")
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": USER_AGENT,
                "Accept": "*/*; q=0.5, application/xml",
                "Cache-Control": "no-cache",
                "Stripe-Signature": signature,
            },
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()
