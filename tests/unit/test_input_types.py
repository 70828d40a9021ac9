"""The API's input number types: finite JSON numbers or numeric strings, never booleans."""

import json
import math
from typing import Annotated

import pytest
from pydantic import BaseModel, Field, ValidationError

from core.api.errors import field_errors_response, to_field_error
from core.schemas.trading import LeverageBody, ManualOrderBody
from core.schemas.types import IntegerInput, NumberInput


class Sample(BaseModel):
    number: Annotated[NumberInput, Field(gt=0)] | None = None
    integer: Annotated[IntegerInput, Field(ge=1, le=125)] | None = None


def errors(**fields) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        Sample(**fields)
    return [
        (str(error["loc"][0]), to_field_error({**error, "loc": ("body", *error["loc"])}).msg)
        for error in caught.value.errors()
    ]


@pytest.mark.parametrize(
    ("value", "parsed"), [(0.05, 0.05), ("0.05", 0.05), (2, 2.0), ("2", 2.0), ("1e3", 1000.0), (".5", 0.5)]
)
def test_numbers_and_numeric_strings_are_accepted(value, parsed):
    assert Sample(number=value).number == parsed


@pytest.mark.parametrize(
    "value",
    [
        True,
        False,
        math.nan,
        math.inf,
        -math.inf,
        json.loads("1e309"),
        10**400,
        "NaN",
        "Infinity",
        "-inf",
        "1e309",
        "abc",
        "",
        " 1",
        "1 ",
        "1_000",
        "0x10",
        "١٢",
        "1" * 41,
        [1],
        {"a": 1},
        b"1",
    ],
)
def test_anything_else_is_must_be_a_number(value):
    assert errors(number=value) == [("number", "must be a number")]


def test_constraints_apply_to_the_parsed_value():
    assert errors(number="-1") == [("number", "must be greater than 0")]


@pytest.mark.parametrize(("value", "parsed"), [(10, 10), (10.0, 10), ("10", 10), ("1e1", 10)])
def test_integers_accept_whole_numbers_and_numeric_strings(value, parsed):
    result = Sample(integer=value).integer
    assert (result, type(result)) == (parsed, int)


@pytest.mark.parametrize("value", [True, False, 10.5, "10.5", math.nan, math.inf, "ten", [10]])
def test_integers_refuse_booleans_and_fractions(value):
    assert errors(integer=value) == [("integer", "must be an integer")]


def test_an_optional_integer_may_be_null():
    assert Sample(integer=None).integer is None  # optional here; required fields say so


def test_integers_out_of_bounds_say_the_bound():
    assert errors(integer=126) == [("integer", "must be less than or equal to 125")]
    assert errors(integer=10**30) == [("integer", "must be less than or equal to 125")]


def test_request_bodies_use_them():
    with pytest.raises(ValidationError):
        LeverageBody(symbol="BTC/USDT", leverage=True)
    order = {"symbol": "BTC/USDT", "type": "MARKET", "side": "BUY"}
    with pytest.raises(ValidationError) as caught:
        ManualOrderBody.model_validate({**order, "amount": True})
    assert [(e["loc"], e["msg"]) for e in caught.value.errors()] == [(("amount",), "must be a number")]
    assert ManualOrderBody.model_validate({**order, "amount": "0.05"}).amount == 0.05


def test_non_finite_values_are_echoed_as_valid_json():
    errors_out = [
        to_field_error(
            {"type": "json_number", "loc": ("body", name), "msg": "must be a number", "input": value}
        )
        for name, value in [("a", math.nan), ("b", math.inf), ("c", -math.inf), ("d", [math.nan, 1])]
    ]
    response = field_errors_response(errors_out)
    body = json.loads(response.body, parse_constant=lambda name: pytest.fail(name))
    assert [error["value"] for error in body["errors"]] == ["NaN", "Infinity", "-Infinity", ["NaN", 1]]
