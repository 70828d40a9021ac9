"""The operator's commands against a deployed stage: a token from its user pool, seeding without a region."""

from __future__ import annotations

import os
import subprocess
import sys

import boto3
import pytest
from botocore.exceptions import ClientError
from jose import jwt
from moto import mock_aws

from local.stage_token import StagePool, id_token
from local.template import PROJECT_ROOT, load_template

PASSWORD = "Operator-Test-Password-1"


@pytest.fixture
def pool():
    """The stack's user pool and app client, as the template declares them (the admin flow allowed)."""
    client_properties = load_template().document["Resources"]["UserPoolClient"]["Properties"]
    with mock_aws():
        cognito = boto3.client("cognito-idp")
        pool_id = cognito.create_user_pool(PoolName="trading-api-dev", UsernameAttributes=["email"])[
            "UserPool"
        ]["Id"]
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id, ClientName="web", ExplicitAuthFlows=client_properties["ExplicitAuthFlows"]
        )["UserPoolClient"]["ClientId"]
        yield StagePool(pool_id, client_id), cognito


def test_an_operator_gets_an_id_token_of_a_user_it_creates(pool):
    stage, cognito = pool
    token = id_token(stage, "operator@example.com", PASSWORD, cognito, create=True)
    claims = jwt.get_unverified_claims(token)
    assert (claims["token_use"], claims["email"]) == ("id", "operator@example.com")
    # Asking again for the existing user signs in again, without touching the password.
    assert (
        jwt.get_unverified_claims(id_token(stage, "operator@example.com", PASSWORD, cognito))["sub"]
        == claims["sub"]
    )


def test_a_wrong_password_is_refused(pool):
    stage, cognito = pool
    id_token(stage, "operator@example.com", PASSWORD, cognito, create=True)
    with pytest.raises(ClientError, match="NotAuthorized"):
        id_token(stage, "operator@example.com", "Not-The-Password-1", cognito)


def test_seeding_a_stage_without_a_region_says_so_instead_of_a_traceback(tmp_path):
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") or key.endswith("_KEY_ID")
    }
    environment["AWS_CONFIG_FILE"] = str(tmp_path / "none")
    result = subprocess.run(
        [sys.executable, "-m", "local", "seed", "--stack-name", "trading-api-dev"],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "region" in result.stderr
