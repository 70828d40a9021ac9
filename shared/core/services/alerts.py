"""Alerts (notifications.md): each new order, take profit and stop loss, by email and Telegram as the user chose.

One alert per event and channel even when the event arrives twice: a channel's send is claimed under the
event's natural key (the trade, what happened to it, the channel) before it is sent, and marked done after.
A send that fails releases its claim and raises, so the queue retries it (the channels already sent stay
sent); a channel that can never succeed (a blocked bot, a deleted chat) is counted and dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from core.models.notifications import AlertKind, Channel, NotificationSettings
from core.models.notify import OutgoingEmail
from core.models.trading import Side
from core.notify.links import unsubscribe_headers
from core.observability import logger
from core.ports import ChatSender, Mailer, UserDirectory
from core.repositories.catalog import CatalogRepository
from core.repositories.notifications import NotificationRepository
from core.repositories.profile import ProfileRepository
from core.repositories.trade_history import TradeRepository
from core.schemas.trade_event import TradeEventEnvelope
from core.services.notification_texts import AlertFacts, language_of, render_alert, zone_of
from core.services.once import send_once
from core.services.telegram_chats import GoneChats
from core.timeutil import iso_now

SEND_LEASE_SECONDS = 120
KEEP_SENT_DAYS = 14


class AlertOutcome(StrEnum):
    SENT = "SENT"
    DUPLICATE = "DUPLICATE"
    OFF = "OFF"
    UNDELIVERABLE = "UNDELIVERABLE"


def event_key(envelope: TradeEventEnvelope, kind: AlertKind) -> str:
    """The same event published twice has the same key (the EventBridge id would differ)."""
    detail = envelope.detail
    suffix = {
        AlertKind.NEW_ORDER: "ORDER",
        AlertKind.TAKE_PROFIT: f"TP{detail.index}",
        AlertKind.STOP_LOSS: "SL",
    }
    return f"{detail.userId}#{detail.tradeId}#{suffix[kind]}"


def fill_result(side: str, entry: float | None, price: float | None, amount: float | None) -> float | None:
    """What closing ``amount`` at ``price`` realized against the entry, before fees."""
    if entry is None or price is None or amount is None:
        return None
    direction = 1.0 if side == Side.BUY.value else -1.0
    return round((price - entry) * amount * direction, 8)


class PermanentSendError(Exception):
    """A channel that will never accept this message (a blocked bot, a chat that is gone)."""


class AlertService:
    def __init__(
        self,
        notifications: NotificationRepository,
        profiles: ProfileRepository,
        trades: TradeRepository,
        catalog: CatalogRepository,
        directory: UserDirectory,
        mailer: Mailer,
        bot: Callable[[], ChatSender | None],
        unsubscribe_url: Callable[[str, str], str],
        count: Callable[[str], None],
        is_permanent: Callable[[Exception], bool] = lambda error: isinstance(error, PermanentSendError),
        chat_is_gone: Callable[[Exception], bool] = lambda error: False,
        now: Callable[[], str] = iso_now,
    ) -> None:
        self._gone_chats = GoneChats(notifications, chat_is_gone, count, now)
        self._notifications = notifications
        self._profiles = profiles
        self._trades = trades
        self._catalog = catalog
        self._directory = directory
        self._mailer = mailer
        self._bot = bot
        self._unsubscribe_url = unsubscribe_url
        self._count = count
        self._is_permanent = is_permanent

    def handle(self, envelope: TradeEventEnvelope) -> dict[Channel, AlertOutcome]:
        try:
            kind = AlertKind(envelope.detail_type)
        except ValueError:
            return {}  # not an alert's event
        detail = envelope.detail
        settings = self._notifications.get_settings(detail.userId) or NotificationSettings()
        wants_email = settings.enabled(kind.email_setting)
        method = (
            self._notifications.get_method(detail.userId) if settings.enabled(kind.telegram_setting) else None
        )
        chat_id = method.telegram_chat_id if method is not None else None
        outcomes: dict[Channel, AlertOutcome] = {
            Channel.EMAIL: AlertOutcome.OFF,
            Channel.TELEGRAM: AlertOutcome.OFF,
        }
        if not wants_email and chat_id is None:
            return outcomes
        profile = self._profiles.get(detail.userId)
        language = language_of(profile.language if profile else None)
        zone = zone_of(profile.timezone if profile else None)
        facts = self._facts(envelope, kind)
        key = event_key(envelope, kind)
        if wants_email:
            email = self._directory.email_of(detail.userId)
            if email is None:
                outcomes[Channel.EMAIL] = AlertOutcome.UNDELIVERABLE
            else:
                url = self._unsubscribe_url(detail.userId, kind.email_setting)
                rendered = render_alert(facts, language, zone, url)
                message = OutgoingEmail(
                    to=email,
                    subject=rendered.subject,
                    text=rendered.text,
                    html=rendered.html,
                    headers=unsubscribe_headers(url),
                )
                outcomes[Channel.EMAIL] = self._once(f"{key}#EMAIL", lambda: self._mailer.send(message))
        if chat_id is not None:
            bot = self._bot()
            if bot is None:
                outcomes[Channel.TELEGRAM] = AlertOutcome.UNDELIVERABLE
            else:
                text = render_alert(facts, language, zone, None).telegram
                assert method is not None
                linked, sender = method, bot
                outcomes[Channel.TELEGRAM] = self._once(
                    f"{key}#TELEGRAM",
                    lambda: self._gone_chats.send(
                        linked, lambda: sender.send_message(chat_id, text, parse_mode="HTML")
                    ),
                )
        logger.info(
            "alert",
            extra={
                "event": kind.value,
                "trade_id": detail.tradeId,
                **{c.value: o.value for c, o in outcomes.items()},
            },
        )
        return outcomes

    def _once(self, key: str, send: Callable[[], object]) -> AlertOutcome:
        delivery = send_once(
            self._notifications,
            f"ALERT#{key}",
            SEND_LEASE_SECONDS,
            KEEP_SENT_DAYS,
            send,
            self._is_permanent,
            self._count,
            "Alert",
        )
        return AlertOutcome(delivery.value)

    def _facts(self, envelope: TradeEventEnvelope, kind: AlertKind) -> AlertFacts:
        detail = envelope.detail
        strategy_name = None
        if detail.strategyId:
            strategy = self._catalog.get_strategy(detail.strategyId)
            strategy_name = strategy.name if strategy else None
        result = None
        if kind is not AlertKind.NEW_ORDER:
            record = self._trades.get(detail.userId, detail.tradeId)
            result = fill_result(detail.side, record.price if record else None, detail.price, detail.amount)
        return AlertFacts(
            kind=kind,
            symbol=detail.symbol,
            side=detail.side,
            amount=detail.amount,
            price=detail.price,
            at=envelope.time,
            result=result,
            strategy_name=strategy_name,
            take_profit_index=detail.index if kind is AlertKind.TAKE_PROFIT else None,
            stop=detail.stop,
            take_profits=tuple(detail.takeProfit),
        )
