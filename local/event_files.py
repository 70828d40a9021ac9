"""The ready events of ``events/``: one per route of ``template.yaml`` and one per schedule or queue event
kept, written by ``python -m local events`` (``--check``: only compare) so they stay in step with the
template and with what API Gateway, EventBridge Scheduler and SQS send.

API events are built by ``local.events.proxy_event``, the code that builds every request's event on the
local gateway, with a fixed request id and time, and the demo account's claims (``local.demo``) on private
routes. Each event also says what it answers on a freshly started stack (``answers``): a 2xx where the
event can succeed on its own, else the documented refusal that a static file must get (a Stripe or
Telegram signature, an unsubscribe token or a fresh signal timestamp cannot be written in advance).
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local.demo import (
    AUTOMATED_KEY_ID,
    DEMO_EMAIL,
    DEMO_SIGNAL_SECRET,
    DEMO_USER_ID,
    FOLLOW_ID,
    FOLLOWED_STRATEGY_ID,
    MANUAL_KEY_ID,
    SPARE_KEY_ID,
)
from local.events import proxy_event, sqs_event
from local.template import PROJECT_ROOT, Template, load_template

EVENTS_DIR = PROJECT_ROOT / "events"
STAGE = "local"
REGION = "us-east-1"
ACCOUNT = "123456789012"
# When every ready event "happened": the request time, the token's issue time, the schedules' firing.
AT = datetime(2026, 12, 2, 18, 0, 0, tzinfo=UTC)
AT_EPOCH = int(AT.timestamp())
AT_ISO = "2026-12-02T18:00:00.000Z"

STRATEGY_1 = FOLLOWED_STRATEGY_ID
STRATEGY_2 = "b762dad3-b720-4ddd-a515-32ae48e39f94"
CONSERVATIVE = "ab00673a-cd19-44d4-a7c4-05c63e309663"
MODERATE = "3dc38f3d-4b4e-43b3-a102-e250b7cd3551"
BASIC = "336e0577-784d-4482-8a37-46649118aa51"
SYMBOL = {"symbol": "BTC/USDT"}
# The API reference's example manual order (the simulator's BTC/USDT starts at 19200 on a fresh stack).
REFERENCE_ORDER = {
    "symbol": "BTC/USDT",
    "type": "MARKET",
    "side": "BUY",
    "amount": "0.05",
    "takeProfitPrices": [19250, 19300],
    "stopTriggerPrice": 19000,
    "stopTriggerType": "LIMIT",
    "stopPrice": 19000,
}

# The demo user's ID token as API Gateway's Cognito authorizer hands its claims over (every one a string;
# ``local.events.authorizer_claims`` formats them): the full claim set of a user pool's ID token.
DEMO_CLAIMS: dict[str, Any] = {
    "sub": DEMO_USER_ID,
    "email_verified": True,
    "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_LocalDemo",
    "cognito:username": DEMO_USER_ID,
    "origin_jti": "3c1a5f0e-8d2b-4e7a-9f6c-1b2d3e4f5a60",
    "aud": "localdemoappclientid0000000",
    "event_id": "9e8d7c6b-5a49-4382-9172-a6b5c4d3e2f1",
    "token_use": "id",
    "auth_time": AT_EPOCH,
    "exp": AT_EPOCH + 3600,
    "iat": AT_EPOCH,
    "jti": "5f4e3d2c-1b0a-4987-8654-3210fedcba98",
    "email": DEMO_EMAIL,
}


@dataclass(frozen=True)
class ApiEvent:
    """A request to one route; the route, its function and whether it is private come from the template."""

    name: str
    method: str
    path: str
    answers: tuple[int, ...]
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None  # JSON (dumped), or a str sent as it is
    headers: dict[str, str] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class DirectEvent:
    """An event another AWS service sends one function (a schedule, a queue); it answers without failing."""

    name: str
    function: str
    event: dict[str, Any]
    note: str = ""


ReadyEvent = ApiEvent | DirectEvent


def _sqs(body: dict[str, Any], queue: str, message_id: str) -> dict[str, Any]:
    text = json.dumps(body)
    message = {
        "MessageId": message_id,
        "ReceiptHandle": "AQEB" + hashlib.sha256(message_id.encode()).hexdigest(),
        "Body": text,
        "MD5OfBody": hashlib.md5(text.encode(), usedforsecurity=False).hexdigest(),
        "Attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": str(AT_EPOCH * 1000),
            "SenderId": "AROAEXAMPLE:trading-api-local",
            "ApproximateFirstReceiveTimestamp": str(AT_EPOCH * 1000 + 1),
        },
    }
    return sqs_event([message], f"arn:aws:sqs:{REGION}:{ACCOUNT}:trading-api-{STAGE}-{queue}", REGION)


def _scheduled(schedule: str, event_id: str) -> dict[str, Any]:
    """What EventBridge Scheduler sends a Lambda target whose schedule sets no ``Input``."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": ACCOUNT,
        "time": "2026-12-02T18:00:00Z",
        "region": REGION,
        "resources": [f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/{schedule}"],
        "detail": "{}",
    }


KEYS = "/v1/priv/account/exchange/key"
ORDER = f"/v1/priv/exchange/order/{MANUAL_KEY_ID}"
NO_SIGNATURE = "a static event cannot carry a signature made with the running stack's own secret"

EVENTS: tuple[ReadyEvent, ...] = (
    # ---- exchange keys (the demo's MANUAL key 6645920d, AUTOMATED key 63d3aa7c, spare AUTOMATED key c0d2a6e4)
    ApiEvent("account_exchange_key_list", "GET", f"{KEYS}/list", (200,)),
    ApiEvent("account_exchange_balance", "GET", "/v1/priv/account/exchange/balance", (200,)),
    ApiEvent("account_exchange_key_balance", "GET", f"{KEYS}/{MANUAL_KEY_ID}/balance", (200,)),
    ApiEvent(
        "account_exchange_key_balance_history",
        "GET",
        f"{KEYS}/{MANUAL_KEY_ID}/balance/history",
        (200,),
        query={"limit": "100"},
    ),
    ApiEvent(
        "account_exchange_key_update",
        "PUT",
        f"{KEYS}/{AUTOMATED_KEY_ID}",
        (200,),
        body={"name": "Change to different name"},
    ),
    ApiEvent(
        "account_exchange_key_create",
        "POST",
        KEYS,
        (433,),
        body={
            "exchangeId": "BINANCE",
            "tradeType": "FUTURES",
            "strategyType": "AUTOMATED",
            "name": "Default",
            "apiKey": "gwkoDxyKVqm0JsGKAH7Bfy8e542kAVh5iMNz6Xy4sXqBHKFdf5hmxeBwAtlmBbg0",
            "apiSecretKey": "4Uz0L1cZkBtNNsjH7bCD7kXkMm3gBXB34ZIDxZmoW8SDnozXDJh2hPsJxsxbOzUK",
        },
        note="the reference's example key is no account of the exchange simulator: 433 (1103). To add a "
        'key, POST /_local/exchange/accounts {"balances": {"USDT": 2000}} and put its apiKey and apiSecretKey '
        "in the body (the demo's plan has 2 key slots and 2000 USD left)",
    ),
    ApiEvent("account_exchange_whitelist_ip", "GET", "/v1/priv/account/exchange/whitelist/ip", (200,)),
    # ---- trading on the MANUAL key: settings first, then the reference order, then it is closed
    ApiEvent("exchange_order_margin", "PUT", f"{ORDER}/margin", (204,), body={**SYMBOL, "type": "CROSSED"}),
    ApiEvent("exchange_order_leverage", "PUT", f"{ORDER}/leverage", (204,), body={**SYMBOL, "leverage": 10}),
    ApiEvent(
        "exchange_order_create",
        "POST",
        ORDER,
        (200,),
        body=REFERENCE_ORDER,
        headers={"Idempotency-Key": "0f8fad5b-d9cb-469f-a165-70867728950e"},
        note="the same Idempotency-Key again answers the first order, placing nothing",
    ),
    ApiEvent("exchange_order_list", "GET", f"{ORDER}/list", (200,), query=SYMBOL),
    ApiEvent(
        "exchange_position_get", "GET", f"/v1/priv/exchange/position/{MANUAL_KEY_ID}", (200,), query=SYMBOL
    ),
    ApiEvent("exchange_order_history", "GET", f"{ORDER}/history", (200,), query=SYMBOL),
    ApiEvent(
        "exchange_trade_history",
        "GET",
        f"/v1/priv/exchange/trade/{MANUAL_KEY_ID}/history",
        (200,),
        query=SYMBOL,
    ),
    ApiEvent(
        "exchange_position_cancel",
        "DELETE",
        f"/v1/priv/exchange/position/{MANUAL_KEY_ID}",
        (204,),
        body=SYMBOL,
    ),
    ApiEvent(
        "account_trade_manual_history",
        "GET",
        "/v1/priv/account/trade/manual/history",
        (200,),
        {"limit": "30"},
    ),
    ApiEvent(
        "account_trade_strategy_history",
        "GET",
        "/v1/priv/account/trade/strategy/history",
        (200,),
        {"limit": "30"},
    ),
    # ---- follows: the AUTOMATED key's follow 6737fbf1 (inactive, strategy #1); the spare key follows nothing
    ApiEvent(
        "strategy_follow_key_list", "GET", f"/v1/priv/strategy/follow/exchange/key/{AUTOMATED_KEY_ID}", (200,)
    ),
    ApiEvent(
        "strategy_follow_update",
        "PUT",
        f"/v1/priv/strategy/follow/{FOLLOW_ID}",
        (200,),
        body={"active": False, "strategyAutomatedId": STRATEGY_2, "strategyRiskProfileId": MODERATE},
        note='switches strategy and profile, staying off ("active": true makes the demo a follower that '
        "every signal of the strategy trades for)",
    ),
    ApiEvent(
        "strategy_follow_key_create",
        "POST",
        f"/v1/priv/strategy/follow/exchange/key/{SPARE_KEY_ID}",
        (200,),
        body={"strategyAutomatedId": STRATEGY_1, "strategyRiskProfileId": CONSERVATIVE},
        note="once: the key then follows BTC/USDT, and the same again is 433 (1309)",
    ),
    ApiEvent(
        "account_exchange_key_delete",
        "DELETE",
        f"{KEYS}/{SPARE_KEY_ID}",
        (204,),
        note="deletes the spare key (its follows stop); python -m local seed --local brings it back",
    ),
    # ---- profile, notifications, subscription
    ApiEvent("account_profile_get", "GET", "/v1/priv/account/profile", (200,)),
    ApiEvent("account_profile_put", "PUT", "/v1/priv/account/profile", (200,), body={"language": "AR"}),
    ApiEvent("account_notification_get", "GET", "/v1/priv/account/notification", (200,)),
    ApiEvent(
        "account_notification_put",
        "PUT",
        "/v1/priv/account/notification",
        (200,),
        body={
            "weeklyReport": True,
            "monthlyReport": False,
            "emailNewOrder": True,
            "emailTakeProfit": True,
            "emailStopLoss": True,
        },
    ),
    ApiEvent("account_notification_method_get", "GET", "/v1/priv/account/notification/method", (200,)),
    ApiEvent("account_subscription_get", "GET", "/v1/priv/account/subscription", (200,)),
    ApiEvent("account_subscription_stripe_get", "GET", "/v1/priv/account/subscription/stripe", (200,)),
    ApiEvent(
        "account_subscription_stripe_put",
        "PUT",
        "/v1/priv/account/subscription/stripe",
        (433,),
        body={"cancelAtPeriodEnd": True},
        note="the demo's plan is assigned, not bought through Stripe: 433 (3104). After the checkout event's "
        "session is paid (POST /_local/stripe/checkout/{sessionId}/complete) it is a 200",
    ),
    ApiEvent(
        "account_subscription_stripe_billing_history_get",
        "GET",
        "/v1/priv/account/subscription/stripe/billing/history",
        (200,),
    ),
    ApiEvent(
        "account_subscription_stripe_checkout_post",
        "POST",
        "/v1/priv/account/subscription/stripe/checkout",
        (200,),
        body={"subscriptionId": BASIC},
    ),
    # ---- public routes
    ApiEvent("public_subscription_list", "GET", "/v1/pub/subscription/list", (200,)),
    ApiEvent(
        "public_exchange_ticker",
        "GET",
        "/v1/pub/exchange/ticker",
        (200,),
        query={"exchangeId": "BINANCE", "symbol": "BTC/USDT", "type": "FUTURES"},
    ),
    ApiEvent("public_strategy_list", "GET", "/v1/pub/strategy/list", (200,)),
    ApiEvent("public_strategy_profile_list", "GET", "/v1/pub/strategy/profile/list", (200,)),
    ApiEvent(
        "public_strategy_history",
        "GET",
        f"/v1/pub/strategy/{STRATEGY_1}/history",
        (200,),
        query={"interval": "1d", "limit": "30"},
    ),
    ApiEvent(
        "public_strategy_performance",
        "GET",
        f"/v1/pub/strategy/{STRATEGY_1}/performance",
        (200,),
        query={"interval": "1d", "limit": "30"},
    ),
    ApiEvent(
        "public_strategy_trades", "GET", f"/v1/pub/strategy/{STRATEGY_1}/trades", (200,), {"limit": "30"}
    ),
    ApiEvent(
        "notification_unsubscribe_get",
        "GET",
        "/v1/pub/notification/unsubscribe",
        (404,),
        query={"token": "REPLACE-WITH-THE-TOKEN-OF-AN-EMAIL-LINK"},
        note="the token of an email's List-Unsubscribe link (GET /_local/email?to=...): signed with the "
        "running stack's own secret, so the static one is a 404",
    ),
    ApiEvent(
        "notification_unsubscribe_post",
        "POST",
        "/v1/pub/notification/unsubscribe",
        (404,),
        query={"token": "REPLACE-WITH-THE-TOKEN-OF-AN-EMAIL-LINK"},
        body="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        note="as the GET: the one-click form body of RFC 8058 with an email's token",
    ),
    # ---- machine-facing routes
    ApiEvent(
        "strategy_signal_post",
        "POST",
        f"/v1/hook/strategy/{STRATEGY_1}/signal",
        (422,),
        body={
            "secret": DEMO_SIGNAL_SECRET,
            "action": "OPEN",
            "side": "BUY",
            "type": "MARKET",
            "takeProfitPrices": [19250, 19300],
            "stopTriggerPrice": 19000,
            "leverage": 5,
            "signalId": "tv-alert-2026-12-02-001",
            "timestamp": AT_ISO,
        },
        note="strategy #1's local demo secret, but a signal older than maxLagSeconds: the stale-signal 422 on "
        "timestamp, nothing recorded. A signal that fans out: POST /_local/strategies/{STRATEGY_ID}/signal",
    ),
    ApiEvent(
        "stripe_webhook_post",
        "POST",
        "/v1/pub/subscription/stripe/webhook",
        (400,),
        body=json.dumps(
            {
                "id": "evt_example",
                "object": "event",
                "type": "customer.subscription.updated",
                "data": {
                    "object": {"id": "sub_example", "object": "subscription", "customer": "cus_example"}
                },
            },
            indent=2,
        ),
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": f"t={AT_EPOCH},v1={'0' * 64}",
        },
        note=f"{NO_SIGNATURE}: 400. The simulator delivers signed events: POST /_local/stripe/checkout/{{id}}/complete",
    ),
    ApiEvent(
        "telegram_webhook_post",
        "POST",
        "/v1/hook/telegram",
        (401,),
        body={
            "update_id": 100000001,
            "message": {
                "message_id": 1,
                "date": AT_EPOCH,
                "chat": {"id": 1001, "type": "private", "first_name": "Alice", "username": "alice"},
                "from": {
                    "id": 1001,
                    "is_bot": False,
                    "first_name": "Alice",
                    "username": "alice",
                    "language_code": "en",
                },
                "text": "/start 8pvv88pj",
                "entities": [{"offset": 0, "length": 6, "type": "bot_command"}],
            },
        },
        headers={
            "User-Agent": "TelegramBot (like TwitterBot)",
            "X-Telegram-Bot-Api-Secret-Token": "REPLACE-ME",
        },
        note=f"{NO_SIGNATURE} (the webhook's secret token): 401. POST /_local/telegram/updates delivers one",
    ),
    # ---- schedules and queues
    DirectEvent(
        "balance_snapshot_schedule",
        "BalanceSnapshotFunction",
        _scheduled("trading-api-local-balance-snapshot", "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa"),
        note="queues today's snapshot of every active key not taken today (the demo's were, at seeding)",
    ),
    DirectEvent(
        "trade_monitor_schedule",
        "TradeMonitorFunction",
        _scheduled("trading-api-local-trade-monitor", "8f0d6a3e-4c1b-4a8e-9d0e-2b6f1c7a9e11"),
    ),
    DirectEvent(
        "notification_weekly_report_schedule",
        "NotificationReportFunction",
        {"report": "WEEKLY"},
        note="the schedule's Input, as Scheduler sends it: queues every user of the pool",
    ),
    DirectEvent("notification_monthly_report_schedule", "NotificationReportFunction", {"report": "MONTHLY"}),
    DirectEvent(
        "notification_alerts_sqs",
        "NotificationAlertFunction",
        _sqs(
            {
                "version": "0",
                "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
                "detail-type": "Order Placed",
                "source": "trading-api.trades",
                "account": ACCOUNT,
                "time": "2026-12-02T18:00:00Z",
                "region": REGION,
                "resources": [],
                "detail": {
                    "userId": DEMO_USER_ID,
                    "keyId": MANUAL_KEY_ID,
                    "tradeId": "m-example",
                    "origin": "MANUAL",
                    "strategyId": None,
                    "symbol": "BTC/USDT",
                    "side": "BUY",
                    "type": "MARKET",
                    "amount": 0.05,
                    "price": 19200.0,
                    "stop": 19000.0,
                    "takeProfit": [19250.0, 19300.0],
                },
            },
            "notification-alerts",
            "059f36b4-87a3-44ab-83d2-661975830a7d",
        ),
        note="the demo user's alert of an order (the demo user has no address in the pool: nothing is sent)",
    ),
    DirectEvent(
        "balance_snapshot_worker_sqs",
        "BalanceSnapshotWorkerFunction",
        _sqs(
            {"user_id": DEMO_USER_ID, "key_id": MANUAL_KEY_ID, "date": AT_ISO[:10], "purpose": "DAILY"},
            "balance-snapshot",
            "3c1f0c5e-2a4b-4f55-9a86-6f0f9e5d2b71",
        ),
        note="one key's daily snapshot, as the schedule queues it (the demo's manual key; a day already taken is kept)",
    ),
    DirectEvent(
        "notification_report_sqs",
        "NotificationReportFunction",
        _sqs(
            {"kind": "WEEKLY", "userId": DEMO_USER_ID, "email": None, "runAt": AT_ISO},
            "notification-reports",
            "9e2d7b44-0f6a-4c3e-8b1d-5a7c2f9e4d60",
        ),
        note="one user's weekly report, as the schedule queues it (the demo user has no address: nothing is sent)",
    ),
)

API_HEADERS = {
    "Accept": "application/json",
    "Host": "api.example.com",
    "User-Agent": "local-events/1.0",
    "X-Amzn-Trace-Id": "Root=1-692f29a0-0123456789abcdef01234567",
    "X-Forwarded-For": "198.51.100.7",
    "X-Forwarded-Port": "443",
    "X-Forwarded-Proto": "https",
}


def function_of(event: ReadyEvent, template: Template) -> str:
    """The logical id of the function the event is for."""
    if isinstance(event, DirectEvent):
        return event.function
    return _route(event, template)[0].function


def _route(event: ApiEvent, template: Template) -> tuple[Any, re.Match[str]]:
    for route in template.routes():
        match = route.pattern.match(event.path)
        if match and route.method == event.method:
            return route, match
    raise LookupError(f"no route {event.method} {event.path} in template.yaml")


def build(event: ReadyEvent, template: Template) -> dict[str, Any]:
    """The event as its file holds it."""
    if isinstance(event, DirectEvent):
        return event.event
    route, match = _route(event, template)
    body = event.body if event.body is None or isinstance(event.body, str) else json.dumps(event.body)
    headers = {**API_HEADERS, **({"Content-Type": "application/json"} if body else {}), **event.headers}
    return proxy_event(
        method=event.method,
        resource=route.path,
        path=event.path,
        path_parameters={k: urllib.parse.unquote(v) for k, v in match.groupdict().items()},
        query={name: [value] for name, value in event.query.items()},
        headers=dict(sorted(headers.items())),
        body=body,
        claims=None if route.public else DEMO_CLAIMS,
        stage=STAGE,
        source_ip=API_HEADERS["X-Forwarded-For"],
        request_id=str(_uuid_of(event.name)),
        request_time_epoch_ms=AT_EPOCH * 1000,
    )


def _uuid_of(name: str) -> str:
    digest = hashlib.sha256(name.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-a{digest[17:20]}-{digest[20:32]}"


def rendered(template: Template | None = None) -> dict[str, str]:
    """File name -> content, for every ready event; every route of the template must have one."""
    template = template or load_template()
    names = [event.name for event in EVENTS]
    if len(set(names)) != len(names):
        raise ValueError("two ready events share a name")
    covered = {
        (event.method, _route(event, template)[0].path) for event in EVENTS if isinstance(event, ApiEvent)
    }
    missing = {(route.method, route.path) for route in template.routes()} - covered
    if missing:
        raise ValueError(f"routes without a ready event: {sorted(missing)}")
    return {f"{event.name}.json": json.dumps(build(event, template), indent=2) + "\n" for event in EVENTS}


def write_events(directory: Path = EVENTS_DIR, check: bool = False) -> list[str]:
    """Writes the events (``check``: writes nothing); returns the files that were, or would be, changed or
    removed. A file of the directory that no ready event names is removed."""
    files = rendered()
    changed = [
        name
        for name, text in files.items()
        if not (directory / name).exists() or (directory / name).read_text() != text
    ]
    stale = sorted(path.name for path in directory.glob("*.json") if path.name not in files)
    if not check:
        directory.mkdir(exist_ok=True)
        for name in changed:
            (directory / name).write_text(files[name])
        for name in stale:
            (directory / name).unlink()
    return sorted(changed) + stale
