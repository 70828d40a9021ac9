from __future__ import annotations

from collections.abc import Mapping

from pynamodb.attributes import UnicodeAttribute
from pynamodb.expressions.update import Action

from core.models.profile import Profile
from core.repositories.table import MainTableModel, user_partition

PROFILE_SORT_KEY = "PROFILE"


class ProfileItem(MainTableModel):
    first_name = UnicodeAttribute(null=True)
    last_name = UnicodeAttribute(null=True)
    country = UnicodeAttribute(null=True)
    language = UnicodeAttribute(null=True)
    timezone = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


def _profile(item: ProfileItem) -> Profile:
    return Profile(
        first_name=item.first_name,
        last_name=item.last_name,
        country=item.country,
        language=item.language,
        timezone=item.timezone,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


class ProfileRepository:
    def get(self, user_id: str) -> Profile | None:
        try:
            return _profile(ProfileItem.get(user_partition(user_id), PROFILE_SORT_KEY))
        except ProfileItem.DoesNotExist:
            return None

    def apply_changes(self, user_id: str, changes: Mapping[str, str | None], now: str) -> Profile:
        """One UpdateItem: sets or clears the given fields, creating the profile on first use."""
        item = ProfileItem(pk=user_partition(user_id), sk=PROFILE_SORT_KEY)
        actions: list[Action] = [
            ProfileItem.updated_at.set(now),
            ProfileItem.created_at.set(ProfileItem.created_at | now),
        ]
        for field, value in changes.items():
            attribute = getattr(ProfileItem, field)
            actions.append(attribute.remove() if value is None else attribute.set(value))
        item.update(actions=actions)
        return _profile(item)
