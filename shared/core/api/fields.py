"""Annotated input types whose failures carry the reference's own messages.

A validator raises ``PydanticCustomError`` with the exact ``msg`` the API documents, so the 422 mapper
never rewrites text for these.
"""

from __future__ import annotations

import uuid
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, StrictStr
from pydantic_core import PydanticCustomError

from core.reference.countries import ISO_3166_ALPHA_2


def _uuid(value: str) -> str:
    try:
        parsed = uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        raise PydanticCustomError("uuid", "must be UUID") from None
    if str(parsed) != value.lower():
        # uuid.UUID also accepts braces, URNs and undashed hex; ids in this API are canonical.
        raise PydanticCustomError("uuid", "must be UUID")
    return value.lower()


def _alpha(value: str) -> str:
    if not value.isalpha():
        raise PydanticCustomError("alpha", "must be alpha character")
    return value


def _country(value: str) -> str:
    if value not in ISO_3166_ALPHA_2:
        raise PydanticCustomError("country", "must be valid country")
    return value


def _language(value: str) -> str:
    if value not in ("EN", "AR"):
        raise PydanticCustomError("language", "must be a valid language")
    return value


def _timezone(value: str) -> str:
    # ZoneInfo rejects relative paths itself; "localtime" style keys are not zones a user picks.
    if not value or value.startswith(("/", ".")) or value in {"localtime", "Factory"}:
        raise PydanticCustomError("timezone", "must be a valid timezone")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, IsADirectoryError, UnicodeEncodeError):
        raise PydanticCustomError("timezone", "must be a valid timezone") from None
    return value


Uuid = Annotated[StrictStr, AfterValidator(_uuid)]
AlphaName = Annotated[StrictStr, AfterValidator(_alpha)]
CountryCode = Annotated[StrictStr, AfterValidator(_country)]
LanguageCode = Annotated[StrictStr, AfterValidator(_language)]
TimezoneName = Annotated[StrictStr, AfterValidator(_timezone)]
