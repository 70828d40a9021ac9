from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from core.api.fields import AlphaName, CountryCode, LanguageCode, TimezoneName
from core.models.base import Model
from core.models.profile import Profile
from core.schemas.types import DateTimeText


class ProfileUpdate(Model):
    """PUT body: every field optional; a field sent as null is cleared."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"language": "AR"}]})

    lastName: AlphaName | None = Field(None, description="Last name of the account user (letters only)")
    firstName: AlphaName | None = Field(None, description="First name of the account user (letters only)")
    country: CountryCode | None = Field(
        None, description="Country code of the account user, ISO 3166 alpha-2", examples=["AE"]
    )
    language: Annotated[LanguageCode, Field(json_schema_extra={"enum": ["EN", "AR"]})] | None = Field(
        None, description="Preferred language"
    )
    timezone: TimezoneName | None = Field(
        None, description="Preferred timezone, an IANA zone name", examples=["Asia/Dubai"]
    )

    def changes(self) -> dict[str, str | None]:
        sent = self.model_dump(exclude_unset=True)
        names = {
            "lastName": "last_name",
            "firstName": "first_name",
            "country": "country",
            "language": "language",
            "timezone": "timezone",
        }
        return {names[field]: value for field, value in sent.items()}


class ProfileOut(Model):
    lastName: str | None = Field(description="Last name of the account user")
    firstName: str | None = Field(description="First name of the account user")
    country: str | None = Field(description="Country code of the account user")
    language: str | None = Field(description="Preferred or preset language")
    timezone: str | None = Field(description="Preferred or preset timezone")
    createdAt: DateTimeText = Field(description="Profile created datetime")
    updatedAt: DateTimeText = Field(description="Profile updated datetime")

    @classmethod
    def of(cls, profile: Profile) -> ProfileOut:
        return cls(
            lastName=profile.last_name,
            firstName=profile.first_name,
            country=profile.country,
            language=profile.language,
            timezone=profile.timezone,
            createdAt=profile.created_at,
            updatedAt=profile.updated_at,
        )
