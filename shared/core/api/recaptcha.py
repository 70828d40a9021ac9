"""reCAPTCHA v3 on the API's writes (the reference: production only).

Where the stage requires it (``RECAPTCHA_REQUIRED``: prod, or a stage that opts in), every POST, PUT and
DELETE of the API carries a ``recaptcha-token-v3`` header, verified with Google's siteverify before any
route runs: a missing token, one Google does not confirm, a score under the configured threshold or an
action the web app does not send is a 403 ``{"message": ...}``. The machine-facing routes (the Stripe,
Telegram and strategy-signal webhooks, the email clients' one-click unsubscribe) have no browser behind
them and are exempt; they verify their sender themselves.

The site secret lives in Secrets Manager (``RECAPTCHA_SECRET_ARN``, cached five minutes, never logged).
Siteverify that cannot be reached is a 503: nothing is done without a verdict.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core.config import Settings, get_settings
from core.observability import logger

HEADER = "recaptcha-token-v3"
CHECKED_METHODS = frozenset({"POST", "PUT", "DELETE"})
# Called by machines, not by the web app: their own signature checks stand in for reCAPTCHA.
MACHINE_RESOURCES = frozenset(
    {
        "/v1/pub/subscription/stripe/webhook",
        "/v1/hook/strategy/{STRATEGY_ID}/signal",
        "/v1/hook/telegram",
        "/v1/pub/notification/unsubscribe",
    }
)
MAX_TOKEN_LENGTH = 4096  # Google's tokens are about 2 KB
SECRET_CACHE_SECONDS = 300


@dataclass(frozen=True)
class Refusal:
    status: int
    message: str


def _header(event: dict[str, Any], name: str) -> str | None:
    lowered = name.lower()
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == lowered:
            return str(value) if value is not None else None
    return None


def needs_check(event: dict[str, Any], settings: Settings) -> bool:
    return (
        settings.recaptcha_required
        and str(event.get("httpMethod") or "").upper() in CHECKED_METHODS
        and str(event.get("resource") or "") not in MACHINE_RESOURCES
    )


def _site_secret(settings: Settings) -> str:
    from aws_lambda_powertools.utilities import parameters

    return str(parameters.get_secret(settings.recaptcha_secret_arn, max_age=SECRET_CACHE_SECONDS))


def _siteverify(settings: Settings, token: str, remote_ip: str | None) -> dict[str, Any]:
    import urllib.parse  # only where reCAPTCHA is on: no API function's init loads http.client for it
    import urllib.request

    form = {"secret": _site_secret(settings), "response": token}
    if remote_ip:
        form["remoteip"] = remote_ip
    request = urllib.request.Request(  # noqa: S310 - a configured https URL (the local stack: its fake)
        settings.recaptcha_verify_url,
        data=urllib.parse.urlencode(form).encode("ascii"),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=settings.recaptcha_timeout_seconds) as response:  # noqa: S310
        verdict = json.loads(response.read())
    return verdict if isinstance(verdict, dict) else {}


def refusal(event: dict[str, Any]) -> Refusal | None:
    """None when the request may go on; else the answer it gets instead (before any work)."""
    settings = get_settings()
    if not needs_check(event, settings):
        return None
    token = _header(event, HEADER)
    if not token:
        return Refusal(403, f"missing {HEADER} header")
    if len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return Refusal(403, "reCAPTCHA verification failed")
    remote_ip = ((event.get("requestContext") or {}).get("identity") or {}).get("sourceIp")
    try:
        verdict = _siteverify(settings, token, remote_ip)
    except (OSError, ValueError) as error:  # URLError and timeouts are OSErrors
        logger.warning("reCAPTCHA siteverify unreachable", extra={"error_type": type(error).__name__})
        return Refusal(503, "reCAPTCHA verification temporarily unavailable")
    score = verdict.get("score")
    action = verdict.get("action")
    accepted = (
        verdict.get("success") is True
        and isinstance(score, int | float)
        and score >= settings.recaptcha_min_score
        and (not settings.recaptcha_actions or action in settings.recaptcha_actions)
    )
    if not accepted:
        logger.info(
            "reCAPTCHA refused the request",
            extra={"score": score, "action": action, "error_codes": verdict.get("error-codes")},
        )
        return Refusal(403, "reCAPTCHA verification failed")
    return None
