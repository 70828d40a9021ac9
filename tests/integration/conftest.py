"""Integration tier: the real handlers, in-process, against moto with the template's own tables."""

import boto3
import pytest
from moto import mock_aws

from local.aws import serialize_dynamodb_writes
from local.seed import seed_reference_data
from local.template import create_table_request, load_template


@pytest.fixture
def aws(monkeypatch):
    """A fresh moto account holding the template's tables and the reference data, with the functions' env."""
    from core.config import get_settings

    template = load_template()
    serialize_dynamodb_writes()
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        for table in template.tables():
            dynamodb.create_table(**create_table_request(table))
        globals_env = template.document["Globals"]["Function"]["Environment"]["Variables"]
        for name, value in globals_env.items():
            monkeypatch.setenv(name, str(template.resolve(value)))
        get_settings.cache_clear()
        seed_reference_data()
        yield template
    get_settings.cache_clear()


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
    from core.config import get_settings

    key_id = boto3.client("kms").create_key(Description="exchange secrets")["KeyMetadata"]["KeyId"]
    monkeypatch.setenv("EXCHANGE_ENDPOINT", exchange_simulator.url)
    monkeypatch.setenv("EXCHANGE_SECRETS_KEY_ID", key_id)
    monkeypatch.setenv("EGRESS_IPS", "15.137.11.254,221.110.159.85")
    monkeypatch.setenv("EXCHANGE_TIMEOUT_MS", "2000")
    monkeypatch.setenv("IDEMPOTENCY_TABLE_NAME", "trading-api-local-idempotency")
    get_settings.cache_clear()
    market_cache().clear()
    yield exchange_simulator.simulator
    exchange_simulator.simulator.set_faults()
    market_cache().clear()
