"""Unit tier: fixtures the unit tests share."""

from __future__ import annotations

import pytest


@pytest.fixture
def environment(monkeypatch):
    """A clean configuration: no stage, no secrets; the settings are read again from what the test sets."""
    from core.config import get_settings

    for name in (
        "STAGE",
        "PAGINATION_SECRET",
        "PAGINATION_SECRET_ARN",
        "RECAPTCHA_REQUIRED",
        "RECAPTCHA_SECRET_ARN",
    ):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()
