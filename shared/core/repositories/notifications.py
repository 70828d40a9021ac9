"""Notification settings, the Telegram link, and the once-only markers of alerts and Telegram updates.

| item                  | PK                      | SK                     | notes                                      |
|-----------------------|-------------------------|------------------------|--------------------------------------------|
| settings              | USER#<sub>              | NOTIFICATION#SETTINGS  | absent until the first PUT                 |
| alert method          | USER#<sub>              | NOTIFICATION#METHOD    | the auth code, the linked chat             |
| auth code             | TELEGRAM_CODE#<code>    | CODE                   | code -> user: unique, found by GetItem     |
| linked chat           | TELEGRAM_CHAT#<chatId>  | CHAT                   | chat -> user: a chat links one user        |
| once marker           | ONCE#<what>             | ONCE                   | an alert sent, an update handled (TTL)     |

The method, its code and its chat change together in one transaction, so a code always names the user
whose method holds it and a chat item always names the user whose method holds that chat.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError, PutError, TransactWriteError
from pynamodb.expressions.update import Action

from core.models.notifications import SETTING_DEFAULTS, TELEGRAM_SETTINGS, AlertMethod, NotificationSettings
from core.repositories.table import MainTableModel, NamedTransaction, condition_failed, user_partition

SETTINGS_SK = "NOTIFICATION#SETTINGS"
METHOD_SK = "NOTIFICATION#METHOD"


class NotificationSettingsItem(MainTableModel):
    weekly_report = BooleanAttribute(null=True)
    monthly_report = BooleanAttribute(null=True)
    email_new_order = BooleanAttribute(null=True)
    email_take_profit = BooleanAttribute(null=True)
    email_stop_loss = BooleanAttribute(null=True)
    telegram_new_order = BooleanAttribute(null=True)
    telegram_take_profit = BooleanAttribute(null=True)
    telegram_stop_loss = BooleanAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class AlertMethodItem(MainTableModel):
    telegram_auth_code = UnicodeAttribute()
    telegram_chat_id = NumberAttribute(null=True)
    telegram_username = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class TelegramCodeItem(MainTableModel):
    user_id = UnicodeAttribute()


class TelegramChatItem(MainTableModel):
    user_id = UnicodeAttribute()


class OnceItem(MainTableModel):
    status = UnicodeAttribute()
    claimed_at = NumberAttribute()
    expires_at = NumberAttribute(attr_name="expiresAt")


class CodeTaken(Exception):
    """The new auth code is another user's: draw another."""


class MethodChanged(Exception):
    """The alert method changed since it was read (a concurrent link or unlink): read it again."""


def _code_item(code: str, user_id: str = "") -> TelegramCodeItem:
    return TelegramCodeItem(pk=f"TELEGRAM_CODE#{code}", sk="CODE", user_id=user_id)


def _chat_item(chat_id: int, user_id: str = "") -> TelegramChatItem:
    return TelegramChatItem(pk=f"TELEGRAM_CHAT#{chat_id}", sk="CHAT", user_id=user_id)


def _settings(item: NotificationSettingsItem) -> NotificationSettings:
    values = {
        field: default if getattr(item, field) is None else bool(getattr(item, field))
        for field, default in SETTING_DEFAULTS.items()
    }
    return NotificationSettings(**values, created_at=item.created_at, updated_at=item.updated_at)


def _method(item: AlertMethodItem) -> AlertMethod:
    return AlertMethod(
        user_id=item.pk.removeprefix("USER#"),
        telegram_auth_code=item.telegram_auth_code,
        telegram_chat_id=int(item.telegram_chat_id) if item.telegram_chat_id is not None else None,
        telegram_username=item.telegram_username,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


class NotificationRepository:
    # ------------------------------------------------------------ settings
    def get_settings(self, user_id: str) -> NotificationSettings | None:
        try:
            return _settings(NotificationSettingsItem.get(user_partition(user_id), SETTINGS_SK))
        except NotificationSettingsItem.DoesNotExist:
            return None

    def update_settings(self, user_id: str, changes: Mapping[str, bool], now: str) -> NotificationSettings:
        """One UpdateItem: the given settings change, the others keep their stored or default values."""
        item = NotificationSettingsItem(pk=user_partition(user_id), sk=SETTINGS_SK)
        actions: list[Action] = [
            NotificationSettingsItem.updated_at.set(now),
            NotificationSettingsItem.created_at.set(NotificationSettingsItem.created_at | now),
        ]
        actions += [getattr(NotificationSettingsItem, field).set(value) for field, value in changes.items()]
        item.update(actions=actions)
        return _settings(item)

    # ------------------------------------------------------------ the alert method and its Telegram link
    def get_method(self, user_id: str) -> AlertMethod | None:
        try:
            return _method(AlertMethodItem.get(user_partition(user_id), METHOD_SK, consistent_read=True))
        except AlertMethodItem.DoesNotExist:
            return None

    def create_method(self, user_id: str, code: str, now: str) -> AlertMethod | None:
        """The user's first method with its code; None when it exists already (a concurrent first read)."""
        item = AlertMethodItem(
            pk=user_partition(user_id), sk=METHOD_SK, telegram_auth_code=code, created_at=now, updated_at=now
        )
        transaction = NamedTransaction()
        transaction.save("method", item, condition=AlertMethodItem.pk.does_not_exist())
        transaction.save("code", _code_item(code, user_id), condition=TelegramCodeItem.pk.does_not_exist())
        try:
            transaction.commit()
        except TransactWriteError as error:
            if transaction.condition_failed(error, "method"):
                return None
            if transaction.condition_failed(error, "code"):
                raise CodeTaken(code) from None
            raise
        return _method(item)

    def user_of_code(self, code: str) -> str | None:
        try:
            return TelegramCodeItem.get(f"TELEGRAM_CODE#{code}", "CODE", consistent_read=True).user_id
        except TelegramCodeItem.DoesNotExist:
            return None

    def user_of_chat(self, chat_id: int) -> str | None:
        try:
            return TelegramChatItem.get(f"TELEGRAM_CHAT#{chat_id}", "CHAT", consistent_read=True).user_id
        except TelegramChatItem.DoesNotExist:
            return None

    def link_chat(
        self,
        method: AlertMethod,
        chat_id: int,
        username: str | None,
        next_code: str,
        now: str,
        replaced_owner: AlertMethod | None,
    ) -> None:
        """Links the chat to ``method``'s user and replaces the used code by ``next_code``, in one transaction:
        the user's previous chat (if another) is released, and the chat's previous owner (another user,
        ``replaced_owner``) loses it with its Telegram alerts. ``MethodChanged`` if either method moved since it
        was read; ``CodeTaken`` if ``next_code`` is another user's."""
        transaction = NamedTransaction()
        item = AlertMethodItem(pk=user_partition(method.user_id), sk=METHOD_SK)
        actions: list[Action] = [
            AlertMethodItem.telegram_auth_code.set(next_code),
            AlertMethodItem.telegram_chat_id.set(chat_id),
            AlertMethodItem.updated_at.set(now),
            AlertMethodItem.telegram_username.set(username)
            if username
            else AlertMethodItem.telegram_username.remove(),
        ]
        transaction.update(
            "method", item, actions, condition=AlertMethodItem.telegram_auth_code == method.telegram_auth_code
        )
        transaction.delete("old-code", _code_item(method.telegram_auth_code))
        transaction.save(
            "new-code", _code_item(next_code, method.user_id), condition=TelegramCodeItem.pk.does_not_exist()
        )
        transaction.save("chat", _chat_item(chat_id, method.user_id))
        if method.telegram_chat_id is not None and method.telegram_chat_id != chat_id:
            transaction.delete(
                "previous-chat",
                _chat_item(method.telegram_chat_id),
                condition=TelegramChatItem.user_id == method.user_id,
            )
        if replaced_owner is not None:
            self._add_unlink(transaction, "replaced", replaced_owner, chat_id, now)
        try:
            transaction.commit()
        except TransactWriteError as error:
            if transaction.condition_failed(error, "new-code"):
                raise CodeTaken(next_code) from None
            if transaction.failed_conditions(error):
                raise MethodChanged(method.user_id) from None
            raise

    def unlink_chat(self, method: AlertMethod, now: str) -> None:
        """The user's chat is released and every Telegram setting turns off, in one transaction."""
        if method.telegram_chat_id is None:
            return
        transaction = NamedTransaction()
        self._add_unlink(transaction, "method", method, method.telegram_chat_id, now)
        transaction.delete(
            "chat", _chat_item(method.telegram_chat_id), condition=TelegramChatItem.user_id == method.user_id
        )
        try:
            transaction.commit()
        except TransactWriteError as error:
            if transaction.failed_conditions(error):
                raise MethodChanged(method.user_id) from None
            raise

    def _add_unlink(
        self, transaction: NamedTransaction, name: str, method: AlertMethod, chat_id: int, now: str
    ) -> None:
        transaction.update(
            name,
            AlertMethodItem(pk=user_partition(method.user_id), sk=METHOD_SK),
            [
                AlertMethodItem.telegram_chat_id.remove(),
                AlertMethodItem.telegram_username.remove(),
                AlertMethodItem.updated_at.set(now),
            ],
            condition=AlertMethodItem.telegram_chat_id == chat_id,
        )
        if self.get_settings(method.user_id) is not None:  # never stored: Telegram is off already
            transaction.update(
                f"{name}-settings",
                NotificationSettingsItem(pk=user_partition(method.user_id), sk=SETTINGS_SK),
                [getattr(NotificationSettingsItem, field).set(False) for field in TELEGRAM_SETTINGS]
                + [NotificationSettingsItem.updated_at.set(now)],
            )

    # ------------------------------------------------------------ once-only markers
    def claim_once(self, key: str, lease_seconds: int, keep_days: int) -> bool:
        """Claims ``key`` for the caller: True unless it was done already or is being done by another
        invocation whose lease has not run out (a crashed claimant's lease runs out; the work is retried)."""
        now = int(time.time())
        item = OnceItem(
            pk=f"ONCE#{key}", sk="ONCE", status="CLAIMED", claimed_at=now, expires_at=now + keep_days * 86400
        )
        try:
            item.save(
                condition=OnceItem.pk.does_not_exist()
                | ((OnceItem.status == "CLAIMED") & (OnceItem.claimed_at < now - lease_seconds))
            )
        except PutError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def complete_once(self, key: str) -> None:
        OnceItem(pk=f"ONCE#{key}", sk="ONCE").update(actions=[OnceItem.status.set("DONE")])

    def release_once(self, key: str) -> None:
        """The claimed work failed: a retry may claim it again at once."""
        try:
            OnceItem(pk=f"ONCE#{key}", sk="ONCE").delete(condition=OnceItem.status == "CLAIMED")
        except DeleteError as error:
            if not condition_failed(error):
                raise
