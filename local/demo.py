"""The demo account: the user, keys and follow whose ids the ready events of ``events/`` name.

The local stack seeds it at start-up, after the reference data (``LocalStack.start``), and
``python -m local seed --local`` seeds it into a running stack; a deployed stage never gets it. Everything
is written through the repositories, as the API writes it: the plan as a completed checkout leaves it
(``local.plans.assign_plan``), each key on an exchange-simulator account of its own with its secret
KMS-encrypted by the key-creation service's cipher, its apiKey claimed, its slot counted and the day's
balance snapshot recorded.

Seeding is idempotent: what exists is left as it is, what is missing is written again (after the delete
event, ``python -m local seed --local`` brings the spare key back). The follow is inactive and the demo
user is not in the Cognito pool (Cognito picks a user's ``sub``; the events carry the claims instead):
the signal fan-out and the reports over every user of the pool see nothing of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from local.template import LOCAL_STAGE, Template

DEMO_USER_ID = "7d3f3c5a-58a1-4d3e-9a36-2c9d0b7a1e11"
DEMO_EMAIL = "demo@example.com"
DEMO_PLAN_ID = "d6e3155b-caed-449c-b95b-857f1b765040"  # PROFESSIONAL: 5 keys, 10000 USD, automation
MANUAL_KEY_ID = "6645920d-08cb-44f0-b8b3-a14dd918a7b0"
AUTOMATED_KEY_ID = "63d3aa7c-3fb0-4a4e-9249-4e1fee947de2"
# AUTOMATED and following nothing: the key a follow-create event can follow a strategy on (every strategy of
# the reference data trades BTC/USDT, which the other AUTOMATED key follows already), and the one the
# key-delete event deletes.
SPARE_KEY_ID = "c0d2a6e4-5b7f-4e8a-9c1d-3f5a7b9c0d2e"
FOLLOW_ID = "6737fbf1-308e-44fc-9518-92df4036ab86"
FOLLOWED_STRATEGY_ID = "b9f67eb2-1d6e-4a47-a735-d0d9039c9b08"  # STRATEGY #1
FOLLOW_RISK_PROFILE_ID = "ab00673a-cd19-44d4-a7c4-05c63e309663"  # CONSERVATIVE
# Strategy #1's signal secret on a fresh local stack, so the signal event passes the secret check. Local
# only: a deployed stage's secrets are random (``local.seed.seed_signal_secrets``), and so is every other
# strategy's here.
DEMO_SIGNAL_SECRET = "local-demo-signal-secret-of-strategy-1"
SEEDED_AT = "2022-09-09T01:57:36.304Z"  # the reference's own timestamps


@dataclass(frozen=True)
class DemoKey:
    id: str
    strategy_type: str
    name: str
    usdt: float
    created_at: str  # apart, so the key list's order (oldest first) is this one


# FUTURES keys; 8000 USD together, within the plan's 10000 (the create-key event's account can add 2000).
DEMO_KEYS = (
    DemoKey(MANUAL_KEY_ID, "MANUAL", "Demo manual", 5000, "2022-09-09T01:57:36.304Z"),
    DemoKey(AUTOMATED_KEY_ID, "AUTOMATED", "Demo automated", 2000, "2022-09-09T01:58:36.304Z"),
    DemoKey(SPARE_KEY_ID, "AUTOMATED", "Demo spare", 1000, "2022-09-09T01:59:36.304Z"),
)

# Opens an account on the exchange simulator holding these balances: its {"apiKey", "apiSecretKey"}.
OpenAccount = Callable[[Mapping[str, float]], Mapping[str, str]]


@dataclass(frozen=True)
class DemoSeedResult:
    written: tuple[str, ...]  # what was missing and is now there; empty when everything was

    def __str__(self) -> str:
        return ", ".join(self.written) if self.written else "nothing (already there)"


def exchange_secrets_key_id(template: Template) -> str:
    """The KMS key the functions encrypt exchange secrets with (the template's ``ExchangeSecretsKey``)."""
    for spec in template.functions().values():
        key_id = spec.environment.get("EXCHANGE_SECRETS_KEY_ID")
        if key_id:
            return str(key_id)
    raise LookupError("no function of the template has EXCHANGE_SECRETS_KEY_ID")


def seed_demo_account(
    template: Template,
    open_account: OpenAccount,
    secrets_manager: Any = None,
    stage: str = LOCAL_STAGE,
) -> DemoSeedResult:
    """Writes whatever of the demo account is missing into the table of the current settings."""
    from core.models.exchange import (
        BalanceSnapshot,
        ExchangeId,
        ExchangeKey,
        KeyLimits,
        KeyStatus,
        StrategyType,
        TradeType,
    )
    from core.repositories.catalog import CatalogRepository
    from core.repositories.exchange_keys import ExchangeKeyRepository
    from core.repositories.profile import ProfileRepository
    from core.repositories.subscription import SubscriptionRepository
    from core.secret_cipher import KmsSecretCipher
    from core.services.valuation import usd_value
    from core.timeutil import iso_now, utc_now
    from local.plans import assign_plan

    written: list[str] = []
    catalog = CatalogRepository()
    plan = catalog.get_plan(DEMO_PLAN_ID)
    if plan is None:
        raise LookupError("seed the reference data first: the demo's plan is not in the catalog")
    if SubscriptionRepository().get(DEMO_USER_ID) is None:
        assign_plan(DEMO_USER_ID, plan)
        written.append(f"plan {plan.name}")
    profiles = ProfileRepository()
    if profiles.get(DEMO_USER_ID) is None:
        profiles.apply_changes(
            DEMO_USER_ID,
            {
                "first_name": "Demo",
                "last_name": "Trader",
                "country": "AE",
                "language": "EN",
                "timezone": "UTC",
            },
            now=SEEDED_AT,
        )
        written.append("profile")

    keys = ExchangeKeyRepository()
    cipher = KmsSecretCipher(exchange_secrets_key_id(template))
    for demo in DEMO_KEYS:
        if keys.get(DEMO_USER_ID, demo.id) is not None:
            continue
        balances = {"USDT": demo.usdt}
        account = open_account(balances)
        key = ExchangeKey(
            id=demo.id,
            user_id=DEMO_USER_ID,
            exchange_id=ExchangeId.BINANCE,
            trade_type=TradeType.FUTURES,
            strategy_type=StrategyType(demo.strategy_type),
            active=True,
            name=demo.name,
            api_key=account["apiKey"],
            status=KeyStatus.AUTHORIZED,
            created_at=demo.created_at,
            updated_at=demo.created_at,
            balance_usd=usd_value(balances, {}),  # as the service values a new key: USDT at par
        )
        ciphertext = cipher.encrypt(DEMO_USER_ID, key.id, account["apiSecretKey"])
        keys.create(key, ciphertext, KeyLimits(plan.max_api_key, plan.max_balance_usd))
        # Today's snapshot, as the daily job would record it (the account holds just that): the balance
        # history shows a day, and today's job skips the demo's keys, so a job's count is the test's own.
        today = BalanceSnapshot(
            key_id=key.id, date=utc_now().date().isoformat(), total_usd=key.balance_usd or 0
        )
        keys.record_snapshot(key, today, iso_now())
        written.append(f"key {demo.name}")

    if _seed_follow():
        written.append("follow")
    if _seed_signal_secret(stage, secrets_manager):
        written.append("signal secret")
    return DemoSeedResult(tuple(written))


def _seed_follow() -> bool:
    """The AUTOMATED key's follow of strategy #1, inactive (turning it on is the follow-update event's)."""
    from core.errors import ExchangeKeyInactive, ExchangeSymbolAlreadyFollowed
    from core.models.follows import Follow
    from core.repositories.catalog import CatalogRepository
    from core.repositories.exchange_keys import ExchangeKeyRepository
    from core.repositories.follows import FollowRepository

    follows = FollowRepository()
    if follows.get(DEMO_USER_ID, FOLLOW_ID) is not None:
        return False
    if ExchangeKeyRepository().get(DEMO_USER_ID, AUTOMATED_KEY_ID) is None:
        return False
    strategy = CatalogRepository().get_strategy(FOLLOWED_STRATEGY_ID)
    if strategy is None:
        raise LookupError("seed the reference data first: the demo's strategy is not in the catalog")
    follow = Follow(
        id=FOLLOW_ID,
        user_id=DEMO_USER_ID,
        key_id=AUTOMATED_KEY_ID,
        exchange_id=strategy.exchange_id,
        symbol=strategy.symbol,
        strategy_id=strategy.id,
        risk_profile_id=FOLLOW_RISK_PROFILE_ID,
        active=False,
        created_at=SEEDED_AT,
        updated_at=SEEDED_AT,
    )
    try:
        follows.create(follow)
    except (ExchangeSymbolAlreadyFollowed, ExchangeKeyInactive):
        return False  # the key follows the symbol through another follow, or is off: left as it is
    return True


def _seed_signal_secret(stage: str, secrets_manager: Any) -> bool:
    """Strategy #1's signal secret, unless it has one (``seed_signal_secrets`` runs after this at start-up)."""
    import boto3

    from core.signal_secrets import secret_name

    client = secrets_manager or boto3.client("secretsmanager")
    try:
        client.create_secret(
            Name=secret_name(stage, FOLLOWED_STRATEGY_ID),
            Description="Signal secret of strategy STRATEGY #1 (the local demo's)",
            SecretString=DEMO_SIGNAL_SECRET,
        )
    except client.exceptions.ResourceExistsException:
        return False
    return True
