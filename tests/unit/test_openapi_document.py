"""docs/openapi.json is the document the code builds, and it documents what the API really answers."""

from __future__ import annotations

import json
import re

import pytest

from core.api.openapi_docs import BUSINESS_ERROR_PATTERN, STATUS_EXAMPLES
from core.errors import BusinessRuleError
from local.openapi import DOCUMENT_PATH, OpenApiSite, merged_openapi, render
from local.template import load_template

TEMPLATE = load_template()
DOCUMENT = merged_openapi(TEMPLATE)
OPERATIONS = [
    (method, path, operation)
    for path, operations in DOCUMENT["paths"].items()
    for method, operation in operations.items()
]
IDS = [f"{method.upper()} {path}" for method, path, _ in OPERATIONS]
SCHEMAS = DOCUMENT["components"]["schemas"]
TYPED = [pytest.param(*operation, id=name) for name, operation in zip(IDS, OPERATIONS, strict=True)]


def _schema_of(media: dict) -> dict:
    schema = media["schema"]
    return SCHEMAS[schema["$ref"].rsplit("/", 1)[1]] if "$ref" in schema else schema


def test_the_committed_document_is_the_one_the_code_builds():
    assert DOCUMENT_PATH.exists(), "docs/openapi.json is missing: run make openapi"
    assert DOCUMENT_PATH.read_text() == render(DOCUMENT), "docs/openapi.json is stale: run make openapi"


def test_the_document_covers_every_route_of_the_template():
    documented = {(method.upper(), path) for method, path, _ in OPERATIONS}
    declared = {(route.method, route.path) for route in TEMPLATE.routes()}
    assert documented == declared


def test_the_document_is_valid_openapi_3_1():
    from openapi_spec_validator import validate

    validate(DOCUMENT)


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=IDS)
def test_every_operation_documents_the_statuses_every_route_can_answer(method, path, operation):
    statuses = set(operation["responses"])
    assert {"400", "413", "429", "500"} <= statuses
    assert any(status.startswith("2") for status in statuses)
    private = path.startswith("/v1/priv/")
    assert ("401" in statuses) is private or path.startswith("/v1/hook/")
    assert (operation.get("security") == [{"CognitoIdToken": []}]) is private
    has_input = bool(operation.get("parameters") or operation.get("requestBody"))
    assert ("422" in statuses) is has_input
    if any(parameter["in"] == "path" for parameter in operation.get("parameters", [])):
        assert "404" in statuses


@pytest.mark.parametrize(("method", "path", "operation"), TYPED)
def test_every_answer_with_a_body_has_a_typed_schema(method, path, operation):
    for status, answer in operation["responses"].items():
        if status == "204":
            assert "content" not in answer
            continue
        if "text/html" in answer["content"]:  # a page for a browser (the unsubscribe link's confirmation)
            assert answer["content"]["text/html"]["schema"] == {"type": "string"}
            continue
        schema = _schema_of(answer["content"]["application/json"])
        assert schema, f"{status} has no schema"
        assert "detail" not in schema.get("properties", {}), "Powertools' 422 body is not this API's"
    if "requestBody" in operation:
        body = _schema_of(operation["requestBody"]["content"]["application/json"])
        assert body.get("properties"), "the request body is untyped"


def test_the_error_bodies_are_the_api_s_own():
    assert set(SCHEMAS["FieldErrorsBody"]["required"]) == {"errors"}
    field_error = SCHEMAS["FieldErrorOut"]
    assert set(field_error["properties"]) == {"value", "msg", "param", "location"}
    assert field_error["properties"]["location"]["enum"] == ["body", "query", "params", "headers"]
    assert SCHEMAS["BusinessErrorBody"]["properties"]["error"]["pattern"] == BUSINESS_ERROR_PATTERN
    assert set(SCHEMAS["MessageBody"]["required"]) == {"message"}
    assert "HTTPValidationError" not in SCHEMAS


def test_every_documented_refusal_reads_as_the_api_writes_it():
    for refusal in [*BusinessRuleError.__subclasses__()]:
        assert re.match(BUSINESS_ERROR_PATTERN, f"{refusal.message} ({refusal.code})"), refusal
    for method, path, operation in OPERATIONS:
        refused = operation["responses"].get("433")
        if refused:
            for example in refused["content"]["application/json"].get("examples", {}).values():
                assert re.match(BUSINESS_ERROR_PATTERN, example["value"]["error"]), (method, path)


def test_the_manual_order_documents_its_headers_refusals_and_the_reference_example():
    operation = DOCUMENT["paths"]["/v1/priv/exchange/order/{API_KEY_ID}"]["post"]
    headers = {p["name"]: p for p in operation["parameters"] if p["in"] == "header"}
    assert set(headers) == {"Idempotency-Key", "recaptcha-token-v3"}
    assert headers["Idempotency-Key"]["schema"]["maxLength"] == 128
    key = next(p for p in operation["parameters"] if p["name"] == "API_KEY_ID")
    assert key["schema"]["format"] == "uuid"
    assert {"409", "433", "503"} <= set(operation["responses"])
    codes = operation["responses"]["433"]["content"]["application/json"]["examples"]
    assert {"1103", "1106", "1110", "1115", "1300", "1500"} <= set(codes)
    example = operation["requestBody"]["content"]["application/json"]["example"]
    assert example["amount"] == "0.05"
    assert example["takeProfitPrices"] == [19250, 19300]
    assert "x-idempotent" not in operation


def test_orders_trades_and_positions_have_their_schemas():
    for path in ("/v1/priv/exchange/order/{API_KEY_ID}/list", "/v1/priv/exchange/trade/{API_KEY_ID}/history"):
        answer = DOCUMENT["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        assert answer["schema"]["type"] == "array"
        assert "$ref" in answer["schema"]["items"]
    position = DOCUMENT["paths"]["/v1/priv/exchange/position/{API_KEY_ID}"]["get"]["responses"]["200"]
    variants = position["content"]["application/json"]["schema"]["anyOf"]
    assert {"$ref": "#/components/schemas/PositionOut"} in variants
    assert {"type": "null"} in variants


def test_symbols_and_numbers_carry_their_json_schema_constraints():
    symbol = SCHEMAS["ManualOrderBody"]["properties"]["symbol"]
    assert symbol["pattern"] == "^[A-Z0-9]{2,20}/[A-Z0-9]{2,20}$"
    leverage = SCHEMAS["LeverageBody"]["properties"]["leverage"]
    assert (leverage["minimum"], leverage["maximum"]) == (1, 125)
    text = json.dumps(DOCUMENT)
    assert '"gt":' not in text
    assert '"le":' not in text


def test_the_shared_error_examples_are_the_bodies_the_api_answers():
    from core.api.errors import MALFORMED_BODY, ROUTE_NOT_FOUND

    assert STATUS_EXAMPLES[400] == MALFORMED_BODY
    assert STATUS_EXAMPLES[404] == ROUTE_NOT_FOUND


def test_swagger_ui_links_to_the_json_document_it_is_served_from():
    site = OpenApiSite(TEMPLATE)
    _, page = site.asset("/swagger")
    assert page is not None
    assert b'updateUrl("/swagger/openapi.json")' in page
    assert b"?format=json" not in page
    content_type, document = site.asset("/swagger/openapi.json")
    assert content_type == "application/json"
    assert document is not None
    assert json.loads(document) == DOCUMENT
