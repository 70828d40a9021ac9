"""Loose input at the edge, through the real handlers: every route with a body reads only a JSON object,
numbers are finite JSON numbers or numeric strings (never booleans), every string is bounded, and JSON
nested thousands of levels deep is a 400 rather than a crash."""

from __future__ import annotations

import json

import pytest

from local.openapi import load_function_module
from local.template import load_template
from tests.support import REFERENCE_ORDER, USER_A, api_event, call, invoke

KEY_ID = "6645920d-08cb-44f0-b8b3-a14dd918a7b0"
MALFORMED = {"message": "request body must be a JSON object"}
ORDER = f"/v1/priv/exchange/order/{KEY_ID}"
LEVERAGE = f"/v1/priv/exchange/order/{KEY_ID}/leverage"


def _concrete(path: str) -> str:
    return (
        path.replace("{API_KEY_ID}", KEY_ID)
        .replace("{STRATEGY_ID}", KEY_ID)
        .replace("{STRATEGY_FOLLOW_ID}", KEY_ID)
    )


def _takes_a_body(function: str, method: str, path: str) -> bool:
    """Whether the handler of ``method path`` validates a request body (Powertools' own route table)."""
    app = load_function_module(load_template(), function).app
    for route in app._static_routes + app._dynamic_routes:
        if route.method == method and route.openapi_path == path:
            return bool(route.dependant.body_params)
    raise AssertionError(f"{method} {path} is not served by {function}")


@pytest.fixture
def body_routes(aws) -> list[tuple[str, str]]:
    """(method, concrete path) of every route in template.yaml that takes a JSON body."""
    routes = [
        (route.method, _concrete(route.path))
        for route in load_template().routes()
        if _takes_a_body(route.function, route.method, route.path)
    ]
    assert ("POST", ORDER) in routes
    assert ("PUT", "/v1/priv/account/profile") in routes
    return routes


@pytest.mark.parametrize(
    "raw", ["[]", json.dumps([REFERENCE_ORDER]), '"a string"', "42", "null", "true", "{", "[1, 2"]
)
def test_a_body_that_is_not_a_json_object_is_400_on_every_route_with_a_body(body_routes, raw):
    for method, path in body_routes:
        status, body, _ = call(method, path, user=USER_A, raw_body=raw)
        assert (method, path, status, body) == (method, path, 400, MALFORMED)


@pytest.mark.parametrize("shape", ["array", "object", "mixed"])
def test_json_nested_thousands_deep_is_400_on_every_route(aws, shape):
    levels = 5000
    raw = {
        "array": "[" * levels + "]" * levels,
        "object": '{"a":' * levels + "1" + "}" * levels,
        "mixed": '{"symbol":' + '[{"a":' * levels + "1" + "}]" * levels + "}",
    }[shape]
    assert len(raw.encode()) < 64 * 1024
    for route in load_template().routes():
        status, body, _ = call(route.method, _concrete(route.path), user=USER_A, raw_body=raw)
        assert (route.path, status, body) == (route.path, 400, MALFORMED)


def test_modest_nesting_still_reaches_field_validation(aws):
    nested = {"symbol": [[[[{"a": [1]}]]]], "leverage": 10}
    status, body, _ = call("PUT", LEVERAGE, user=USER_A, body=nested)
    assert status == 422
    assert [error["param"] for error in body["errors"]] == ["symbol"]


def test_deep_json_is_refused_before_the_resolver_in_process():
    """Unit level of the same rule: the entry point answers without calling the resolver at all."""
    from core.api.resolver import lambda_entrypoint

    class Exploding:
        def resolve(self, event, context):
            raise AssertionError("the resolver must not see the body")

    handler = lambda_entrypoint(Exploding())  # type: ignore[arg-type]
    _, event = api_event("PUT", LEVERAGE, raw_body="[" * 40 + "]" * 40, user=USER_A)
    from local.events import LocalLambdaContext

    response = handler(event, LocalLambdaContext(function_name="ExchangeFunction"))
    assert (response["statusCode"], json.loads(response["body"])) == (400, MALFORMED)
    assert response["multiValueHeaders"]["Cache-Control"] == ["no-store"]


NOT_NUMBERS = [True, False, "NaN", "Infinity", "abc", "", " 1", "1_000", "0x10", [1], {"v": 1}]


@pytest.mark.parametrize("value", NOT_NUMBERS)
@pytest.mark.parametrize(
    "field", ["amount", "price", "stopTriggerPrice", "stopPrice", "callbackRate", "riskProfilePercent"]
)
def test_an_order_number_that_is_not_a_number_is_422_on_its_field(aws, field, value):
    status, body, _ = call("POST", ORDER, user=USER_A, body={**REFERENCE_ORDER, field: value})
    assert status == 422
    assert {"value": value, "msg": "must be a number", "param": field, "location": "body"} in body["errors"]


@pytest.mark.parametrize(
    ("literal", "echoed"),
    [("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity"), ("1e309", "Infinity")],
)
def test_non_finite_json_literals_are_422_and_the_answer_stays_valid_json(aws, literal, echoed):
    raw = json.dumps(REFERENCE_ORDER).replace('"amount": "0.05"', f'"amount": {literal}')
    assert literal in raw
    function, event = api_event("POST", ORDER, raw_body=raw, user=USER_A)
    response = invoke(function, event)
    assert response["statusCode"] == 422
    # Strict JSON: NaN/Infinity must not leak into the answer.
    body = json.loads(response["body"], parse_constant=lambda name: pytest.fail(f"{name} in the answer"))
    assert body == {
        "errors": [{"value": echoed, "msg": "must be a number", "param": "amount", "location": "body"}]
    }


def test_a_take_profit_that_is_not_a_number_is_422_on_its_position(aws):
    raw = json.dumps({**REFERENCE_ORDER, "takeProfitPrices": [19250, "x", True]})
    status, body, _ = call("POST", ORDER, user=USER_A, raw_body=raw.replace('"x"', "NaN"))
    assert status == 422
    assert body == {
        "errors": [
            {"value": "NaN", "msg": "must be a number", "param": "takeProfitPrices[1]", "location": "body"},
            {"value": True, "msg": "must be a number", "param": "takeProfitPrices[2]", "location": "body"},
        ]
    }


def test_numbers_beyond_any_float_are_422(aws):
    raw = json.dumps(REFERENCE_ORDER).replace('"amount": "0.05"', '"amount": ' + "9" * 400)
    status, body, _ = call("POST", ORDER, user=USER_A, raw_body=raw)
    assert status == 422
    assert [(e["param"], e["msg"]) for e in body["errors"]] == [("amount", "must be a number")]


def test_the_reference_bounds_hold_for_numeric_strings_too(aws):
    status, body, _ = call(
        "POST",
        ORDER,
        user=USER_A,
        body={**REFERENCE_ORDER, "type": "TRAILING_STOP", "price": "19100", "callbackRate": "5.5"}
        | {"takeProfitPrices": None, "stopTriggerPrice": None, "stopTriggerType": None, "stopPrice": None},
    )
    assert status == 422
    assert body["errors"] == [
        {
            "value": "5.5",
            "msg": "must be less than or equal to 5",
            "param": "callbackRate",
            "location": "body",
        }
    ]


@pytest.mark.parametrize("value", [True, False, 10.5, "10.5", "NaN", "ten", 1e309, None])
def test_leverage_refuses_booleans_and_non_integral_values(aws, value):
    status, body, _ = call("PUT", LEVERAGE, user=USER_A, body={"symbol": "BTC/USDT", "leverage": value})
    assert status == 422
    echoed = "Infinity" if value == 1e309 else value
    assert body["errors"] == [
        {"value": echoed, "msg": "must be an integer", "param": "leverage", "location": "body"}
    ]


@pytest.mark.parametrize("value", [0, 126, "126", 10**30])
def test_leverage_stays_within_1_to_125(aws, value):
    status, body, _ = call("PUT", LEVERAGE, user=USER_A, body={"symbol": "BTC/USDT", "leverage": value})
    assert status == 422
    assert [error["param"] for error in body["errors"]] == ["leverage"]


@pytest.mark.parametrize("symbol", ["x" * 5000, "BTC/USDT\n", 42, True, ["BTC/USDT"]])
def test_symbols_are_bounded_strings(aws, symbol):
    status, body, _ = call("PUT", LEVERAGE, user=USER_A, body={"symbol": symbol, "leverage": 10})
    assert status == 422
    assert [error["param"] for error in body["errors"]] == ["symbol"]


def test_a_bounded_query_limit_refuses_non_integers(aws):
    path = f"/v1/priv/account/exchange/key/{KEY_ID}/balance/history"
    for limit in ["true", "1.5", "NaN", "1e309", "1001", "0"]:
        status, body, _ = call("GET", path, user=USER_A, query={"limit": limit})
        assert (limit, status, [e["param"] for e in body["errors"]]) == (limit, 422, ["limit"])
    status, body, _ = call("GET", path, user=USER_A, query={"start": "2022-W01-1"})
    assert (status, body["errors"][0]["msg"]) == (422, "must be a date (YYYY-MM-DD)")


@pytest.mark.parametrize("field", ["timezone", "lastName", "firstName", "country", "language"])
def test_every_profile_string_is_bounded_and_a_long_one_is_422_on_its_field(aws, field):
    status, body, _ = call("PUT", "/v1/priv/account/profile", user=USER_A, body={field: "A" * 400})
    assert status == 422
    assert [(error["param"], error["location"]) for error in body["errors"]] == [(field, "body")]


@pytest.mark.parametrize(
    "timezone", ["America/" + "x" * 300, "a" * 255, "../../etc/passwd", "/etc/localtime", "America"]
)
def test_a_timezone_that_is_not_an_iana_zone_is_422(aws, timezone):
    status, body, _ = call("PUT", "/v1/priv/account/profile", user=USER_A, body={"timezone": timezone})
    assert (status, body) == (
        422,
        {
            "errors": [
                {
                    "value": timezone,
                    "msg": "must be a valid timezone",
                    "param": "timezone",
                    "location": "body",
                }
            ]
        },
    )


def test_a_real_timezone_still_passes(aws):
    status, body, _ = call("PUT", "/v1/priv/account/profile", user=USER_A, body={"timezone": "Etc/GMT+5"})
    assert (status, body["timezone"]) == (200, "Etc/GMT+5")


def test_a_long_key_id_in_the_path_is_422_not_parsed(aws):
    status, body, _ = call("GET", "/v1/priv/account/exchange/key/" + "a" * 2000 + "/balance", user=USER_A)
    assert (status, body["errors"][0]["msg"], body["errors"][0]["location"]) == (
        422,
        "must be UUID",
        "params",
    )


@pytest.mark.parametrize(
    ("raw", "msg"), [('"a\\u0000b"', "must be printable characters"), ('"\\ud800"', "must be a string")]
)
def test_a_key_name_is_printable_text(aws, raw, msg):
    path = f"/v1/priv/account/exchange/key/{KEY_ID}"
    status, body, _ = call("PUT", path, user=USER_A, raw_body='{"name": ' + raw + "}")
    assert status == 422
    assert [(error["param"], error["msg"]) for error in body["errors"]] == [("name", msg)]


def test_a_lone_surrogate_in_a_profile_name_is_must_be_a_string(aws):
    status, body, _ = call("PUT", "/v1/priv/account/profile", user=USER_A, raw_body='{"lastName": "\\ud800"}')
    assert (status, body["errors"][0]["msg"]) == (422, "must be a string")


def test_a_misspelt_order_field_is_refused_not_ignored(aws):
    """`"stop"` instead of `"stopTriggerPrice"` would otherwise open a position without its stop."""
    misspelt = {key: value for key, value in REFERENCE_ORDER.items() if key != "stopTriggerPrice"}
    status, body, _ = call("POST", ORDER, user=USER_A, body={**misspelt, "stop": 19000})
    assert status == 422
    assert {
        "value": 19000,
        "msg": "is not a field of this request",
        "param": "stop",
        "location": "body",
    } in body["errors"]
