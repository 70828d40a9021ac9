"""reCAPTCHA v3 on the API's writes, where the stage requires it (prod): the real handlers in-process, the
site secret in (moto's) Secrets Manager, siteverify over HTTP (the local stand-in, answering as Google)."""

from __future__ import annotations

import boto3
import pytest

from local.recaptcha_sim import start_simulator
from tests.support import USER_A, call

PROFILE = {"language": "EN", "timezone": "Europe/Madrid"}
FORBIDDEN_MISSING = {"message": "missing recaptcha-token-v3 header"}
FORBIDDEN = {"message": "reCAPTCHA verification failed"}


@pytest.fixture(scope="module")
def siteverify():
    running = start_simulator("site-secret")
    yield running
    running.stop()


@pytest.fixture
def required(aws, siteverify, monkeypatch):
    """The prod stage's settings: reCAPTCHA required, its secret in Secrets Manager."""
    from aws_lambda_powertools.utilities import parameters

    from core.config import get_settings

    arn = boto3.client("secretsmanager").create_secret(Name="recaptcha", SecretString="site-secret")["ARN"]
    monkeypatch.setenv("RECAPTCHA_REQUIRED", "true")
    monkeypatch.setenv("RECAPTCHA_SECRET_ARN", arn)
    monkeypatch.setenv("RECAPTCHA_VERIFY_URL", siteverify.verify_url)
    monkeypatch.setenv("RECAPTCHA_MIN_SCORE", "0.5")
    parameters.clear_caches()
    get_settings.cache_clear()
    siteverify.simulator.verified.clear()
    yield siteverify.simulator
    get_settings.cache_clear()


def put_profile(token: str | None = None):
    headers = {"recaptcha-token-v3": token} if token is not None else {}
    return call("PUT", "/v1/priv/account/profile", user=USER_A, body=PROFILE, headers=headers)


def test_a_write_with_a_valid_token_goes_through_and_google_sees_the_site_secret(required):
    status, body, _ = put_profile("local:0.9:submit")
    assert status == 200
    assert body["language"] == "EN"
    (verified,) = required.verified
    assert verified["secret"] == "site-secret"
    assert verified["response"] == "local:0.9:submit"


@pytest.mark.parametrize(
    ("token", "answer"),
    [
        pytest.param(None, FORBIDDEN_MISSING, id="missing"),
        pytest.param("", FORBIDDEN_MISSING, id="empty"),
        pytest.param("forged-token", FORBIDDEN, id="not-confirmed-by-google"),
        pytest.param("local:0.2:submit", FORBIDDEN, id="score-under-the-threshold"),
    ],
)
def test_a_write_without_a_good_token_is_403_and_changes_nothing(required, token, answer):
    assert put_profile("local:0.9:submit")[0] == 200
    before = call("GET", "/v1/priv/account/profile", user=USER_A)[1]
    changed = {"language": "AR", "timezone": "Asia/Tokyo"}
    headers = {"recaptcha-token-v3": token} if token is not None else {}
    status, body, _ = call("PUT", "/v1/priv/account/profile", user=USER_A, body=changed, headers=headers)
    assert (status, body) == (403, answer)
    assert call("GET", "/v1/priv/account/profile", user=USER_A)[1] == before


def test_an_action_the_web_app_does_not_send_is_refused(required, monkeypatch):
    from core.config import get_settings

    monkeypatch.setenv("RECAPTCHA_ACTIONS", "save_profile,place_order")
    get_settings.cache_clear()
    assert put_profile("local:0.9:login")[:2] == (403, FORBIDDEN)
    assert put_profile("local:0.9:save_profile")[0] == 200


def test_a_wrong_site_secret_is_refused(required, monkeypatch):
    from aws_lambda_powertools.utilities import parameters

    arn = boto3.client("secretsmanager").create_secret(Name="other", SecretString="not-the-site-secret")[
        "ARN"
    ]
    monkeypatch.setenv("RECAPTCHA_SECRET_ARN", arn)
    parameters.clear_caches()
    from core.config import get_settings

    get_settings.cache_clear()
    assert put_profile("local:0.9:submit")[:2] == (403, FORBIDDEN)


def test_reads_and_the_machine_facing_routes_need_no_token(required, monkeypatch):
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_local")
    assert call("GET", "/v1/priv/account/profile", user=USER_A)[0] == 200
    # The Stripe webhook verifies Stripe's signature instead: an unsigned event is its own 400, not a 403.
    status, _, _ = call("POST", "/v1/pub/subscription/stripe/webhook", body={"type": "ping"})
    assert status == 400
    assert required.verified == []


def test_siteverify_out_of_reach_is_503_and_nothing_is_done(required, monkeypatch):
    from core.config import get_settings

    monkeypatch.setenv("RECAPTCHA_VERIFY_URL", "http://127.0.0.1:9/recaptcha/api/siteverify")
    get_settings.cache_clear()
    assert put_profile("local:0.9:submit")[:2] == (
        503,
        {"message": "reCAPTCHA verification temporarily unavailable"},
    )


def test_other_stages_skip_it(aws):
    assert put_profile()[0] == 200
