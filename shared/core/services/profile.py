"""The caller's own profile: read it, change some of its fields."""

from __future__ import annotations

from collections.abc import Mapping

from core.models.profile import PROFILE_FIELDS, Profile
from core.repositories.profile import ProfileRepository
from core.timeutil import iso_now


class ProfileService:
    def __init__(self, profiles: ProfileRepository) -> None:
        self._profiles = profiles

    def get(self, user_id: str) -> Profile | None:
        """None until the first update."""
        return self._profiles.get(user_id)

    def update(self, user_id: str, changes: Mapping[str, str | None]) -> Profile:
        """Partial update: only the given fields change; ``None`` clears a field. The first update creates it."""
        unknown = set(changes) - set(PROFILE_FIELDS)
        if unknown:
            raise ValueError(f"not profile fields: {sorted(unknown)}")
        return self._profiles.apply_changes(user_id, changes, now=iso_now())
