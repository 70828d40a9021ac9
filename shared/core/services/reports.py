"""Weekly and monthly reports (notifications.md): the period's balance, its closed trades, a chart.

The schedule only lists the users (the user pool) and queues one message per user; a worker builds and
sends each report, so ten thousand users spread over as many invocations as the queue needs, and one
user's failure is retried on its own. A report is sent once per user, period and channel.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from core.models.notifications import Channel, NotificationSettings, ReportKind
from core.models.notify import InlineImage, OutgoingEmail
from core.models.trading import Origin, TradeRecord
from core.notify.links import unsubscribe_headers
from core.observability import logger
from core.ports import ChatSender, Mailer, UserDirectory
from core.repositories.balance_snapshots import BalanceSnapshotRepository
from core.repositories.exchange_keys import ExchangeKeyRepository
from core.repositories.notifications import NotificationRepository
from core.repositories.profile import ProfileRepository
from core.repositories.trade_history import TradeRepository
from core.services.notification_texts import ReportFacts, language_of, render_report, zone_of
from core.services.once import send_once
from core.services.telegram_chats import GoneChats
from core.timeutil import to_iso

SEND_LEASE_SECONDS = 300
KEEP_SENT_DAYS = 62
CHART_CID = "balance-chart"
# Trades are listed by their creation; one closed in the period was opened at most this long before it.
LONGEST_TRADE = timedelta(days=92)
HISTORY_PAGE = 500


class ReportRequest(BaseModel):
    """One queued report: whose, which, and when the schedule fired."""

    kind: ReportKind
    userId: str
    email: str | None = None
    runAt: datetime


@dataclass(frozen=True)
class Period:
    first_day: date
    last_day: date
    start: datetime  # first_day's midnight in the user's zone
    end: datetime  # the midnight after last_day

    @property
    def snapshot_days(self) -> tuple[date, date]:
        """The snapshot taken the morning after the last day is the balance at the period's end."""
        return self.first_day, self.last_day + timedelta(days=1)


def report_period(kind: ReportKind, run_at: datetime, zone: ZoneInfo) -> Period:
    """The 7 days (weekly) or the calendar month (monthly) that ended at the user's local midnight nearest
    the run: at Monday 00:30 UTC that is Sunday night in UTC and west of it as far as UTC-12, and Monday's
    beginning east of it."""
    reference = (run_at.astimezone(zone) + timedelta(hours=12)).date()  # the nearest local midnight's date
    last_day = reference - timedelta(days=1)
    first_day = last_day - timedelta(days=6) if kind is ReportKind.WEEKLY else last_day.replace(day=1)
    start = datetime.combine(first_day, time(), zone)
    end = datetime.combine(last_day + timedelta(days=1), time(), zone)
    return Period(first_day, last_day, start, end)


def summarize(
    kind: ReportKind, period: Period, balances: list[tuple[date, float]], trades: list[TradeRecord]
) -> ReportFacts:
    closed = [t for t in trades if t.realized_pnl is not None]
    ranked = sorted(closed, key=lambda t: t.realized_pnl or 0.0)
    return ReportFacts(
        kind=kind,
        first_day=period.first_day,
        last_day=period.last_day,
        balance_start=balances[0][1] if balances else None,
        balance_end=balances[-1][1] if balances else None,
        trades=len(trades),
        wins=sum(1 for t in closed if (t.realized_pnl or 0) > 0),
        losses=sum(1 for t in closed if (t.realized_pnl or 0) < 0),
        realized_pnl=round(sum(t.realized_pnl or 0.0 for t in closed), 8),
        best=(ranked[-1].symbol, ranked[-1].realized_pnl or 0.0) if ranked else None,
        worst=(ranked[0].symbol, ranked[0].realized_pnl or 0.0) if ranked else None,
    )


class ReportScheduler:
    """The schedule's part: a message per user of the pool on the report queue."""

    def __init__(self, directory: UserDirectory, send_batch: Callable[[list[str]], None]) -> None:
        self._directory = directory
        self._send_batch = send_batch

    def schedule(self, kind: ReportKind, run_at: datetime) -> int:
        queued, batch = 0, []
        for user in self._directory.users():
            request = ReportRequest(kind=kind, userId=user.user_id, email=user.email, runAt=run_at)
            batch.append(request.model_dump_json())
            if len(batch) == 10:  # SQS's batch size
                self._send_batch(batch)
                queued, batch = queued + len(batch), []
        if batch:
            self._send_batch(batch)
            queued += len(batch)
        logger.info("reports queued", extra={"report": kind.value, "users": queued})
        return queued


class ReportService:
    def __init__(
        self,
        notifications: NotificationRepository,
        profiles: ProfileRepository,
        keys: ExchangeKeyRepository,
        snapshots: BalanceSnapshotRepository,
        trades: TradeRepository,
        directory: UserDirectory,
        mailer: Mailer,
        bot: Callable[[], ChatSender | None],
        chart: Callable[[list[tuple[date, float]]], bytes],
        unsubscribe_url: Callable[[str, str], str],
        count: Callable[[str], None],
        is_permanent: Callable[[Exception], bool] = lambda error: False,
        chat_is_gone: Callable[[Exception], bool] = lambda error: False,
    ) -> None:
        self._is_permanent = is_permanent
        self._gone_chats = GoneChats(notifications, chat_is_gone, count)
        self._notifications = notifications
        self._profiles = profiles
        self._keys = keys
        self._snapshots = snapshots
        self._trades = trades
        self._directory = directory
        self._mailer = mailer
        self._bot = bot
        self._chart = chart
        self._unsubscribe_url = unsubscribe_url
        self._count = count

    def send(self, request: ReportRequest) -> dict[str, str]:
        user_id = request.userId
        settings = self._notifications.get_settings(user_id) or NotificationSettings()
        if not settings.enabled(request.kind.setting):
            return {"EMAIL": "OFF", "TELEGRAM": "OFF"}
        profile = self._profiles.get(user_id)
        language = language_of(profile.language if profile else None)
        zone = zone_of(profile.timezone if profile else None)
        period = report_period(request.kind, request.runAt, zone)
        balances = self.daily_balances(user_id, *period.snapshot_days)
        facts = summarize(request.kind, period, balances, list(self.closed_trades(user_id, period)))
        chart = self._chart(balances)
        key = f"REPORT#{user_id}#{request.kind.value}#{period.first_day.isoformat()}"
        outcomes = {"EMAIL": "OFF", "TELEGRAM": "OFF"}
        email = request.email or self._directory.email_of(user_id)
        if email:
            url = self._unsubscribe_url(user_id, request.kind.setting)
            rendered = render_report(facts, language, url, CHART_CID)
            message = OutgoingEmail(
                to=email,
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
                headers=unsubscribe_headers(url),
                images=(InlineImage(CHART_CID, chart),),
            )
            outcomes["EMAIL"] = self._once(f"{key}#{Channel.EMAIL.value}", lambda: self._mailer.send(message))
        method = self._notifications.get_method(user_id)
        chat_id = method.telegram_chat_id if method is not None else None
        bot = self._bot() if chat_id is not None else None
        if chat_id is not None and bot is not None:
            assert method is not None
            rendered = render_report(facts, language, None, None)
            linked = method

            def to_telegram() -> None:
                self._gone_chats.send(
                    linked,
                    lambda: bot.send_photo(
                        chat_id, chart, caption=rendered.telegram[:1024], parse_mode="HTML"
                    ),
                )

            outcomes["TELEGRAM"] = self._once(
                f"{key}#{Channel.TELEGRAM.value}", to_telegram, permanent=self._is_permanent
            )
        logger.info("report", extra={"report": request.kind.value, **outcomes})
        return outcomes

    def _once(
        self, key: str, send: Callable[[], object], permanent: Callable[[Exception], bool] = lambda e: False
    ) -> str:
        """Sends once; ``permanent``: the refusals no retry changes (Telegram's), answered UNDELIVERABLE (a
        chat that is gone is unlinked)."""
        delivery = send_once(
            self._notifications,
            key,
            SEND_LEASE_SECONDS,
            KEEP_SENT_DAYS,
            send,
            permanent,
            self._count,
            "Report",
        )
        return delivery.value

    def daily_balances(self, user_id: str, first: date, last: date) -> list[tuple[date, float]]:
        """The user's total balance per day with snapshots (every key's summed), oldest first."""
        totals: dict[date, float] = {}
        for key in self._keys.list(user_id):
            start_key: Any = None
            while True:
                page = self._snapshots.page(key.id, first.isoformat(), 1000, start_key)
                for snapshot in page.snapshots:
                    day = date.fromisoformat(snapshot.date)
                    if first <= day <= last:
                        totals[day] = totals.get(day, 0.0) + float(snapshot.total_usd)
                start_key = page.next_start_key
                if start_key is None:
                    break
        return [(day, round(total, 2)) for day, total in sorted(totals.items())]

    def closed_trades(self, user_id: str, period: Period) -> Iterator[TradeRecord]:
        """The trades, manual and automated, that closed in the period."""
        since, until = to_iso(period.start), to_iso(period.end)
        opened_from = to_iso(period.start - LONGEST_TRADE)
        for origin in (Origin.MANUAL, Origin.STRATEGY):
            start_key: Any = None
            while True:
                page = self._trades.history(user_id, origin, opened_from, HISTORY_PAGE, start_key)
                for record in page.records:
                    if record.closed_at and since <= record.closed_at < until:
                        yield record
                start_key = page.next_start_key
                if start_key is None:
                    break


def parse_request(body: str) -> ReportRequest:
    return ReportRequest.model_validate(json.loads(body))
