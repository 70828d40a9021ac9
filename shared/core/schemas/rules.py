"""Rules across a body's fields, reported together with its type errors (every invalid field at once)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_core.core_schema import ErrorType

_BUILT_IN_ERRORS = frozenset(get_args(ErrorType))
M = TypeVar("M", bound=BaseModel)


def rule_error(message: str, field: str, value: Any) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError("rule", message), loc=(field,), input=value)


def _again(error: Any) -> InitErrorDetails:
    """An error of a failed validation, re-raisable next to the rules' own (custom types keep their message)."""
    if error["type"] in _BUILT_IN_ERRORS:
        return InitErrorDetails(
            type=error["type"], loc=error["loc"], input=error["input"], ctx=error.get("ctx", {})
        )
    return InitErrorDetails(
        type=PydanticCustomError(error["type"], error["msg"]), loc=error["loc"], input=error["input"]
    )


def validate_with_rules(
    name: str, data: Any, handler: Callable[[Any], M], problems: list[InitErrorDetails]
) -> M:
    """Runs a wrap validator's ``handler``, then raises its errors and ``problems`` as one ValidationError."""
    try:
        model = handler(data)
    except ValidationError as error:
        raise ValidationError.from_exception_data(name, [*map(_again, error.errors()), *problems]) from None
    if problems:
        raise ValidationError.from_exception_data(name, problems)
    return model
