"""The entry point's refusals before any route runs: oversized bodies, JSON nested too deep, non-objects."""

import json

import pytest

from core.api.resolver import MAX_JSON_DEPTH, json_nesting_exceeds, json_object


@pytest.mark.parametrize(
    "text",
    [
        "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1),
        '{"a":' * 5000 + "1" + "}" * 5000,
        "[" * 100_000,  # unterminated: refused without being parsed
        '{"s": "]]]]", "d": ' + "[" * 40 + "]" * 40 + "}",
    ],
)
def test_json_nested_past_the_limit_is_too_deep(text):
    assert json_nesting_exceeds(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{}",
        "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH,
        json.dumps({"a": "[" * 1000, "b": "{" * 1000}),  # brackets inside strings do not count
        json.dumps({"a": '\\"[[[[' * 100}),  # escaped quotes do not end a string
        '"' * 65_000,
        '\\"' * 30_000,
    ],
)
def test_json_within_the_limit_or_with_brackets_in_strings_is_not_too_deep(text):
    assert not json_nesting_exceeds(text)


def test_the_scan_is_linear_even_for_pathological_escapes():
    import time

    started = time.perf_counter()
    for text in ['"\\"' * 21_000, '\\"' * 32_000, '"' + "[" * 60_000, '"' * 65_000]:
        json_nesting_exceeds(text)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("text", ["[]", "[{}]", '"x"', "1", "null", "true"])
def test_only_an_object_is_a_body(text):
    with pytest.raises(json.JSONDecodeError):
        json_object(text)
    assert json_object('{"a": 1}') == {"a": 1}
