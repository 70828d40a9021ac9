"""The Cognito authorizer on private routes: only a valid ID token of this pool and client gets through."""

from __future__ import annotations

import base64
import json
import time

import pytest
from jose import jwt
from moto.utilities.utils import load_resource

PRIVATE_ROUTE = "/v1/priv/account/profile"
UNAUTHORIZED = {"message": "Unauthorized"}


def _segments(token: str) -> tuple[dict, dict]:
    return jwt.get_unverified_header(token), jwt.get_unverified_claims(token)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _signed_by_the_pool(claims: dict, headers: dict) -> str:
    """A token signed with the pool's own key: only its claims can make it invalid."""
    return jwt.encode(
        claims, load_resource("cognitoidp/resources/jwks-private.json"), algorithm="RS256", headers=headers
    )


@pytest.fixture(scope="module")
def valid_token(stack) -> str:
    return stack.token("authorizer@example.com")[0]


def test_a_valid_id_token_is_accepted(stack, valid_token):
    assert stack.get(PRIVATE_ROUTE, valid_token).status_code == 200


def test_no_token_is_401(stack):
    answer = stack.get(PRIVATE_ROUTE)
    assert (answer.status_code, answer.json()) == (401, UNAUTHORIZED)


def test_garbage_token_is_401(stack):
    answer = stack.get(PRIVATE_ROUTE, "not-a-jwt")
    assert (answer.status_code, answer.json()) == (401, UNAUTHORIZED)


def test_bad_signature_is_401(stack, valid_token):
    header, payload, signature = valid_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "00000000-0000-0000-0000-000000000000"  # impersonation attempt
    forged = f"{header}.{_b64(claims)}.{signature}"
    answer = stack.get(PRIVATE_ROUTE, forged)
    assert (answer.status_code, answer.json()) == (401, UNAUTHORIZED)


def test_alg_none_is_401(stack, valid_token):
    _, claims = _segments(valid_token)
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    answer = stack.get(PRIVATE_ROUTE, unsigned)
    assert (answer.status_code, answer.json()) == (401, UNAUTHORIZED)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"exp": int(time.time()) - 60, "iat": int(time.time()) - 3660}, id="expired"),
        pytest.param({"aud": "another-app-client"}, id="wrong-audience"),
        pytest.param(
            {"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"}, id="wrong-issuer"
        ),
        pytest.param({"token_use": "access"}, id="access-token-not-id-token"),
    ],
)
def test_validly_signed_tokens_with_wrong_claims_are_401(stack, valid_token, change):
    header, claims = _segments(valid_token)
    control = _signed_by_the_pool(claims, {"kid": header["kid"]})
    assert stack.get(PRIVATE_ROUTE, control).status_code == 200  # the forging itself is sound
    answer = stack.get(PRIVATE_ROUTE, _signed_by_the_pool({**claims, **change}, {"kid": header["kid"]}))
    assert (answer.status_code, answer.json()) == (401, UNAUTHORIZED)


def test_a_validly_signed_token_without_an_audience_is_401(stack, valid_token):
    header, claims = _segments(valid_token)
    without_aud = {name: value for name, value in claims.items() if name != "aud"}
    answer = stack.get(PRIVATE_ROUTE, _signed_by_the_pool(without_aud, {"kid": header["kid"]}))
    assert (answer.status_code, answer.json()) == (401, UNAUTHORIZED)


def test_bearer_prefix_is_accepted(stack, valid_token):
    assert stack.get(PRIVATE_ROUTE, f"Bearer {valid_token}").status_code == 200


def test_public_routes_need_no_token(stack):
    assert stack.get("/v1/pub/subscription/list").status_code == 200
