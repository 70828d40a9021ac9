"""The Cognito user pool authorizer, emulated: what API Gateway checks before a private route runs.

The ID token's RS256 signature is verified against the local pool's JWKS, then the issuer, the audience
(the app client), ``token_use`` = id and the expiry. Any failure is API Gateway's 401 ``Unauthorized``.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from typing import Any

from jose import jwt
from jose.exceptions import JOSEError


class CognitoAuthorizer:
    def __init__(self, jwks_url: str, issuer: str, audience: str) -> None:
        self._jwks_url = jwks_url
        self._issuer = issuer
        self._audience = audience
        self._jwks: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def _keys(self) -> dict[str, Any]:
        with self._lock:
            if self._jwks is None:
                with urllib.request.urlopen(self._jwks_url, timeout=5) as response:  # noqa: S310 - local moto URL
                    self._jwks = json.load(response)
            return self._jwks

    def claims(self, authorization: str | None) -> dict[str, Any] | None:
        """The verified token's claims, or None when API Gateway would answer 401."""
        if not authorization:
            return None
        token = authorization.removeprefix("Bearer ").strip()
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != "RS256":
                return None
            keys = [key for key in self._keys()["keys"] if key.get("kid") == header.get("kid")]
            if not keys:
                return None
            claims = jwt.decode(
                token,
                keys[0],
                algorithms=["RS256"],
                audience=self._audience,
                issuer=self._issuer,
                # python-jose skips the audience check when the token has no "aud"; Cognito's
                # authorizer refuses such a token, so it is required here too.
                options={"require_exp": True, "require_iat": True, "require_aud": True},
            )
        except (JOSEError, ValueError, KeyError):
            return None
        if claims.get("token_use") != "id" or not claims.get("sub"):
            return None
        return claims
