"""What alerts, reports and the bot say, in the user's language (EN, or AR written right to left) and time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.models.notifications import AlertKind, ReportKind

RTL_LANGUAGES = {"AR"}

_WORDS: dict[str, dict[str, str]] = {
    "EN": {
        AlertKind.NEW_ORDER: "New order",
        AlertKind.TAKE_PROFIT: "Take profit filled",
        AlertKind.STOP_LOSS: "Stop loss filled",
        "BUY": "Buy",
        "SELL": "Sell",
        "symbol": "Symbol",
        "side": "Side",
        "amount": "Amount",
        "price": "Price",
        "result": "Result",
        "strategy": "Strategy",
        "time": "Time",
        "take_profit": "Take profit",
        "stop": "Stop loss",
        "market": "market",
        ReportKind.WEEKLY: "Weekly report",
        ReportKind.MONTHLY: "Monthly report",
        "period": "Period",
        "balance_start": "Balance at the start",
        "balance_end": "Balance at the end",
        "change": "Change",
        "no_balance": "no balance snapshots in this period",
        "trades": "Trades closed",
        "wins": "Wins",
        "losses": "Losses",
        "pnl": "Realized P&L",
        "best": "Best trade",
        "worst": "Worst trade",
        "quiet": "No trade closed in this period.",
        "chart": "Daily total balance (USD)",
        "unsubscribe": "Stop these emails",
        "settings_hint": "You receive this because of your notification settings.",
        "linked": "This chat is now linked: your trading alerts will arrive here. Send /stop to unlink.",
        "already_linked": "This chat is already linked to your account.",
        "unknown_code": "Sorry, this code is not valid. Copy the code from your notification settings and send /start <code>.",
        "no_code": "To link this chat, send /start followed by the code from your notification settings.",
        "replaced": "This chat was linked to another account; that account no longer receives alerts here.",
        "moved": "Your trading alerts now go to another Telegram chat; this chat is no longer linked.",
        "unlinked": "This chat is unlinked: no more alerts will arrive here. Telegram alerts are turned off.",
        "not_linked": "This chat is not linked to any account.",
        "help": "Send /start <code> to link this chat to your account, /stop to unlink it.",
    },
    "AR": {
        AlertKind.NEW_ORDER: "أمر جديد",
        AlertKind.TAKE_PROFIT: "تم تنفيذ جني الأرباح",
        AlertKind.STOP_LOSS: "تم تنفيذ وقف الخسارة",
        "BUY": "شراء",
        "SELL": "بيع",
        "symbol": "الرمز",
        "side": "الاتجاه",
        "amount": "الكمية",
        "price": "السعر",
        "result": "النتيجة",
        "strategy": "الاستراتيجية",
        "time": "الوقت",
        "take_profit": "جني الأرباح",
        "stop": "وقف الخسارة",
        "market": "سعر السوق",
        ReportKind.WEEKLY: "التقرير الأسبوعي",
        ReportKind.MONTHLY: "التقرير الشهري",
        "period": "الفترة",
        "balance_start": "الرصيد في البداية",
        "balance_end": "الرصيد في النهاية",
        "change": "التغير",
        "no_balance": "لا توجد لقطات رصيد في هذه الفترة",
        "trades": "الصفقات المغلقة",
        "wins": "الرابحة",
        "losses": "الخاسرة",
        "pnl": "الربح والخسارة المحققة",
        "best": "أفضل صفقة",
        "worst": "أسوأ صفقة",
        "quiet": "لم تُغلق أي صفقة في هذه الفترة.",
        "chart": "إجمالي الرصيد اليومي (دولار)",
        "unsubscribe": "إيقاف هذه الرسائل",
        "settings_hint": "تصلك هذه الرسالة بحسب إعدادات الإشعارات لديك.",
        "linked": "تم ربط هذه المحادثة: ستصلك تنبيهات التداول هنا. أرسل /stop لإلغاء الربط.",
        "already_linked": "هذه المحادثة مرتبطة بحسابك بالفعل.",
        "unknown_code": "عذرًا، هذا الرمز غير صالح. انسخ الرمز من إعدادات الإشعارات وأرسل /start <الرمز>.",
        "no_code": "لربط هذه المحادثة، أرسل /start متبوعًا بالرمز من إعدادات الإشعارات.",
        "replaced": "كانت هذه المحادثة مرتبطة بحساب آخر؛ لن يتلقى ذلك الحساب التنبيهات هنا بعد الآن.",
        "moved": "تصل تنبيهات التداول الآن إلى محادثة تيليجرام أخرى؛ لم تعد هذه المحادثة مرتبطة.",
        "unlinked": "تم إلغاء ربط هذه المحادثة: لن تصل تنبيهات بعد الآن، وتم إيقاف تنبيهات تيليجرام.",
        "not_linked": "هذه المحادثة غير مرتبطة بأي حساب.",
        "help": "أرسل /start <الرمز> لربط هذه المحادثة بحسابك، و /stop لإلغاء الربط.",
    },
}


def language_of(code: str | None) -> str:
    return code.upper() if code and code.upper() in _WORDS else "EN"


def zone_of(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def word(language: str, key: str) -> str:
    return _WORDS[language_of(language)].get(key) or _WORDS["EN"][key]


def number(value: float | None, decimals: int = 8) -> str:
    if value is None:
        return "-"
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f} USD"


def signed_money(value: float | None) -> str:
    return "-" if value is None else f"{value:+,.2f} USD"


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} ({zone.key})"


@dataclass(frozen=True)
class Rendered:
    """One message in both forms an email needs, and the Telegram form (Bot API HTML)."""

    subject: str
    text: str
    html: str
    telegram: str


def _html_document(language: str, title: str, body: str, footer: str) -> str:
    direction = "rtl" if language_of(language) in RTL_LANGUAGES else "ltr"
    return (
        f'<!DOCTYPE html><html lang="{language_of(language).lower()}" dir="{direction}"><head>'
        f'<meta charset="utf-8"><title>{escape(title)}</title></head>'
        f'<body dir="{direction}" style="font-family:sans-serif">'
        f"<h2>{escape(title)}</h2>{body}{footer}</body></html>"
    )


def _rows(rows: list[tuple[str, str]]) -> str:
    cells = "".join(f'<tr><th align="start">{escape(k)}</th><td>{escape(v)}</td></tr>' for k, v in rows)
    return f"<table>{cells}</table>"


def _footer(language: str, unsubscribe_url: str | None) -> tuple[str, str]:
    hint = word(language, "settings_hint")
    if not unsubscribe_url:
        return f"<p><small>{escape(hint)}</small></p>", hint
    link = f'<a href="{escape(unsubscribe_url)}">{escape(word(language, "unsubscribe"))}</a>'
    return (
        f"<p><small>{escape(hint)} {link}</small></p>",
        f"{hint}\n{word(language, 'unsubscribe')}: {unsubscribe_url}",
    )


def _telegram_text(language: str, title: str, rows: list[tuple[str, str]], lines: list[str]) -> str:
    """Bot API HTML: the title in bold, a row per line; right-to-left marks keep each line RTL in Arabic."""
    text = "\n".join([f"<b>{escape(title)}</b>", *(f"{escape(k)}: {escape(v)}" for k, v in rows), *lines])
    if language_of(language) in RTL_LANGUAGES:
        text = "\u200f" + text.replace("\n", "\n\u200f")
    return text


@dataclass(frozen=True)
class AlertFacts:
    kind: AlertKind
    symbol: str
    side: str
    amount: float | None
    price: float | None  # the fill's price; for a new order, the entry's (None: market)
    at: datetime
    result: float | None = None  # the realized result of this fill, where it has one
    strategy_name: str | None = None
    take_profit_index: int | None = None
    stop: float | None = None
    take_profits: tuple[float, ...] = ()


def render_alert(facts: AlertFacts, language: str, zone: ZoneInfo, unsubscribe_url: str | None) -> Rendered:
    title = word(language, facts.kind)
    if facts.take_profit_index:
        title = f"{title} #{facts.take_profit_index}"
    rows = [
        (word(language, "symbol"), facts.symbol),
        (word(language, "side"), word(language, facts.side)),
        (word(language, "amount"), number(facts.amount)),
        (
            word(language, "price"),
            number(facts.price) if facts.price is not None else word(language, "market"),
        ),
    ]
    if facts.kind is AlertKind.NEW_ORDER:
        if facts.stop is not None:
            rows.append((word(language, "stop"), number(facts.stop)))
        if facts.take_profits:
            rows.append((word(language, "take_profit"), ", ".join(number(p) for p in facts.take_profits)))
    if facts.result is not None:
        rows.append((word(language, "result"), signed_money(facts.result)))
    if facts.strategy_name:
        rows.append((word(language, "strategy"), facts.strategy_name))
    rows.append((word(language, "time"), local_time(facts.at, zone)))
    subject = f"{title}: {word(language, facts.side)} {number(facts.amount)} {facts.symbol}"
    footer_html, footer_text = _footer(language, unsubscribe_url)
    text = "\n".join([title, "", *(f"{k}: {v}" for k, v in rows), "", footer_text])
    telegram = _telegram_text(language, title, rows, [])
    return Rendered(subject, text, _html_document(language, title, _rows(rows), footer_html), telegram)


@dataclass(frozen=True)
class ReportFacts:
    kind: ReportKind
    first_day: date
    last_day: date
    balance_start: float | None
    balance_end: float | None
    trades: int
    wins: int
    losses: int
    realized_pnl: float
    best: tuple[str, float] | None  # (symbol, realized P&L)
    worst: tuple[str, float] | None


def render_report(
    facts: ReportFacts, language: str, unsubscribe_url: str | None, chart_cid: str | None
) -> Rendered:
    title = word(language, facts.kind)
    period = f"{facts.first_day.isoformat()} / {facts.last_day.isoformat()}"
    rows = [(word(language, "period"), period)]
    if facts.balance_start is None or facts.balance_end is None:
        rows.append((word(language, "balance_end"), word(language, "no_balance")))
    else:
        change = facts.balance_end - facts.balance_start
        percent = f" ({change / facts.balance_start:+.2%})" if facts.balance_start else ""
        rows += [
            (word(language, "balance_start"), money(facts.balance_start)),
            (word(language, "balance_end"), money(facts.balance_end)),
            (word(language, "change"), signed_money(change) + percent),
        ]
    rows += [
        (word(language, "trades"), str(facts.trades)),
        (word(language, "wins"), str(facts.wins)),
        (word(language, "losses"), str(facts.losses)),
        (word(language, "pnl"), signed_money(facts.realized_pnl)),
    ]
    if facts.best is not None:
        rows.append((word(language, "best"), f"{facts.best[0]} {signed_money(facts.best[1])}"))
    if facts.worst is not None:
        rows.append((word(language, "worst"), f"{facts.worst[0]} {signed_money(facts.worst[1])}"))
    quiet = [word(language, "quiet")] if facts.trades == 0 else []
    subject = f"{title}: {period}"
    footer_html, footer_text = _footer(language, unsubscribe_url)
    chart = (
        f'<p><img src="cid:{chart_cid}" alt="{escape(word(language, "chart"))}" width="800"></p>'
        if chart_cid
        else ""
    )
    body = _rows(rows) + "".join(f"<p>{escape(line)}</p>" for line in quiet) + chart
    text = "\n".join([title, "", *(f"{k}: {v}" for k, v in rows), *quiet, "", footer_text])
    telegram = _telegram_text(language, title, rows, quiet)
    return Rendered(subject, text, _html_document(language, title, body, footer_html), telegram)


def bot_reply(language: str | None, key: str) -> str:
    return word(language or "EN", key)
