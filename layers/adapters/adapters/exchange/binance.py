"""Binance through ccxt: ``binance`` for SPOT keys, ``binanceusdm`` for FUTURES keys.

The API names symbols ``BTC/USDT``; with FUTURES that is the linear perpetual ``BTC/USDT:USDT``.
A warm container keeps:

- **markets once per market type actually used** (one public client each): a SPOT client loads only
  the spot exchangeInfo (ccxt's ``fetchMarkets`` types), a FUTURES client only the USD-M one;
- **one client per key** (by trade type and API key), built with those markets, so what ccxt caches for
  a key (its leverage brackets, the server time offset) is fetched once, not on every request. The secret
  stays only in that client's memory, as it would for the request; a changed secret (the key updated)
  builds a new client, and the least recently used clients leave beyond ``KEYED_CLIENTS``.

ccxt's client-side rate limiter is off: Binance's own weight headers and 429/418 answers pace the
requests (``limits``). Only the two ccxt modules in use are imported (see ``ccxt_loader``), and only when
a function first talks to the exchange.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from collections import OrderedDict
from functools import cache
from typing import TYPE_CHECKING, Any

from adapters.exchange.ccxt_loader import ccxt_module
from adapters.exchange.errors import exchange_errors
from adapters.exchange.limits import respect_limits, weight_gate
from adapters.exchange.shapes import api_symbol
from core.config import Settings, get_settings
from core.models.exchange import Balance, ExchangeId, KeyPermissions, TradeType
from core.models.trading import Candle, PriceRange
from core.services.valuation import STABLECOINS

if TYPE_CHECKING:
    from adapters.exchange.trading import BinanceTradingAccount

QUOTE = "USDT"
CANDLES_PER_READ = 1000  # weight 5 on USD-M for up to 1000 candles
# A fan-out container trades for many followers; each client holds its markets by reference.
KEYED_CLIENTS = 256
# The exchangeInfo documents a client loads: only its own market type's.
_MARKET_TYPES = {TradeType.SPOT: ["spot"], TradeType.FUTURES: ["linear"]}


def market_symbol(symbol: str, trade_type: TradeType) -> str:
    """The ccxt symbol of an API symbol: ``BTC/USDT`` with FUTURES is ``BTC/USDT:USDT``."""
    if trade_type is TradeType.FUTURES and ":" not in symbol:
        return f"{symbol}:{symbol.split('/')[1]}"
    return symbol


def _exchange_class(trade_type: TradeType) -> Any:  # a ccxt exchange class (ccxt has no types)
    if trade_type is TradeType.FUTURES:
        return ccxt_module("binanceusdm").binanceusdm
    return ccxt_module("binance").binance


def new_client(
    trade_type: TradeType, settings: Settings, api_key: str | None = None, secret: str | None = None
) -> Any:
    config: dict[str, Any] = {
        "enableRateLimit": False,  # Binance's own weight headers and 429s pace us (``limits``)
        "timeout": settings.exchange_timeout_ms,
        "options": {
            "fetchCurrencies": False,
            "adjustForTimeDifference": True,
            "fetchMarkets": {"types": _MARKET_TYPES[trade_type]},
        },
    }
    if api_key is not None:
        config.update(apiKey=api_key, secret=secret)
    client = _exchange_class(trade_type)(config)
    respect_limits(client, settings.exchange_throttle_retries, settings.exchange_retry_after_max_seconds)
    endpoint = settings.exchange_endpoint
    if endpoint == "demo":
        client.enable_demo_trading(True)
    elif endpoint != "live":
        from adapters.exchange.endpoints import point_at

        point_at(client, endpoint)
    return client


class _MarketCache:
    """One public client per market type, its markets loaded once and shared by every key's client; and
    one client per key, reused while its secret stays the same."""

    def __init__(self) -> None:
        self._clients: dict[TradeType, Any] = {}
        self._lock = threading.Lock()
        self._keyed: OrderedDict[tuple[TradeType, str], tuple[bytes, Any]] = OrderedDict()
        self._keyed_lock = threading.Lock()
        # Compares secrets without keeping a second copy or a plain hash of them.
        self._pepper = os.urandom(32)

    def public_client(self, trade_type: TradeType) -> Any:
        with self._lock:
            client = self._clients.get(trade_type)
            if client is None:
                client = new_client(trade_type, get_settings())
                with exchange_errors():
                    client.load_markets()
                self._clients[trade_type] = client
            return client

    def keyed_client(self, trade_type: TradeType, api_key: str, secret: str) -> Any:
        fingerprint = hmac.new(self._pepper, secret.encode(), hashlib.sha256).digest()
        slot = (trade_type, api_key)
        with self._keyed_lock:
            held = self._keyed.get(slot)
            if held is not None and hmac.compare_digest(held[0], fingerprint):
                self._keyed.move_to_end(slot)
                return held[1]
        public = self.public_client(trade_type)
        client = new_client(trade_type, get_settings(), api_key, secret)
        client.set_markets(public.markets, public.currencies)
        client.options["timeDifference"] = public.options.get("timeDifference", 0)
        with self._keyed_lock:
            self._keyed[slot] = (fingerprint, client)  # a changed secret replaces the old client
            self._keyed.move_to_end(slot)
            while len(self._keyed) > KEYED_CLIENTS:
                self._keyed.popitem(last=False)
        return client

    def clear(self) -> None:
        with self._lock:
            self._clients.clear()
        with self._keyed_lock:
            self._keyed.clear()
        weight_gate().clear()


@cache
def market_cache() -> _MarketCache:
    return _MarketCache()


def keyed_client(trade_type: TradeType, api_key: str, secret: str) -> Any:
    """The container's client of this key (built on first use, rebuilt when the secret changed)."""
    return market_cache().keyed_client(trade_type, api_key, secret)


def _amounts(values: dict[str, Any] | None) -> dict[str, float]:
    return {asset: float(amount or 0) for asset, amount in (values or {}).items()}


class BinanceAccount:
    """A user's key. The secret lives in this object for the request, and in the key's ccxt client."""

    def __init__(self, trade_type: TradeType, api_key: str, secret: str) -> None:
        self.trade_type = trade_type
        self._api_key = api_key
        self._secret = secret
        self._client: Any = None

    def __repr__(self) -> str:  # never show the credentials, even in a debugger or a traceback
        return f"BinanceAccount({self.trade_type.value})"

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = keyed_client(self.trade_type, self._api_key, self._secret)
        return self._client

    def permissions(self) -> KeyPermissions:
        # apiRestrictions is a spot (sapi) endpoint, whatever the key trades.
        spot = new_client(TradeType.SPOT, get_settings(), self._api_key, self._secret)
        with exchange_errors():
            restrictions = spot.sapi_get_account_apirestrictions()
        return KeyPermissions(
            can_read=bool(restrictions.get("enableReading")),
            can_trade_spot=bool(restrictions.get("enableSpotAndMarginTrading")),
            can_trade_futures=bool(restrictions.get("enableFutures")),
            can_withdraw=bool(restrictions.get("enableWithdrawals")),
            ip_restricted=bool(restrictions.get("ipRestrict")),
        )

    def balance(self) -> Balance:
        with exchange_errors():
            raw = self.client.fetch_balance()
        return Balance(
            free=_amounts(raw.get("free")), used=_amounts(raw.get("used")), total=_amounts(raw.get("total"))
        )


class BinanceMarketData:
    def ticker(self, symbol: str, trade_type: TradeType) -> dict[str, Any]:
        client = market_cache().public_client(trade_type)
        with exchange_errors():
            ticker = client.fetch_ticker(market_symbol(symbol, trade_type))
        return {**ticker, "symbol": api_symbol(ticker["symbol"])}

    def usd_prices(self, assets: set[str] | None = None) -> dict[str, float]:
        client = market_cache().public_client(TradeType.SPOT)
        wanted = {asset.upper() for asset in assets} if assets is not None else None
        symbols = [
            symbol
            for symbol, market in client.markets.items()
            if market.get("quote") == QUOTE
            and market.get("spot")
            and market.get("base") not in STABLECOINS
            and (wanted is None or market.get("base") in wanted)
        ]
        if not symbols:
            return {}
        with exchange_errors():
            tickers = client.fetch_tickers(symbols)
        return {
            ticker_symbol.split("/")[0]: float(ticker["last"])
            for ticker_symbol, ticker in tickers.items()
            if ticker.get("last")
        }

    def candles(self, symbol: str, trade_type: TradeType, since_ms: int) -> list[Candle]:
        """One candles request: the 1-minute candles from the one containing ``since_ms`` on."""
        client = market_cache().public_client(trade_type)
        minute = since_ms - since_ms % 60_000  # Binance starts at the first candle opening at or after it
        with exchange_errors():
            rows = client.fetch_ohlcv(market_symbol(symbol, trade_type), "1m", minute, CANDLES_PER_READ)
        return [
            Candle(
                open_ms=int(row[0]),
                open=float(row[1]),
                high=float(row[2]),
                low=float(row[3]),
                close=float(row[4]),
            )
            for row in rows
        ]

    def price_range(self, symbol: str, trade_type: TradeType, since_ms: int) -> PriceRange | None:
        """The lowest and highest price of the 1-minute candles since ``since_ms`` (one request).

        The last candle may still be forming; ``until_ms`` is its end, and the monitor reads from its
        opening again next time."""
        candles = self.candles(symbol, trade_type, since_ms)
        if not candles:
            return None
        return PriceRange(
            low=min(candle.low for candle in candles),
            high=max(candle.high for candle in candles),
            until_ms=candles[-1].open_ms + 60_000,
        )


class BinanceConnector:
    """Builds exchange access for the business logic (``core.ports.ExchangeConnector``)."""

    def account(
        self, exchange_id: ExchangeId, trade_type: TradeType, api_key: str, secret: str
    ) -> BinanceAccount:
        return BinanceAccount(trade_type, api_key, secret)

    def trading_account(
        self, exchange_id: ExchangeId, trade_type: TradeType, api_key: str, secret: str
    ) -> BinanceTradingAccount:
        from adapters.exchange.trading import BinanceTradingAccount

        return BinanceTradingAccount(trade_type, api_key, secret)

    def market_data(self, exchange_id: ExchangeId) -> BinanceMarketData:
        return BinanceMarketData()
