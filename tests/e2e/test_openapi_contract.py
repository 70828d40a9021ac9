"""The committed OpenAPI document against the running API: schemathesis generates requests for every
operation from docs/openapi.json and sends them to the local stack.

Checks: no answer is a 5xx, every status is one the operation documents, every body matches its
documented schema. Requests go out as a BASIC user who owns one MANUAL FUTURES key on a funded simulator
account: a generated API_KEY_ID that is a well-formed UUID is replaced by that key's id (the key is never
deleted), so the trading routes reach the exchange simulator; a generated STRATEGY_ID that is a
well-formed UUID is replaced by a seeded strategy. Bounded by ``MAX_EXAMPLES`` per operation and phase.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.support import (
    KEYS_PATH,
    PROJECT_ROOT,
    RunningStack,
    exchange_key_body,
    simulator_account,
    start_stack,
    stop_stack,
)

pytestmark = pytest.mark.e2e

DOCUMENT = PROJECT_ROOT / "docs" / "openapi.json"
MAX_EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
STRATEGY = "b9f67eb2-1d6e-4a47-a735-d0d9039c9b08"  # STRATEGY #1 of the reference data
KEY_PATH = KEYS_PATH + "/{API_KEY_ID}"


def _is_uuid(value: object) -> bool:
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[RunningStack]:
    """A stack of its own: the generated requests follow strategies, trade and delete keys, which must not
    change what the other end-to-end tests see on the shared stack."""
    running = start_stack(tmp_path_factory.mktemp("contract-stack"))
    yield running
    stop_stack(running)


@pytest.fixture(scope="module")
def contract_user(stack) -> dict[str, str]:
    token, _ = stack.token(f"contract-{uuid.uuid4().hex[:12]}@example.com", plan="BASIC")
    account = simulator_account(stack, {"USDT": 1000})
    created = stack.post(KEYS_PATH, token, json=exchange_key_body(account, name="Contract"))
    assert created.status_code == 200, created.text
    return {"token": token, "key": created.json()["id"]}


# Loaded at import (schemathesis' lazy ``from_fixture`` does not run under pytest 9): the stack's URL and
# the token are given to each call instead.
# No TRACE/CONNECT probes: the local gateway's HTTP server answers unknown methods itself (501), which
# says nothing about the API.
CONFIG = schemathesis.Config.from_dict({"phases": {"coverage": {"unexpected-methods": []}}})
schema = schemathesis.openapi.from_path(DOCUMENT, config=CONFIG)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_is_one_the_document_declares(case, stack, contract_user):
    parameters = case.path_parameters or {}
    deleting_the_key = case.method == "DELETE" and case.path == KEY_PATH
    if _is_uuid(parameters.get("API_KEY_ID")) and not deleting_the_key:
        parameters["API_KEY_ID"] = contract_user["key"]
    if _is_uuid(parameters.get("STRATEGY_ID")):
        parameters["STRATEGY_ID"] = STRATEGY
    case.call_and_validate(
        base_url=stack.url, headers={"Authorization": contract_user["token"]}, checks=CHECKS
    )


def _example(method: str, path: str) -> dict:
    media = DOCUMENT_JSON["paths"][path][method]["requestBody"]["content"]["application/json"]
    return media["example"] if "example" in media else next(iter(media["examples"].values()))["value"]


DOCUMENT_JSON = json.loads(DOCUMENT.read_text())


def test_try_it_out_with_every_prefilled_body(stack):
    """What Swagger UI's "Try it out" sends with the document's own example bodies, in the order a person
    would try them, against a key and a follow that exist; each answer as the document declares it."""
    token, _ = stack.token(f"try-it-{uuid.uuid4().hex[:12]}@example.com", plan="BASIC")
    stack.post(
        "/_local/exchange/price", json={"symbol": "BTC/USDT", "price": 19200}
    )  # the reference's market
    manual = stack.post(
        KEYS_PATH, token, json=exchange_key_body(simulator_account(stack, {"USDT": 1000}))
    ).json()
    automated = stack.post(
        KEYS_PATH,
        token,
        json=exchange_key_body(
            simulator_account(stack, {"USDT": 1000}), strategyType="AUTOMATED", name="Auto"
        ),
    ).json()
    ids = {"API_KEY_ID": manual["id"], "STRATEGY_ID": STRATEGY}
    steps = [
        ("put", "/v1/priv/account/profile", {}, 200),
        ("post", KEYS_PATH, {}, 433),  # the reference's own key is no account of the simulator: 1103
        ("put", KEY_PATH, ids, 200),
        ("post", "/v1/priv/account/subscription/stripe/checkout", {}, 433),  # already subscribed: 3109
        ("put", "/v1/priv/account/subscription/stripe", {}, 200),
        ("put", "/v1/priv/exchange/order/{API_KEY_ID}/margin", ids, 204),
        ("put", "/v1/priv/exchange/order/{API_KEY_ID}/leverage", ids, 204),
        ("post", "/v1/priv/exchange/order/{API_KEY_ID}", ids, 200),
        ("delete", "/v1/priv/exchange/position/{API_KEY_ID}", ids, 204),
        ("post", "/v1/priv/strategy/follow/exchange/key/{API_KEY_ID}", {"API_KEY_ID": automated["id"]}, 200),
        ("post", "/v1/hook/strategy/{STRATEGY_ID}/signal", ids, 401),  # the example's secret is a placeholder
    ]
    follow = None
    for method, path, parameters, expected in steps:
        case = schema[path][method.upper()].Case(body=_example(method, path), path_parameters=parameters)
        answer = case.call_and_validate(base_url=stack.url, headers={"Authorization": token}, checks=CHECKS)
        assert answer.status_code == expected, (method, path, answer.text)
        if path.startswith("/v1/priv/strategy/follow/"):
            follow = answer.json()["id"]
    assert follow is not None
    path = "/v1/priv/strategy/follow/{STRATEGY_FOLLOW_ID}"
    case = schema[path]["PUT"].Case(
        body=_example("put", path), path_parameters={"STRATEGY_FOLLOW_ID": follow}
    )
    answer = case.call_and_validate(base_url=stack.url, headers={"Authorization": token}, checks=CHECKS)
    assert answer.status_code == 200, answer.text


def test_the_swagger_page_serves_its_document_as_json_on_format_json(stack):
    answer = stack.get("/swagger", params={"format": "json"})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json() == DOCUMENT_JSON
