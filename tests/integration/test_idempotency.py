"""Idempotent requests (``core.api.idempotency``) against the template's idempotency table in moto."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from core.api import idempotency
from core.errors import FieldValidationError, RequestInProgressError
from local.events import LocalLambdaContext


@pytest.fixture
def app(aws, monkeypatch):
    from core.config import get_settings

    monkeypatch.setenv("IDEMPOTENCY_TABLE_NAME", "trading-api-local-idempotency")
    get_settings.cache_clear()
    idempotency._persistence.cache_clear()
    resolver = APIGatewayRestResolver()
    resolver.lambda_context = LocalLambdaContext("ExchangeFunction")
    yield resolver
    idempotency._persistence.cache_clear()


def test_the_same_key_runs_the_action_once_and_answers_the_first_result(app):
    runs: list[int] = []

    def action() -> dict:
        runs.append(1)
        return {"answer": len(runs)}

    first = idempotency.run_once(app, "user-a:key-1", "k-1", {"amount": 1}, action)
    again = idempotency.run_once(app, "user-a:key-1", "k-1", {"amount": 1}, action)
    assert first == again == {"answer": 1}
    assert runs == [1]


def test_a_retry_while_the_first_request_still_runs_is_refused_as_in_progress(app):
    def first() -> dict:
        # The retry arrives while the first request is still running (its record is INPROGRESS).
        with pytest.raises(RequestInProgressError, match="still in progress"):
            idempotency.run_once(app, "user-a:key-1", "k-2", {"amount": 1}, lambda: {"twice": True})
        return {"answer": "first"}

    assert idempotency.run_once(app, "user-a:key-1", "k-2", {"amount": 1}, first) == {"answer": "first"}


def test_the_same_key_with_another_body_is_a_field_error_on_the_header(app):
    idempotency.run_once(app, "user-a:key-1", "k-3", {"amount": 1}, lambda: {"answer": 1})
    with pytest.raises(FieldValidationError) as refused:
        idempotency.run_once(app, "user-a:key-1", "k-3", {"amount": 2}, lambda: {"answer": 2})
    assert refused.value.errors[0].param == "Idempotency-Key"
