"""``wiring.reset()``: after the environment changes (a second local stack in one process), nothing built for
the old endpoint is used again."""

from __future__ import annotations

from core import aws_clients, wiring
from core.repositories import table


def test_reset_forgets_the_containers_aws_clients(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    before = [*map(aws_clients.client, ("sqs", "kms", "events")), table.dynamodb_client()]
    assert before[0].meta.endpoint_url == "http://127.0.0.1:1"

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:2")
    wiring.reset()
    after = [*map(aws_clients.client, ("sqs", "kms", "events")), table.dynamodb_client()]
    assert all(new is not old for new, old in zip(after, before, strict=True))
    assert {client.meta.endpoint_url for client in after} == {"http://127.0.0.1:2"}
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    wiring.reset()  # the next test's clients are its own
