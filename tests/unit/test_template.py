"""template.yaml is the single source of truth: functions, routes, events and log groups must agree with it."""

import json
import re
from pathlib import Path

import pytest

from local.openapi import load_function_module
from local.template import PROJECT_ROOT, load_template

TEMPLATE = load_template()
FUNCTIONS = TEMPLATE.functions()


def resolver_routes(logical_id: str) -> set[tuple[str, str]]:
    app = load_function_module(TEMPLATE, logical_id).app
    schema = app.get_openapi_schema()
    return {
        (method.upper(), path)
        for path, item in schema.paths.items()
        for method in item.model_dump(exclude_none=True)
        if method in {"get", "put", "post", "delete", "patch"}
    }


@pytest.mark.parametrize("logical_id", [f for f, spec in FUNCTIONS.items() if spec.routes])
def test_template_routes_are_exactly_the_resolver_routes(logical_id):
    declared = {(route.method, route.path) for route in FUNCTIONS[logical_id].routes}
    assert resolver_routes(logical_id) == declared


def test_every_function_folder_is_deployed_and_every_deployed_function_has_a_folder():
    folders = {path.name for path in (PROJECT_ROOT / "functions").iterdir() if (path / "app.py").exists()}
    assert folders == {spec.code_dir.name for spec in FUNCTIONS.values()}


def test_every_function_has_its_own_log_group_with_retention():
    groups = [
        resource["Properties"]
        for resource in TEMPLATE.resources.values()
        if resource["Type"] == "AWS::Logs::LogGroup"
    ]
    named = {group["LogGroupName"]["Fn::Sub"] for group in groups}
    for logical_id in FUNCTIONS:
        assert f"/aws/lambda/${{{logical_id}}}" in named
    assert all("RetentionInDays" in group for group in groups)


def test_private_routes_are_authorized_and_public_routes_are_under_pub_or_hook():
    # /v1/hook/ routes are called by other systems (a strategy's signal source, Telegram), which authenticate
    # with a secret of their own instead of a user's token.
    for route in TEMPLATE.routes():
        assert route.public == route.path.startswith(("/v1/pub/", "/v1/hook/")), route


def test_every_route_has_a_ready_event_with_claims_when_private():
    events = [json.loads(path.read_text()) for path in (PROJECT_ROOT / "events").glob("*.json")]
    api_events = [event for event in events if "httpMethod" in event]
    covered = {(event["httpMethod"], event["resource"]) for event in api_events}
    assert covered >= {(route.method, route.path) for route in TEMPLATE.routes()}
    for event in api_events:
        claims = (event["requestContext"].get("authorizer") or {}).get("claims")
        assert bool(claims and claims.get("sub")) == event["resource"].startswith("/v1/priv/"), event[
            "resource"
        ]
        assert re.fullmatch(r"/v1/(pub|priv|hook)/.*", event["resource"])


def test_function_code_imports_only_the_layers():
    # Functions reach shared code through the core layer, never by relative paths or copies.
    for spec in FUNCTIONS.values():
        source = Path(spec.code_dir / "app.py").read_text()
        assert "sys.path" not in source
        assert "../" not in source
