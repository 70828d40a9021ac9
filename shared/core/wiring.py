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

if TYPE_CHECKING:
    from core.api.pagination import PageTokenCodec
    from core.repositories.catalog import CatalogRepository
    from core.repositories.subscription import SubscriptionRepository
    from core.services.billing import BillingService
    from core.services.catalog import CatalogService
    from core.services.key_accounts import KeyAccounts
    from core.services.market import MarketService
    from core.services.order_engine import OrderEngine
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
def subscription_repository() -> SubscriptionRepository:
    from core.repositories.subscription import SubscriptionRepository

    return SubscriptionRepository()


@cache
def page_tokens() -> PageTokenCodec:
    """Signs and checks the ``nextToken`` of paged lists."""
    from core.api.pagination import PageTokenCodec
    from core.config import get_settings

    return PageTokenCodec(get_settings().pagination_secret)


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
    from core.services.plan_limits import on_plan_changed

    settings = get_settings()
    return BillingService(
        gateway=StripeBilling(),
        customers=StripeCustomerRepository(),
        subscriptions=subscription_repository(),
        catalog=catalog_repository(),
        events=StripeEventRepository(),
        success_url=settings.checkout_success_url,
        cancel_url=settings.checkout_cancel_url,
        on_plan_changed=on_plan_changed,
    )


@cache
def strategy_performance_service() -> StrategyPerformanceService:
    """A strategy's public track record: history, performance and its trades."""
    from core.repositories.strategy_trades import StrategyTradeRepository
    from core.services.strategy_performance import StrategyPerformanceService

    return StrategyPerformanceService(catalog_repository(), StrategyTradeRepository())


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
    from core.repositories.trade_history import TradeRepository
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
    )


@cache
def trading_service() -> TradingService:
    """A key's orders, positions and settings, and the order engine of every trade."""
    from core.services.trading import TradingService

    return TradingService(accounts=key_accounts(), engine=order_engine())


# TO BE ADDED by the owners of functions/exchange, functions/account_exchange, functions/account_profile and
# functions/balance_snapshot: ``exchange_key_service()``, ``trading_service()``, ``profile_service()``,
# ``balance_snapshot_service()``, each a ``@cache``d factory like the ones above (adapters imported inside
# it), and each added to ``_FACTORIES`` below.


_FACTORIES = (
    catalog_repository,
    subscription_repository,
    page_tokens,
    catalog_service,
    subscription_service,
    billing_service,
    strategy_performance_service,
    market_service,
    trade_history_service,
    key_accounts,
    order_engine,
    trade_monitor,
    trading_service,
)


def reset() -> None:
    """Forget every service built so far (tests, after changing the environment)."""
    for factory in _FACTORIES:
        factory.cache_clear()
