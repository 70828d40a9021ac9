"""Integration tier: the real handlers, in-process, against moto with the template's own tables."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.aws import moto_as_aws, provision_messaging
from local.seed import seed_reference_data
from local.template import create_table_request, load_template
from tests.support import STRIPE_API_KEY, STRIPE_WEBHOOK_SECRET, WEBHOOK_PATH, Billing, api_event, invoke


@pytest.fixture
def aws(monkeypatch):
    """A fresh moto account holding the template's tables, buses and queues and the reference data, with the
    functions' env."""
    from core import wiring
    from core.config import get_settings

    template = load_template()
    moto_as_aws()  # the local stack's moto: atomic writes, index queries, uncounted sends
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        for table in template.tables():
            dynamodb.create_table(**create_table_request(table))
        globals_env = template.document["Globals"]["Function"]["Environment"]["Variables"]
        for name, value in globals_env.items():
            monkeypatch.setenv(name, str(template.resolve(value)))
        # The page-token signing key, read at runtime from Secrets Manager as in a deployed stage.
        boto3.client("secretsmanager").create_secret(
            Name=os.environ["PAGINATION_SECRET_ARN"], SecretString="integration-page-token-key"
        )
        get_settings.cache_clear()
        wiring.reset()
        provision_messaging(template, boto3.client)
        seed_reference_data()
        yield template
    get_settings.cache_clear()
    wiring.reset()


@pytest.fixture(scope="session")
def exchange_simulator():
    from local.exchange_sim import start_simulator

    running = start_simulator()
    yield running
    running.stop()


@pytest.fixture
def exchange(aws, exchange_simulator, monkeypatch):
    """The exchange functions' environment: the simulator as the exchange, a KMS key for secrets."""
    from adapters.exchange.binance import market_cache
    from core import wiring
    from core.config import get_settings

    key_id = boto3.client("kms").create_key(Description="exchange secrets")["KeyMetadata"]["KeyId"]
    monkeypatch.setenv("EXCHANGE_ENDPOINT", exchange_simulator.url)
    monkeypatch.setenv("EXCHANGE_SECRETS_KEY_ID", key_id)
    monkeypatch.setenv("EGRESS_IPS", "15.137.11.254,221.110.159.85")
    monkeypatch.setenv("EXCHANGE_TIMEOUT_MS", "2000")
    monkeypatch.setenv("IDEMPOTENCY_TABLE_NAME", "trading-api-local-idempotency")
    get_settings.cache_clear()
    wiring.reset()
    market_cache().clear()
    yield exchange_simulator.simulator
    exchange_simulator.simulator.set_faults()
    market_cache().clear()


class TradeEvents:
    """What reached the trade event bus: a rule on it delivers every event to a queue the test reads."""

    def __init__(self, bus_name: str) -> None:
        self._sqs = boto3.client("sqs")
        self._url = self._sqs.create_queue(QueueName="test-trade-events")["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self._url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events = boto3.client("events")
        events.put_rule(
            Name="test-all-trade-events",
            EventBusName=bus_name,
            EventPattern='{"source": ["trading-api.trades"]}',
        )
        events.put_targets(
            Rule="test-all-trade-events", EventBusName=bus_name, Targets=[{"Id": "queue", "Arn": arn}]
        )
        self.received: list[dict] = []

    def read(self) -> list[dict]:
        """Every event so far, oldest first (each once)."""
        while True:
            messages = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return self.received
            for message in messages:
                self.received.append(json.loads(message["Body"]))
                self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])

    def types(self) -> list[str]:
        return [event["detail-type"] for event in self.read()]


@pytest.fixture
def trade_events(aws) -> TradeEvents:
    from core.config import get_settings

    return TradeEvents(get_settings().event_bus_name)


def _webhook_receiver(billing: Billing) -> type[BaseHTTPRequestHandler]:
    """An HTTP endpoint for the simulator's webhooks that hands each one to the webhook function in-process."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {
                name: value for name, value in self.headers.items() if name.lower() != "content-length"
            }
            function, event = api_event("POST", WEBHOOK_PATH, raw_body=raw, headers=headers)
            response = invoke(function, event)
            try:
                delivered = json.loads(raw)
                billing.answers.append((delivered.get("id"), delivered.get("type"), response["statusCode"]))
            except ValueError:
                billing.answers.append(("", "", response["statusCode"]))
            self.send_response(response["statusCode"])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def billing(aws, monkeypatch) -> Iterator[Billing]:
    """Stripe = the simulator (prices seeded with lookup_key = plan id); webhooks = the webhook function."""
    from core import wiring
    from core.config import get_settings
    from local.seed import REFERENCE_DATA
    from local.stripe_sim import StripeSimulator, start_simulator

    template = aws
    running = start_simulator(
        simulator=StripeSimulator(api_key=STRIPE_API_KEY, webhook_secret=STRIPE_WEBHOOK_SECRET)
    )
    state = Billing(running)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _webhook_receiver(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    running.simulator.webhook_url = f"http://127.0.0.1:{server.server_address[1]}{WEBHOOK_PATH}"
    for plan in json.loads(REFERENCE_DATA.read_text())["plans"]:
        if plan["public"]:
            running.simulator.seed_plan(plan["name"], plan["monthly_price_usd"], lookup_key=plan["id"])
    # The functions' own environment from the template: the simulator as Stripe, its keys in a secret.
    secret = boto3.client("secretsmanager").create_secret(
        Name=f"stripe-{running.url.rsplit(':', 1)[1]}",
        SecretString=json.dumps({"apiKey": STRIPE_API_KEY, "webhookSecret": STRIPE_WEBHOOK_SECRET}),
    )
    template.parameters["StripeApiBase"] = running.url
    template.parameters["StripeSecretArn"] = secret["ARN"]
    functions = template.functions()
    for logical_id in ("AccountSubscriptionFunction", "StripeWebhookFunction"):
        for name, value in functions[logical_id].environment.items():
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("STRIPE_MAX_NETWORK_RETRIES", "0")
    get_settings.cache_clear()
    wiring.reset()  # the services read the checkout URLs of this environment
    yield state
    wiring.reset()
    server.shutdown()
    server.server_close()
    running.stop()
