"""Annotated input types whose failures carry the reference's own messages.

A validator raises ``PydanticCustomError`` with the exact ``msg`` the API documents, so the 422 mapper
never rewrites text for these.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, StrictStr
from pydantic_core import PydanticCustomError

from core.reference.countries import ISO_3166_ALPHA_2

# Every string the API accepts is bounded: these are far above any real value.
MAX_NAME_LENGTH = 64
# The longest IANA zone name is 32 characters (America/Argentina/ComodRivadavia).
MAX_TIMEZONE_LENGTH = 64
# An IANA zone name: path segments of letters, digits, "_", "-" and "+" (Etc/GMT+5, America/Port-au-Prince).
_TIMEZONE = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*")


def _uuid(value: str) -> str:
    if len(value) != 36:  # the canonical form, and nothing long reaches the parser
        raise PydanticCustomError("uuid", "must be UUID")
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
    # Only the shape of a zone name reaches ZoneInfo: no absolute or relative paths, no overlong names
    # (the file system refuses those with an OSError), no NUL; "localtime" style keys are not zones a
    # user picks.
    invalid = PydanticCustomError("timezone", "must be a valid timezone")
    if (
        len(value) > MAX_TIMEZONE_LENGTH
        or not _TIMEZONE.fullmatch(value)
        or value in {"localtime", "Factory", "posixrules"}
    ):
        raise invalid
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError, UnicodeError):
        raise invalid from None
    return value


Uuid = Annotated[StrictStr, AfterValidator(_uuid)]
AlphaName = Annotated[StrictStr, Field(max_length=MAX_NAME_LENGTH), AfterValidator(_alpha)]
CountryCode = Annotated[StrictStr, AfterValidator(_country)]
LanguageCode = Annotated[StrictStr, AfterValidator(_language)]
TimezoneName = Annotated[StrictStr, AfterValidator(_timezone)]
