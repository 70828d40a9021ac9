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
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, StrictStr
from pydantic_core import PydanticCustomError

from core.config import LOCAL_STAGE, get_settings
from core.errors import FieldError, FieldValidationError

TOKEN_LIFETIME_SECONDS = 24 * 3600
SECRET_CACHE_SECONDS = 300  # a rotated secret is picked up within five minutes, without a deploy
LOCAL_SECRET = "local-pagination-secret"  # noqa: S105 - the local stack's in-process tests only (no ARN configured)
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


def page_token_secret() -> str:
    """The signing key: PAGINATION_SECRET (tests), else the Secrets Manager secret (cached five minutes,
    never logged). Only the local stage may run without either (``Settings`` refuses elsewhere)."""
    settings = get_settings()
    if settings.pagination_secret:
        return settings.pagination_secret
    if settings.pagination_secret_arn:
        from aws_lambda_powertools.utilities import parameters

        return str(parameters.get_secret(settings.pagination_secret_arn, max_age=SECRET_CACHE_SECONDS))
    if settings.stage != LOCAL_STAGE:  # unreachable through get_settings(); kept for direct callers
        raise RuntimeError("PAGINATION_SECRET_ARN is not configured")
    return LOCAL_SECRET


class PageTokenCodec:
    def __init__(
        self, secret: str | Callable[[], str], lifetime_seconds: int = TOKEN_LIFETIME_SECONDS
    ) -> None:
        """``secret`` is the key itself or a function that returns the current key (a rotated secret)."""
        self._secret = secret if callable(secret) else (lambda: secret)
        self._lifetime = lifetime_seconds

    def _signature(self, payload: bytes) -> str:
        key = self._secret().encode("utf-8")
        return _b64encode(hmac.new(key, payload, hashlib.sha256).digest())

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
