"""Posting an Update to the bot's webhook the way Telegram does: JSON, the secret token header, no redirects."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def post_update(url: str, secret_token: str | None, body: bytes, timeout_seconds: float) -> tuple[int, str]:
    """The webhook's HTTP status and reason phrase; ``OSError`` when it cannot be reached."""
    # http.client rather than urllib: no proxy variables honoured, no redirect followed (Telegram follows none).
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname or "127.0.0.1", parts.port, timeout=timeout_seconds)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    if secret_token:
        headers[SECRET_HEADER] = secret_token
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, response.reason
    finally:
        connection.close()
