"""The one error map: pydantic and domain errors become exactly the documented bodies."""

import json

import pytest

from core.api.errors import to_field_error
from core.errors import BusinessRuleError, business_rule_errors

DOCUMENTED_433 = {
    "1103": "exchange API authorization failed",
    "1106": "exchange API key type is invalid",
    "1109": "exchange API key already exist",
    "1110": "exchange API key is inactive",
    "1115": "exchange API key type is unsupported",
    "1206": "exchange id does not match",
    "1300": "invalid exchange symbol",
    "1306": "exchange symbol does not match",
    "1309": "exchange symbol already exist",
    "1500": "exchange bad request",
    "2100": "invalid subscription type",
    "2103": "unauthorized subscription features",
    "2129a": "exceed subscription max API key limit",
    "2129b": "exceed subscription max API balance limit",
    "3104": "active stripe subscription does not exist",
    "3109": "active stripe subscription already exist",
}


def test_every_documented_433_code_has_exactly_one_typed_error_with_its_message():
    declared = {error.code: error.message for error in business_rule_errors()}
    assert {code: declared.get(code) for code in DOCUMENTED_433} == DOCUMENTED_433
    assert len(business_rule_errors()) == len(declared)


@pytest.mark.parametrize("error_class", business_rule_errors())
def test_433_body_is_message_and_code(error_class: type[BusinessRuleError]):
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

    from core.api.errors import register_error_handlers

    app = APIGatewayRestResolver()
    register_error_handlers(app)

    @app.get("/fail")
    def fail():
        raise error_class("internal detail that must not leak")

    response = app.resolve({"httpMethod": "GET", "path": "/fail", "requestContext": {}, "headers": {}}, None)
    assert response["statusCode"] == 433
    assert json.loads(response["body"]) == {"error": f"{error_class.message} ({error_class.code})"}


def test_path_parameter_is_reported_as_id_in_params():
    error = to_field_error(
        {"type": "uuid", "loc": ("path", "API_KEY_ID"), "msg": "must be UUID", "input": "invalid"}
    )
    assert (error.value, error.msg, error.param, error.location) == (
        "invalid",
        "must be UUID",
        "id",
        "params",
    )


def test_string_too_long_reads_like_the_reference():
    error = to_field_error(
        {
            "type": "string_too_long",
            "loc": ("body", "name"),
            "msg": "...",
            "input": "x" * 40,
            "ctx": {"max_length": 24},
        }
    )
    assert error.msg == "length must be less than 25"


def test_enum_errors_list_the_allowed_values():
    error = to_field_error(
        {
            "type": "literal_error",
            "loc": ("query", "type"),
            "msg": "...",
            "input": "X",
            "ctx": {"expected": "'SPOT' or 'FUTURES'"},
        }
    )
    assert (error.msg, error.location) == ("must be one of [SPOT, FUTURES]", "query")


def test_missing_field_has_null_value_and_nested_fields_use_brackets():
    missing = to_field_error(
        {"type": "missing", "loc": ("body", "symbol"), "msg": "Field required", "input": {}}
    )
    assert (missing.value, missing.msg) == (None, "is required")
    nested = to_field_error(
        {"type": "float_parsing", "loc": ("body", "takeProfitPrices", 3), "msg": "", "input": "x"}
    )
    assert nested.param == "takeProfitPrices[3]"


def test_custom_number_errors_keep_their_message_and_lone_surrogates_read_as_not_a_string():
    number = to_field_error(
        {"type": "json_number", "loc": ("body", "amount"), "msg": "must be a number", "input": True}
    )
    assert (number.value, number.msg, number.param) == (True, "must be a number", "amount")
    surrogate = to_field_error(
        {"type": "string_unicode", "loc": ("body", "name"), "msg": "...", "input": "\ud800"}
    )
    assert surrogate.msg == "must be a string"


def test_a_body_that_is_not_an_object_is_the_malformed_400():
    from pydantic import BaseModel

    from core.api.resolver import create_resolver

    app = create_resolver()

    class Body(BaseModel):
        a: int

    @app.post("/thing")
    def thing(body: Body) -> dict:
        return {"a": body.a}

    for raw in ("[]", '[{"a": 1}]', "1", "null", '"x"'):
        event = {"httpMethod": "POST", "path": "/thing", "requestContext": {}, "headers": {}, "body": raw}
        response = app.resolve(event, None)
        assert (raw, response["statusCode"], json.loads(response["body"])) == (
            raw,
            400,
            {"message": "request body must be a JSON object"},
        )
