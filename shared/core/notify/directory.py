"""The user pool as the directory of users: an address to write to, and every user for the reports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from core import aws_clients
from core.models.notify import DirectoryUser


def _attribute(user: dict[str, Any], name: str) -> str | None:
    attributes = user.get("Attributes") or user.get("UserAttributes") or []
    return next((a["Value"] for a in attributes if a["Name"] == name), None)


class CognitoUserDirectory:
    def __init__(self, user_pool_id: str) -> None:
        self._user_pool_id = user_pool_id

    @property
    def _client(self) -> Any:
        return aws_clients.client("cognito-idp")

    def email_of(self, user_id: str) -> str | None:
        """The user's verified email (the pool's username is the ``sub``), None for an unknown or disabled user."""
        try:
            user = self._client.admin_get_user(UserPoolId=self._user_pool_id, Username=user_id)
        except self._client.exceptions.UserNotFoundException:
            return None
        if not user.get("Enabled", True):
            return None
        return _attribute(user, "email")

    def users(self) -> Iterator[DirectoryUser]:
        """Every enabled user with an email, page by page (60 a page, the API's maximum)."""
        paginator = self._client.get_paginator("list_users")
        for page in paginator.paginate(UserPoolId=self._user_pool_id, AttributesToGet=["email", "sub"]):
            for user in page.get("Users", []):
                email, sub = _attribute(user, "email"), _attribute(user, "sub")
                if user.get("Enabled", True) and email and sub:
                    yield DirectoryUser(user_id=sub, email=email)
