from __future__ import annotations

from pydantic import BaseModel

from core.api.fields import AlphaName, CountryCode, LanguageCode, TimezoneName
from core.models.profile import Profile


class ProfileUpdate(BaseModel):
    """PUT body: every field optional; a field sent as null is cleared."""

    lastName: AlphaName | None = None
    firstName: AlphaName | None = None
    country: CountryCode | None = None
    language: LanguageCode | None = None
    timezone: TimezoneName | None = None

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


class ProfileOut(BaseModel):
    lastName: str | None
    firstName: str | None
    country: str | None
    language: str | None
    timezone: str | None
    createdAt: str
    updatedAt: str

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
