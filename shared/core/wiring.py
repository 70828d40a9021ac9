"""The one place that builds services: each with its repositories, adapters and listeners.

Handlers call these factories per request; ``functools.cache`` makes each build once per container, so a
warm Lambda reuses its clients. Everything is imported inside the factory that needs it: a function imports
stripe's or ccxt's adapter only if it calls a factory that uses one (``tests/unit/test_cold_start_imports.py``).

Tests that change the environment call ``get_settings.cache_clear()`` and then ``reset()``, which forgets
every service built so far. A unit test builds the service itself and hands in fakes instead.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from core import aws_clients

if TYPE_CHECKING:
    from core.api.pagination import PageTokenCodec
    from core.repositories.catalog import CatalogRepository
    from core.repositories.subscription import SubscriptionRepository
    from core.services.billing import BillingService
    from core.services.catalog import CatalogService
    from core.services.fan_out import FanOutWorker
    from core.services.key_accounts import KeyAccounts
    from core.services.market import MarketService
    from core.services.order_engine import OrderEngine
    from core.services.plan_limits import PlanLimits
    from core.services.signals import SignalService
    from core.services.strategy_performance import StrategyPerformanceService
    from core.services.subscription import SubscriptionService
    from core.services.trade_history import TradeHistoryService
    from core.services.trade_monitor import TradeMonitor
    from core.services.trading import TradingService


# ---------------------------------------------------------------- shared repositories and codecs
@cache
def catalog_repository() -> CatalogRepository:
    from core.repositories.catalog import CatalogRepository

    return CatalogRepository()


@cache
def cached_catalog_repository() -> CatalogRepository:
    """The catalog as the workers read it for every record: plans, risk profiles and strategies kept for
    ``CATALOG_MAX_AGE_SECONDS`` in the container, not read again per follower or per alert."""
    from core.config import get_settings
    from core.repositories.catalog import CachedCatalogRepository

    return CachedCatalogRepository(get_settings().catalog_max_age_seconds)


@cache
def subscription_repository() -> SubscriptionRepository:
    from core.repositories.subscription import SubscriptionRepository

    return SubscriptionRepository()


@cache
def plan_limits() -> PlanLimits:
    """The rules of each user's plan (key slots, balance, automation), read from their subscription."""
    from core.services.plan_limits import PlanLimits

    return PlanLimits(subscription_repository(), catalog_repository())


@cache
def page_tokens() -> PageTokenCodec:
    """Signs and checks the ``nextToken`` of paged lists."""
    from core.api.pagination import PageTokenCodec, page_token_secret

    return PageTokenCodec(page_token_secret)


# ---------------------------------------------------------------- catalog, plans and billing
@cache
def catalog_service() -> CatalogService:
    from core.services.catalog import CatalogService

    return CatalogService(catalog_repository())


@cache
def subscription_service() -> SubscriptionService:
    from core.services.subscription import SubscriptionService

    return SubscriptionService(subscription_repository(), catalog_repository())


@cache
def billing_service() -> BillingService:
    """Stripe (checkout, subscription changes, billing history) and its webhook events."""
    from adapters.billing import StripeBilling  # stripe itself loads on the first call
    from core.config import get_settings
    from core.repositories.stripe_customers import StripeCustomerRepository
    from core.repositories.stripe_events import StripeEventRepository
    from core.services.billing import BillingService

    settings = get_settings()
    return BillingService(
        gateway=StripeBilling(),
        customers=StripeCustomerRepository(),
        subscriptions=subscription_repository(),
        catalog=catalog_repository(),
        events=StripeEventRepository(),
        success_url=settings.checkout_success_url,
        cancel_url=settings.checkout_cancel_url,
        on_plan_changed=plan_change_listener(),
    )


@cache
def strategy_performance_service() -> StrategyPerformanceService:
    """A strategy's public track record: history, performance and its trades."""
    from core.repositories.strategy_trades import StrategyTradeRepository
    from core.services.strategy_performance import StrategyPerformanceService

    return StrategyPerformanceService(catalog_repository(), StrategyTradeRepository())


# ---------------------------------------------------------------- strategy signals and their fan-out
@cache
def signal_service() -> SignalService:
    """The signal route: no exchange, only the catalog, the secrets, the triggers, the followers, the queue."""
    from core.fan_out_queue import SqsFanOutQueue
    from core.repositories.triggers import TriggerRepository
    from core.services.signals import SignalService
    from core.signal_secrets import SecretsManagerSignalSecrets

    return SignalService(
        catalog=catalog_repository(),
        secrets=SecretsManagerSignalSecrets(),
        triggers=TriggerRepository(),
        followers=follow_repository(),
        queue=SqsFanOutQueue(),
    )


@cache
def fan_out_worker() -> FanOutWorker:
    """One trigger on one follower's account, through the order engine: the container's shared price read,
    the equity cache and its share of the request weight (``core.services.fan_out``)."""
    from adapters.exchange.binance import BinanceMarketData
    from core.config import get_settings
    from core.repositories.equity_cache import EquityCacheRepository
    from core.repositories.exchange_keys import ExchangeKeyRepository
    from core.repositories.follower_reads import FollowerReads
    from core.repositories.strategy_trades import StrategyTradeRepository
    from core.repositories.trade_history import TradeRepository
    from core.repositories.triggers import FollowClaims, TriggerRepository
    from core.services.fan_out import EquityCache, FanOutWorker, SharedPrices
    from core.services.plan_limits import PlanLimits
    from core.services.request_weight import RollingWeightBudget

    settings = get_settings()
    catalog = cached_catalog_repository()
    budget = RollingWeightBudget.share(settings.fanout_read_weight_budget, settings.fanout_max_concurrency)
    return FanOutWorker(
        triggers=TriggerRepository(),
        reads=FollowerReads(
            follow_repository(), subscription_repository(), ExchangeKeyRepository(), EquityCacheRepository()
        ),
        accounts=key_accounts(),
        limits=PlanLimits(subscription_repository(), catalog),
        catalog=catalog,
        engine=order_engine(),
        trades=TradeRepository(),
        market=BinanceMarketData(),
        strategy_trades=StrategyTradeRepository(),
        equity=EquityCache(EquityCacheRepository(), budget, settings.fanout_equity_max_age_seconds),
        prices=SharedPrices(settings.fanout_price_max_age_ms),
        claims=FollowClaims(),
        lease_seconds=settings.fanout_lease_seconds,
    )


# ---------------------------------------------------------------- market data and trade history
@cache
def market_service() -> MarketService:
    from adapters.exchange.binance import BinanceMarketData  # ccxt itself loads on the first call
    from core.services.market import MarketService

    return MarketService(BinanceMarketData())


@cache
def trade_history_service() -> TradeHistoryService:
    from core.repositories.trade_history import TradeRepository
    from core.services.trade_history import TradeHistoryService

    return TradeHistoryService(TradeRepository())


# ---------------------------------------------------------------- exchange keys, trading, profile, snapshots
@cache
def key_accounts() -> KeyAccounts:
    """Opens a key's exchange account: load, check, decrypt, connect."""
    from adapters.exchange.binance import BinanceConnector  # ccxt itself loads on the first call
    from core.repositories.exchange_keys import ExchangeKeyRepository
    from core.secret_cipher import KmsSecretCipher
    from core.services.key_accounts import KeyAccounts

    return KeyAccounts(ExchangeKeyRepository(), BinanceConnector(), KmsSecretCipher())


@cache
def order_engine() -> OrderEngine:
    from core.event_bus import EventBridgePublisher
    from core.observability import PowertoolsCounter
    from core.repositories.trade_history import TradeRepository
    from core.services.order_engine import OrderEngine

    return OrderEngine(TradeRepository(), EventBridgePublisher(), PowertoolsCounter())


@cache
def trade_monitor() -> TradeMonitor:
    from adapters.exchange.binance import BinanceMarketData
    from core.config import get_settings
    from core.event_bus import EventBridgePublisher
    from core.observability import PowertoolsCounter
    from core.repositories.monitor_state import MonitorCursorRepository
    from core.repositories.strategy_trades import StrategyTradeRepository
    from core.repositories.trade_history import TradeRepository
    from core.services.strategy_watch import StrategyTradeWatcher
    from core.services.trade_monitor import TradeMonitor

    settings = get_settings()
    return TradeMonitor(
        trades=TradeRepository(),
        cursors=MonitorCursorRepository(),
        accounts=key_accounts(),
        market=BinanceMarketData(),
        events=EventBridgePublisher(),
        counter=PowertoolsCounter(),
        weight_budget=settings.monitor_weight_budget,
        stale_after_seconds=settings.monitor_stale_after_seconds,
        strategies=StrategyTradeWatcher(catalog_repository(), StrategyTradeRepository(), BinanceMarketData()),
    )


@cache
def trading_service() -> TradingService:
    """A key's orders, positions and settings, and the order engine of every trade."""
    from core.services.trading import TradingService

    return TradingService(accounts=key_accounts(), engine=order_engine())


# ---------------------------------------------------------------- exchange keys, profile, balance snapshots
if TYPE_CHECKING:
    from core.repositories.follows import FollowRepository
    from core.services.balance_snapshots import BalanceSnapshotService, SnapshotScheduler
    from core.services.exchange_keys import ExchangeKeyService
    from core.services.profile import ProfileService


@cache
def exchange_key_service() -> ExchangeKeyService:
    """A user's keys: adding one (checked on the exchange and against the plan), renaming, removing, balances."""
    from adapters.exchange.binance import BinanceConnector  # ccxt itself loads on the first call
    from core.repositories.exchange_keys import ExchangeKeyRepository
    from core.secret_cipher import KmsSecretCipher
    from core.services.exchange_keys import ExchangeKeyService

    return ExchangeKeyService(
        keys=ExchangeKeyRepository(),
        limits=plan_limits(),
        connector=BinanceConnector(),
        cipher=KmsSecretCipher(),
        on_key_stopped=key_stop_listener(),  # a deleted key's follows stop
    )


@cache
def profile_service() -> ProfileService:
    from core.repositories.profile import ProfileRepository
    from core.services.profile import ProfileService

    return ProfileService(ProfileRepository())


@cache
def balance_snapshot_scheduler() -> SnapshotScheduler:
    """The daily snapshot's schedule: one queue message per active key (no exchange access)."""
    from core.config import get_settings
    from core.repositories.exchange_keys import ExchangeKeyRepository
    from core.services.balance_snapshots import SnapshotScheduler
    from core.sqs import send_messages

    queue_url = get_settings().snapshot_queue_url
    return SnapshotScheduler(ExchangeKeyRepository(), lambda bodies: send_messages(queue_url, bodies))


@cache
def balance_snapshot_worker() -> BalanceSnapshotService:
    """The daily USD snapshot of one key at a time, within the snapshot's share of the request weight."""
    from adapters.exchange.binance import BinanceMarketData
    from core.config import get_settings
    from core.repositories.equity_cache import EquityCacheRepository
    from core.repositories.exchange_keys import ExchangeKeyRepository
    from core.services.balance_snapshots import BalanceSnapshotService, SnapshotBudgets
    from core.services.request_weight import RollingWeightBudget

    settings = get_settings()
    containers = settings.snapshot_max_concurrency
    return BalanceSnapshotService(
        keys=ExchangeKeyRepository(),
        accounts=key_accounts(),
        market=BinanceMarketData(),
        budgets=SnapshotBudgets(
            futures=RollingWeightBudget.share(settings.snapshot_weight_budget, containers),
            spot=RollingWeightBudget.share(settings.snapshot_spot_weight_budget, containers),
        ),
        equity=EquityCacheRepository(),
        on_key_stopped=key_stop_listener(),  # a key Binance refuses is deactivated: its follows stop
    )


# ---- strategy follows
if TYPE_CHECKING:
    from core.models.catalog import Plan
    from core.services.billing import PlanChangeListener
    from core.services.exchange_keys import KeyStopListener
    from core.services.follows import FollowService, StrategyHistoryService


@cache
def follow_repository() -> FollowRepository:
    from core.repositories.follows import FollowRepository

    return FollowRepository()


@cache
def follow_service() -> FollowService:
    """A key's follows, following and changing one, and the stops (key gone, plan lost)."""
    from core.repositories.exchange_keys import ExchangeKeyRepository
    from core.services.follows import FollowService

    return FollowService(
        follows=follow_repository(),
        keys=ExchangeKeyRepository(),
        catalog=catalog_repository(),
        limits=plan_limits(),
        on_follow_started=queue_equity_read,
    )


def queue_equity_read(user_id: str, key_id: str) -> None:
    """Queues one account read of the key for the fan-out's equity cache (the snapshot worker takes it)."""
    from core.config import get_settings
    from core.timeutil import utc_now

    if get_settings().snapshot_queue_url:
        balance_snapshot_scheduler().enqueue_equity_read(user_id, key_id, utc_now().date().isoformat())


@cache
def strategy_history_service() -> StrategyHistoryService:
    from core.repositories.trade_history import TradeRepository
    from core.services.follows import StrategyHistoryService

    return StrategyHistoryService(TradeRepository(), catalog_repository())


@cache
def key_stop_listener() -> KeyStopListener:
    """What ``ExchangeKeyService`` calls once a key is deleted or deactivated: its follows stop."""

    def stop_follows_of_key(user_id: str, key_id: str) -> None:
        follow_service().stop_key(user_id, key_id)

    return stop_follows_of_key


@cache
def plan_change_listener() -> PlanChangeListener:
    """What billing calls when a user's plan changes: ``plan_limits.on_plan_changed`` with the follows to stop."""
    from core.services.plan_limits import on_plan_changed

    def listener(user_id: str, previous: Plan | None, current: Plan | None) -> None:
        on_plan_changed(user_id, previous, current, automation=follow_service())

    return listener


# ---- notifications (notifications.md)
if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date

    from core.notify.links import UnsubscribeLinks
    from core.ports import ChatSender, UserDirectory
    from core.repositories.notifications import NotificationRepository
    from core.services.alerts import AlertService
    from core.services.notification_settings import NotificationSettingsService
    from core.services.reports import ReportScheduler, ReportService
    from core.services.telegram_linking import TelegramLinking


@cache
def notification_repository() -> NotificationRepository:
    from core.repositories.notifications import NotificationRepository

    return NotificationRepository()


@cache
def notification_settings_service() -> NotificationSettingsService:
    """The settings routes and the alert method (the bot's URL, the user's Telegram auth code)."""
    from core.config import get_settings
    from core.schemas.notifications import API_NAMES
    from core.services.notification_settings import NotificationSettingsService

    username = get_settings().telegram_bot_username
    return NotificationSettingsService(
        notification_repository(), bot_url=f"https://t.me/{username}", api_names=API_NAMES
    )


@cache
def telegram_bot() -> ChatSender | None:
    """The bot (its token from Secrets Manager); None on a stage without one."""
    from adapters.telegram import TelegramBot
    from core.config import get_settings
    from core.notify.secrets import telegram_credentials

    credentials = telegram_credentials()
    if credentials is None:
        return None
    return TelegramBot(credentials.bot_token, api_base=get_settings().telegram_api_base)


def telegram_failure_is_final(error: Exception) -> bool:
    """A Bot API refusal that no retry changes (a blocked bot, a chat that is gone)."""
    return getattr(error, "retryable", True) is False


def telegram_chat_is_gone(error: Exception) -> bool:
    """The user blocked the bot, or the chat no longer exists: the chat should be unlinked."""
    from adapters.telegram import TelegramChatUnavailable

    return isinstance(error, TelegramChatUnavailable)


@cache
def telegram_linking() -> TelegramLinking:
    from core.repositories.profile import ProfileRepository
    from core.services.telegram_linking import TelegramLinking

    bot = telegram_bot()
    if bot is None:
        raise RuntimeError("this stage has no Telegram bot (TELEGRAM_SECRET_ARN)")
    return TelegramLinking(
        notification_repository(), notification_settings_service(), ProfileRepository(), bot
    )


@cache
def unsubscribe_links() -> UnsubscribeLinks:
    from core.config import get_settings
    from core.notify.links import UnsubscribeLinks
    from core.notify.secrets import link_secret

    return UnsubscribeLinks(link_secret(), get_settings().public_api_url)


@cache
def user_directory() -> UserDirectory:
    from core.config import get_settings
    from core.notify.directory import CognitoUserDirectory

    return CognitoUserDirectory(get_settings().user_pool_id)


@cache
def alert_service() -> AlertService:
    """Alerts for every new order, take profit and stop loss, by email and Telegram."""
    from core.config import get_settings
    from core.notify.email import SesMailer
    from core.observability import PowertoolsCounter
    from core.repositories.profile import ProfileRepository
    from core.repositories.trade_history import TradeRepository
    from core.services.alerts import AlertService

    return AlertService(
        notifications=notification_repository(),
        profiles=ProfileRepository(),
        trades=TradeRepository(),
        catalog=cached_catalog_repository(),
        directory=user_directory(),
        mailer=SesMailer(get_settings().email_sender),
        bot=telegram_bot,
        unsubscribe_url=lambda user_id, setting: unsubscribe_links().url(user_id, setting),
        count=PowertoolsCounter().count,
        is_permanent=telegram_failure_is_final,
        chat_is_gone=telegram_chat_is_gone,
    )


@cache
def report_scheduler() -> ReportScheduler:
    from core.config import get_settings
    from core.services.reports import ReportScheduler
    from core.sqs import send_messages

    queue_url = get_settings().report_queue_url
    return ReportScheduler(user_directory(), lambda bodies: send_messages(queue_url, bodies))


@cache
def report_service(chart: Callable[[list[tuple[date, float]]], bytes]) -> ReportService:
    """Weekly and monthly reports with the daily-balance chart; ``chart`` renders it (the reports function's
    own module: its plotting library stays out of every other function)."""
    from core.config import get_settings
    from core.notify.email import SesMailer
    from core.observability import PowertoolsCounter
    from core.repositories.balance_snapshots import BalanceSnapshotRepository
    from core.repositories.exchange_keys import ExchangeKeyRepository
    from core.repositories.profile import ProfileRepository
    from core.repositories.trade_history import TradeRepository
    from core.services.reports import ReportService

    return ReportService(
        notifications=notification_repository(),
        profiles=ProfileRepository(),
        keys=ExchangeKeyRepository(),
        snapshots=BalanceSnapshotRepository(),
        trades=TradeRepository(),
        directory=user_directory(),
        mailer=SesMailer(get_settings().email_sender),
        bot=telegram_bot,
        chart=chart,
        unsubscribe_url=lambda user_id, setting: unsubscribe_links().url(user_id, setting),
        count=PowertoolsCounter().count,
        is_permanent=telegram_failure_is_final,
        chat_is_gone=telegram_chat_is_gone,
    )


_FACTORIES = (
    catalog_repository,
    cached_catalog_repository,
    subscription_repository,
    plan_limits,
    page_tokens,
    catalog_service,
    subscription_service,
    billing_service,
    strategy_performance_service,
    signal_service,
    fan_out_worker,
    market_service,
    trade_history_service,
    key_accounts,
    order_engine,
    trade_monitor,
    trading_service,
    exchange_key_service,
    profile_service,
    balance_snapshot_scheduler,
    balance_snapshot_worker,
    follow_repository,
    follow_service,
    strategy_history_service,
    key_stop_listener,
    plan_change_listener,
    notification_repository,
    notification_settings_service,
    telegram_bot,
    telegram_linking,
    unsubscribe_links,
    user_directory,
    alert_service,
    report_scheduler,
    report_service,
)


# The AWS clients modules keep for the container, by module and function: forgotten with the services.


def reset() -> None:
    """Forget every service and AWS client built so far (tests, and a process that starts a second local
    stack, after changing the environment): the next use builds them for the new endpoint."""
    import sys

    for factory in _FACTORIES:
        factory.cache_clear()
    aws_clients.reset()
    table = sys.modules.get("core.repositories.table")
    if table is not None:
        table.transaction_connection.cache_clear()
    parameters = sys.modules.get("aws_lambda_powertools.utilities.parameters.base")
    if parameters is not None:
        parameters.clear_caches()  # the Secrets Manager providers, each with its client and values
