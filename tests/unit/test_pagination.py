import pytest

from core.api.pagination import PageTokenCodec
from core.errors import FieldValidationError

KEY = {"PK": "USER#a", "SK": "SNAPSHOT#2022-09-12"}


def test_round_trip_returns_the_start_key():
    codec = PageTokenCodec("secret")
    assert codec.decode(codec.encode(KEY, "user-a:history"), "user-a:history") == KEY


def test_no_start_key_means_no_token():
    assert PageTokenCodec("secret").encode(None, "scope") is None


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: "x" + token,
        lambda token: "not-a-token",
        lambda token: token.split(".")[0],
        lambda token: "",
    ],
)
def test_forged_tokens_are_422_on_next_token(tamper):
    codec = PageTokenCodec("secret")
    with pytest.raises(FieldValidationError) as caught:
        codec.decode(tamper(codec.encode(KEY, "scope")), "scope")
    (error,) = caught.value.errors
    assert (error.param, error.location, error.msg) == ("nextToken", "query", "must be valid next token")


def test_token_of_another_user_or_list_is_refused():
    codec = PageTokenCodec("secret")
    with pytest.raises(FieldValidationError):
        codec.decode(codec.encode(KEY, "user-a:history"), "user-b:history")


def test_token_signed_with_another_secret_is_refused():
    with pytest.raises(FieldValidationError):
        PageTokenCodec("other").decode(PageTokenCodec("secret").encode(KEY, "s"), "s")


def test_stale_token_is_refused():
    codec = PageTokenCodec("secret", lifetime_seconds=60)
    token = codec.encode(KEY, "s", now=1_000)
    assert codec.decode(token, "s", now=1_059) == KEY
    with pytest.raises(FieldValidationError):
        codec.decode(token, "s", now=1_061)


@pytest.mark.parametrize(
    "token",
    ["é.é", "abc.\u00e9\u00e9", "x" * 5000, "a." + "b" * 3000],
)
def test_non_ascii_or_overlong_tokens_are_422_not_a_crash(token):
    with pytest.raises(FieldValidationError) as caught:
        PageTokenCodec("secret").decode(token, "scope")
    assert caught.value.errors[0].msg == "must be valid next token"


def test_the_query_type_bounds_the_token_with_the_same_message():
    from pydantic import TypeAdapter, ValidationError

    from core.api.pagination import MAX_TOKEN_LENGTH, PageToken

    adapter = TypeAdapter(PageToken)
    assert adapter.validate_python("a.b") == "a.b"
    with pytest.raises(ValidationError) as caught:
        adapter.validate_python("a" * (MAX_TOKEN_LENGTH + 1))
    assert caught.value.errors()[0]["msg"] == "must be valid next token"


# ---------------------------------------------------------------- the signing key
def test_the_key_is_read_from_secrets_manager_and_a_rotation_changes_the_tokens(environment):
    import boto3
    from aws_lambda_powertools.utilities import parameters
    from moto import mock_aws

    from core.api.pagination import page_token_secret

    with mock_aws():
        client = boto3.client("secretsmanager")
        arn = client.create_secret(Name="pagination", SecretString="first-key")["ARN"]
        environment.setenv("STAGE", "prod")
        environment.setenv("PAGINATION_SECRET_ARN", arn)
        parameters.clear_caches()
        codec = PageTokenCodec(page_token_secret)
        token = codec.encode(KEY, "scope")
        assert codec.decode(token, "scope") == KEY
        assert PageTokenCodec("first-key").decode(token, "scope") == KEY  # signed with the secret's value

        client.put_secret_value(SecretId=arn, SecretString="second-key")
        parameters.clear_caches()  # what the five-minute cache expiry does
        with pytest.raises(FieldValidationError):
            codec.decode(token, "scope")


def test_the_local_stage_alone_may_run_without_a_secret(environment):
    from core.api.pagination import LOCAL_SECRET, page_token_secret

    assert page_token_secret() == LOCAL_SECRET
