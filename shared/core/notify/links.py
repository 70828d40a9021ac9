"""Signed one-click unsubscribe links (RFC 8058): a link turns one setting of one user off, without signing in.

The token is ``<payload>.<signature>``: the payload names the user and the setting (base64url JSON), the
signature is an HMAC-SHA256 of it under the stage's link secret (Secrets Manager). A token cannot be
forged or moved to another user or setting; it does not expire (an unsubscribe link in an old email must
still work), and using it twice changes nothing more.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import quote

UNSUBSCRIBE_PATH = "/v1/pub/notification/unsubscribe"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class UnsubscribeLinks:
    def __init__(self, secret: str, api_url: str) -> None:
        self._key = secret.encode()
        self._api_url = api_url.rstrip("/")

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def token(self, user_id: str, setting: str) -> str:
        payload = _b64(json.dumps([user_id, setting], separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}"

    def url(self, user_id: str, setting: str) -> str:
        return f"{self._api_url}{UNSUBSCRIBE_PATH}?token={quote(self.token(user_id, setting))}"

    def verify(self, token: object) -> tuple[str, str] | None:
        """(user id, setting) of a genuine token; None for anything else."""
        if not isinstance(token, str) or token.count(".") != 1 or len(token) > 512:
            return None
        payload, signature = token.split(".")
        # Bytes: compare_digest refuses str with non-ASCII characters, and a link is anyone's input.
        if not hmac.compare_digest(self._sign(payload).encode(), signature.encode("utf-8", "replace")):
            return None
        try:
            user_id, setting = json.loads(_unb64(payload))
        except (ValueError, TypeError):
            return None
        if not isinstance(user_id, str) or not isinstance(setting, str):
            return None
        return user_id, setting


def unsubscribe_headers(url: str) -> dict[str, str]:
    """The headers of RFC 8058's one-click unsubscribe, for an email whose link is ``url``."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
