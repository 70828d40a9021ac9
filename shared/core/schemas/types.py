"""Annotated types shared by the API's shapes: numbers as the API reads and writes them.

Input numbers are finite JSON numbers or numeric strings (the reference's own example sends
``"amount": "0.05"``). A boolean is never a number, and ``NaN``, ``Infinity``, ``-Infinity``, a literal
that overflows to infinity (``1e309``) or a string that is not a plain decimal number is refused on its
field with ``must be a number`` (``must be an integer`` for integers). Constraints (``Field(gt=0)``, ...)
apply on top, to the parsed value.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer
from pydantic_core import PydanticCustomError

# A numeric string: an optional sign, digits with an optional fraction, an optional exponent. No spaces,
# underscores, hex, non-ASCII digits, "NaN" or "Infinity" (all of which Python's float() would take).
_NUMERIC_STRING = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# No sane amount, price or rate needs more characters than this; a longer string is not a number here.
MAX_NUMERIC_STRING_LENGTH = 40

NOT_A_NUMBER = "must be a number"
NOT_AN_INTEGER = "must be an integer"


def _number(value: float) -> int | float:
    # The reference writes whole numbers without a fraction (``"percentage": 2``); JSON clients read both alike.
    return int(value) if float(value).is_integer() else float(value)


def _finite(value: Any) -> float | None:
    """The finite float a JSON number or numeric string stands for, or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if len(value) > MAX_NUMERIC_STRING_LENGTH or not _NUMERIC_STRING.fullmatch(value):
            return None
    elif not isinstance(value, int | float):
        return None
    try:
        parsed = float(value)
    except (OverflowError, ValueError):  # an integer beyond float's range
        return None
    return parsed if math.isfinite(parsed) else None


def _json_number(value: Any) -> float:
    parsed = _finite(value)
    if parsed is None:
        raise PydanticCustomError("json_number", NOT_A_NUMBER)
    return parsed


def _json_integer(value: Any) -> int:
    parsed = _finite(value)
    if parsed is None or not parsed.is_integer():
        raise PydanticCustomError("json_integer", NOT_AN_INTEGER)
    if isinstance(value, int):
        return value  # exact, even beyond float's 53 bits (a bound on the field refuses it anyway)
    return int(parsed)


JsonNumber = Annotated[float, PlainSerializer(_number, return_type=int | float, when_used="json")]
"""An output number: written without a fraction when it is whole."""

NumberInput = Annotated[float, BeforeValidator(_json_number)]
"""An input number: a finite JSON number or a numeric string, never a boolean; parsed to a float."""

# Formats for the OpenAPI document only: they change neither what is accepted nor what is answered.
DateTimeText = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
"""An ISO 8601 date-time in UTC with milliseconds, as the API writes them (2022-09-09T01:57:36.304Z)."""

DateText = Annotated[str, Field(json_schema_extra={"format": "date"})]
"""A calendar date, YYYY-MM-DD."""

UuidText = Annotated[str, Field(json_schema_extra={"format": "uuid"})]
"""An id the API wrote: a canonical UUID."""

IntegerInput = Annotated[int, BeforeValidator(_json_integer)]
"""An input integer: a whole finite JSON number or numeric string (``10``, ``10.0``, ``"10"``), never a
boolean."""
