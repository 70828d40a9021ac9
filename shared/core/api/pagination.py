"""Opaque, tamper-evident page tokens.

A token is the DynamoDB start key plus the scope it was issued for (the caller and the list), signed with
HMAC-SHA256 and stamped with an expiry. A token that was forged, altered, issued to someone else or for
another list, or has expired is a 422 on ``nextToken``; it never reaches DynamoDB.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Annotated, Any

from pydantic import AfterValidator, StrictStr
from pydantic_core import PydanticCustomError

from core.errors import FieldError, FieldValidationError

TOKEN_LIFETIME_SECONDS = 24 * 3600
# A token is a start key of a few short strings; anything much longer was not issued here.
MAX_TOKEN_LENGTH = 2048
NEXT_PAGE_INVALID = "must be valid next token"


def _bounded(value: str) -> str:
    if len(value) > MAX_TOKEN_LENGTH:
        raise PydanticCustomError("next_token", NEXT_PAGE_INVALID)
    return value


PageToken = Annotated[StrictStr, AfterValidator(_bounded)]
"""The ``nextToken`` query parameter: a bounded string; ``PageTokenCodec.decode`` checks the rest."""


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PageTokenCodec:
    def __init__(self, secret: str, lifetime_seconds: int = TOKEN_LIFETIME_SECONDS) -> None:
        self._secret = secret.encode("utf-8")
        self._lifetime = lifetime_seconds

    def _signature(self, payload: bytes) -> str:
        return _b64encode(hmac.new(self._secret, payload, hashlib.sha256).digest())

    def encode(self, start_key: dict[str, Any] | None, scope: str, now: float | None = None) -> str | None:
        if not start_key:
            return None
        issued = time.time() if now is None else now
        payload = json.dumps(
            {"k": start_key, "s": scope, "e": int(issued) + self._lifetime},
            separators=(",", ":"),
            sort_keys=True,
        ).encode("utf-8")
        return f"{_b64encode(payload)}.{self._signature(payload)}"

    def decode(self, token: str | None, scope: str, now: float | None = None) -> dict[str, Any] | None:
        if token is None:
            return None
        invalid = FieldValidationError(
            FieldError(value=token, msg=NEXT_PAGE_INVALID, param="nextToken", location="query")
        )
        if len(token) > MAX_TOKEN_LENGTH or not token.isascii():
            raise invalid  # (compare_digest refuses non-ASCII text with a TypeError)
        try:
            encoded_payload, signature = token.split(".", 1)
            payload = _b64decode(encoded_payload)
        except (ValueError, TypeError):
            raise invalid from None
        if not hmac.compare_digest(signature.encode("ascii"), self._signature(payload).encode("ascii")):
            raise invalid
        content = json.loads(payload)
        current = time.time() if now is None else now
        start_key = content.get("k")
        if content.get("s") != scope or content.get("e", 0) < current or not isinstance(start_key, dict):
            raise invalid
        return start_key
