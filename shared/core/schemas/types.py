from __future__ import annotations

from typing import Annotated

from pydantic import PlainSerializer


def _number(value: float) -> int | float:
    # The reference writes whole numbers without a fraction (``"percentage": 2``); JSON clients read both alike.
    return int(value) if float(value).is_integer() else float(value)


JsonNumber = Annotated[float, PlainSerializer(_number, return_type=int | float, when_used="json")]
