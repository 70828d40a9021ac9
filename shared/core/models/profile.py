from __future__ import annotations

from core.models.base import Model


class Profile(Model):
    first_name: str | None = None
    last_name: str | None = None
    country: str | None = None
    language: str | None = None
    timezone: str | None = None
    created_at: str
    updated_at: str


PROFILE_FIELDS = ("first_name", "last_name", "country", "language", "timezone")
