"""Notification rules without AWS: report periods and totals, signed links, what alerts say, once-only sends."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.models.notifications import AlertKind, AlertMethod, NotificationSettings, ReportKind
from core.models.trading import EntryType, Side, TradeRecord
from core.notify.links import UnsubscribeLinks
from core.schemas.trade_event import TradeEventEnvelope
from core.services.alerts import AlertOutcome, AlertService, PermanentSendError, event_key, fill_result
from core.services.notification_texts import AlertFacts, render_alert
from core.services.reports import report_period, summarize

MONDAY_RUN = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)  # a Monday, when the weekly schedule fires
FIRST_RUN = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)  # the 1st, when the monthly one fires


# ---------------------------------------------------------------- report periods and totals
@pytest.mark.parametrize(
    ("zone", "first", "last"),
    [
        ("UTC", date(2026, 11, 23), date(2026, 11, 29)),  # Monday to Sunday
        ("America/New_York", date(2026, 11, 23), date(2026, 11, 29)),  # still Sunday evening there
        ("Asia/Riyadh", date(2026, 11, 23), date(2026, 11, 29)),  # Monday 03:30 there
    ],
)
def test_a_weekly_report_covers_the_seven_local_days_that_just_ended(zone, first, last):
    period = report_period(ReportKind.WEEKLY, MONDAY_RUN, ZoneInfo(zone))
    assert (period.first_day, period.last_day) == (first, last)
    assert (period.end - period.start).days == 7
    assert period.start.tzinfo == ZoneInfo(zone)


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles", "Asia/Tokyo"])
def test_a_monthly_report_covers_the_calendar_month_that_just_ended(zone):
    period = report_period(ReportKind.MONTHLY, FIRST_RUN, ZoneInfo(zone))
    assert (period.first_day, period.last_day) == (date(2026, 11, 1), date(2026, 11, 30))
    assert period.snapshot_days == (date(2026, 11, 1), date(2026, 12, 1))  # the morning after is the end


def _closed(symbol: str, pnl: float | None) -> TradeRecord:
    return TradeRecord(
        user_id="u",
        key_id="k",
        trade_id=f"t-{symbol}-{pnl}",
        symbol=symbol,
        side=Side.BUY,
        entry_type=EntryType.MARKET,
        created_at="2026-11-24T10:00:00.000Z",
        closed_at="2026-11-25T10:00:00.000Z",
        realized_pnl=pnl,
    )


def test_a_report_counts_wins_losses_and_names_the_best_and_the_worst_trade():
    period = report_period(ReportKind.WEEKLY, MONDAY_RUN, ZoneInfo("UTC"))
    trades = [_closed("BTC/USDT", 12.5), _closed("ETH/USDT", -4.0), _closed("BNB/USDT", 0.0)]
    facts = summarize(
        ReportKind.WEEKLY, period, [(date(2026, 11, 23), 1000.0), (date(2026, 11, 30), 1008.5)], trades
    )
    assert (facts.trades, facts.wins, facts.losses, facts.realized_pnl) == (3, 1, 1, 8.5)
    assert facts.best == ("BTC/USDT", 12.5)
    assert facts.worst == ("ETH/USDT", -4.0)
    assert (facts.balance_start, facts.balance_end) == (1000.0, 1008.5)


def test_a_quiet_period_has_a_report_without_trades_or_balances():
    period = report_period(ReportKind.WEEKLY, MONDAY_RUN, ZoneInfo("UTC"))
    facts = summarize(ReportKind.WEEKLY, period, [], [])
    assert (facts.trades, facts.best, facts.balance_start) == (0, None, None)


# ---------------------------------------------------------------- signed unsubscribe links
def test_an_unsubscribe_link_names_its_user_and_setting_and_cannot_be_forged_or_moved():
    links = UnsubscribeLinks("secret-one", "https://api.example.com/dev")
    token = links.token("user-1", "weekly_report")
    assert links.verify(token) == ("user-1", "weekly_report")
    assert links.url("user-1", "weekly_report").startswith(
        "https://api.example.com/dev/v1/pub/notification/unsubscribe?token="
    )
    payload, signature = token.split(".")
    other = links.token("user-2", "weekly_report").split(".")[0]
    assert links.verify(f"{other}.{signature}") is None  # another user's payload with this signature
    assert links.verify(f"{payload}.{signature[:-1]}A") is None
    assert UnsubscribeLinks("secret-two", "https://x").verify(token) is None
    for garbage in (
        "",
        "a.b.c",
        None,
        42,
        "x" * 600,
        "bm90LWpzb24.sig",
        f"{payload}.\u00e9",
        "\u00e9.\u00e9",
    ):
        assert links.verify(garbage) is None


# ---------------------------------------------------------------- what an alert says
def test_an_arabic_alert_reads_right_to_left_in_the_users_time_zone():
    facts = AlertFacts(
        kind=AlertKind.TAKE_PROFIT,
        symbol="BTC/USDT",
        side="BUY",
        amount=0.025,
        price=19250.0,
        at=datetime(2026, 12, 2, 10, 0, tzinfo=UTC),
        result=1.25,
        strategy_name="BTC Trend",
        take_profit_index=1,
    )
    arabic = render_alert(facts, "AR", ZoneInfo("Asia/Riyadh"), "https://x/unsubscribe")
    assert 'dir="rtl"' in arabic.html
    assert arabic.telegram.startswith("\u200f")
    assert "2026-12-02 13:00 (Asia/Riyadh)" in arabic.text  # UTC+3
    assert "+1.25 USD" in arabic.text
    assert "BTC Trend" in arabic.text
    english = render_alert(facts, "EN", ZoneInfo("UTC"), None)
    assert english.subject == "Take profit filled #1: Buy 0.025 BTC/USDT"
    assert 'dir="ltr"' in english.html
    assert "unsubscribe" not in english.html


def test_a_fill_result_is_signed_by_the_trades_side():
    assert fill_result("BUY", 19200.0, 19250.0, 0.025) == 1.25
    assert fill_result("SELL", 19200.0, 19250.0, 0.025) == -1.25
    assert fill_result("BUY", None, 19250.0, 0.025) is None


# ---------------------------------------------------------------- once per event and channel
class _Notifications:
    def __init__(self, settings: NotificationSettings | None, chat_id: int | None) -> None:
        self.settings, self.chat_id = settings, chat_id
        self.markers: dict[str, str] = {}

    def get_settings(self, user_id: str) -> NotificationSettings | None:
        return self.settings

    def get_method(self, user_id: str) -> AlertMethod | None:
        return AlertMethod(
            user_id=user_id,
            telegram_auth_code="abcdefgh",
            telegram_chat_id=self.chat_id,
            created_at="t",
            updated_at="t",
        )

    def claim_once(self, key: str, lease_seconds: int, keep_days: int) -> bool:
        if key in self.markers:
            return False
        self.markers[key] = "CLAIMED"
        return True

    def complete_once(self, key: str) -> None:
        self.markers[key] = "DONE"

    def release_once(self, key: str) -> None:
        del self.markers[key]


class _Nothing:
    def get(self, *_: Any) -> None:
        return None

    def get_strategy(self, _: str) -> None:
        return None


class _Channel:
    def __init__(self, failures: list[Exception] | None = None) -> None:
        self.sent: list[Any] = []
        self.failures = failures or []

    def _deliver(self, item: Any) -> int:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(item)
        return len(self.sent)

    def send(self, message: Any) -> str:
        return str(self._deliver(message))

    def send_message(self, chat_id: int, text: str, parse_mode: str | None = "HTML") -> int:
        return self._deliver((chat_id, text))

    def send_photo(
        self, chat_id: int, png: bytes, caption: str | None = None, parse_mode: str | None = "HTML"
    ) -> int:
        return self._deliver((chat_id, caption))


class _Directory:
    def email_of(self, user_id: str) -> str | None:
        return "a@example.com"

    def users(self) -> Any:
        return iter(())


def _service(
    notifications: _Notifications, mailer: _Channel, bot: _Channel, counted: list[str]
) -> AlertService:
    return AlertService(
        notifications=notifications,  # type: ignore[arg-type]
        profiles=_Nothing(),  # type: ignore[arg-type]
        trades=_Nothing(),  # type: ignore[arg-type]
        catalog=_Nothing(),  # type: ignore[arg-type]
        directory=_Directory(),
        mailer=mailer,
        bot=lambda: bot,
        unsubscribe_url=lambda user, setting: f"https://x/u?{user}&{setting}",
        count=counted.append,
    )


def _event(detail_type: str = "Order Placed", event_id: str = "e-1", **detail: Any) -> TradeEventEnvelope:
    return TradeEventEnvelope.model_validate(
        {
            "id": event_id,
            "detail-type": detail_type,
            "source": "trading-api.trades",
            "time": "2026-12-02T10:00:00Z",
            "detail": {
                "userId": "u",
                "tradeId": "t",
                "symbol": "BTC/USDT",
                "side": "BUY",
                "amount": 0.05,
                **detail,
            },
        }
    )


def test_an_event_delivered_twice_is_alerted_once_per_channel():
    notifications = _Notifications(NotificationSettings(telegram_new_order=True), chat_id=1001)
    mailer, bot, counted = _Channel(), _Channel(), []
    service = _service(notifications, mailer, bot, counted)
    first = service.handle(_event(event_id="e-1"))
    again = service.handle(_event(event_id="e-2"))  # the same event published again: another EventBridge id
    assert first == {"EMAIL": AlertOutcome.SENT, "TELEGRAM": AlertOutcome.SENT}
    assert again == {"EMAIL": AlertOutcome.DUPLICATE, "TELEGRAM": AlertOutcome.DUPLICATE}
    assert len(mailer.sent) == 1
    assert len(bot.sent) == 1
    assert mailer.sent[0].headers["List-Unsubscribe"] == "<https://x/u?u&email_new_order>"


def test_settings_decide_the_channels_and_take_profits_are_told_apart():
    notifications = _Notifications(None, chat_id=1001)  # never stored: email on, Telegram off
    mailer, bot = _Channel(), _Channel()
    service = _service(notifications, mailer, bot, [])
    assert service.handle(_event()) == {"EMAIL": AlertOutcome.SENT, "TELEGRAM": AlertOutcome.OFF}
    service.handle(_event("Take Profit Filled", index=1, price=19250))
    service.handle(_event("Take Profit Filled", index=2, price=19300))
    assert len(mailer.sent) == 3
    assert bot.sent == []
    assert event_key(_event("Take Profit Filled", index=2), AlertKind.TAKE_PROFIT) == "u#t#TP2"
    assert service.handle(_event("Trade Closed")) == {}  # not an alert's event


def test_a_failed_send_is_retried_and_a_final_refusal_is_counted_not_retried():
    notifications = _Notifications(NotificationSettings(telegram_new_order=True), chat_id=1001)
    mailer = _Channel(failures=[ConnectionError("SES unreachable")])
    bot, counted = _Channel(failures=[PermanentSendError("bot was blocked")]), []
    service = _service(notifications, mailer, bot, counted)
    with pytest.raises(ConnectionError):
        service.handle(_event())  # the queue retries the record
    assert mailer.sent == []
    assert "u#t#ORDER#EMAIL" not in {k.removeprefix("ALERT#") for k in notifications.markers}
    retried = service.handle(_event())
    assert retried == {"EMAIL": AlertOutcome.SENT, "TELEGRAM": AlertOutcome.UNDELIVERABLE}
    assert sorted(counted) == ["AlertSent", "AlertUndeliverable"]
    assert service.handle(_event()) == {"EMAIL": AlertOutcome.DUPLICATE, "TELEGRAM": AlertOutcome.DUPLICATE}
