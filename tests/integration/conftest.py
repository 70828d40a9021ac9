"""Integration tier: the real handlers, in-process, against moto with the template's own tables."""

import boto3
import pytest
from moto import mock_aws

from local.seed import seed_reference_data
from local.template import create_table_request, load_template


@pytest.fixture
def aws(monkeypatch):
    """A fresh moto account holding the template's tables and the reference data, with the functions' env."""
    from core.config import get_settings

    template = load_template()
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
