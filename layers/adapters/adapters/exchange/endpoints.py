"""Point a ccxt Binance client (``binance`` or ``binanceusdm``) at another base URL.

Used for the local Binance simulator (``local.exchange_sim``) and any Binance-compatible endpoint:
every entry of ``exchange.urls['api']`` (``public``/``private`` = /api/v3, ``sapi*``, ``fapiPublic*``,
``fapiPrivate*`` = /fapi/v1..v3, ``dapi*``, ``eapi*``, ``papi*``, ...) keeps its path and gets the new
scheme and host, so ccxt itself is not patched and signs and parses exactly as against binance.com.

One thing does depend on the host: ccxt chooses part of its error mapping from the URL
(``binance.get_exceptions_by_url`` only recognises ``https://api.binance.com/``,
``https://fapi.binance.com/``, ...). Against any other host it falls back to the shared table and,
for example, futures ``-2019 "Margin is insufficient."`` becomes a bare ExchangeError instead of
InsufficientFunds. ``point_at`` therefore copies the table of the client's own market into its shared
table: USD-M ("linear") for ``binanceusdm`` (default type swap), spot for ``binance``. Callers then see
the exception classes they will see in production for the endpoints that client is meant for (a
``binance`` instance used for futures calls keeps the spot classes). Only the standard library is
used: ccxt is whatever object is passed in.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def point_at(exchange: Any, base_url: str, *, binance_error_classes: bool = True) -> None:
    """Rewrite ``exchange.urls['api']`` to ``base_url`` + each entry's original path.

    ``base_url`` is e.g. ``"http://127.0.0.1:54321"`` (a trailing slash or path prefix is kept as a
    prefix: ``"http://gw/binance"`` gives ``"http://gw/binance/fapi/v1"``).
    """
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) base URL: {base_url!r}")
    prefix = base_url.rstrip("/")
    api = exchange.urls.get("api")
    if not isinstance(api, dict):
        raise TypeError("exchange.urls['api'] is not a dict of URLs; is this a ccxt Binance client?")
    exchange.urls["api"] = {
        name: prefix + urlsplit(url).path if isinstance(url, str) else url for name, url in api.items()
    }
    if binance_error_classes:
        _adopt_market_error_tables(exchange)


def _market_table(exchange: Any) -> str:
    """The URL-selected table ccxt would use for this client's main endpoints."""
    options = getattr(exchange, "options", None) or {}
    if options.get("defaultType") in ("swap", "future"):
        return "inverse" if options.get("defaultSubType") == "inverse" else "linear"
    return "spot"


def _adopt_market_error_tables(exchange: Any) -> None:
    exceptions = getattr(exchange, "exceptions", None)
    if not isinstance(exceptions, dict):
        return
    table = exceptions.get(_market_table(exchange), {})
    for kind in ("exact", "broad"):
        shared = exceptions.get(kind)
        specific = table.get(kind) if isinstance(table, dict) else None
        if isinstance(shared, dict) and isinstance(specific, dict):
            # The market table wins, as it does when ccxt consults it first. A new dict on the
            # instance keeps other clients untouched.
            exceptions[kind] = {**shared, **specific}
