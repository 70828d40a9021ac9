"""Configuration (``core.config``): a function refuses to start without the secrets its stage needs."""

import pytest


def test_a_deployed_stage_refuses_to_start_without_the_secret(environment):
    from core.config import get_settings

    environment.setenv("STAGE", "prod")
    with pytest.raises(ValueError, match="PAGINATION_SECRET_ARN is not configured"):
        get_settings()


def test_a_stage_that_requires_recaptcha_refuses_to_start_without_its_secret(environment):
    from core.config import get_settings

    environment.setenv("PAGINATION_SECRET", "x")
    environment.setenv("RECAPTCHA_REQUIRED", "true")
    with pytest.raises(ValueError, match="RECAPTCHA_SECRET_ARN is not configured"):
        get_settings()
