"""Balances in USD: stablecoins at par, every other asset at its current price against USDT."""

from __future__ import annotations

from collections.abc import Mapping

STABLECOINS = frozenset({"USD", "USDT", "USDC", "BUSD", "FDUSD", "TUSD", "USDP", "DAI"})


def usd_value(amounts: Mapping[str, float], usd_prices: Mapping[str, float]) -> float:
    """Total value in USD, rounded to cents. An asset without a price counts as zero (dust, delisted)."""
    total = 0.0
    for asset, amount in amounts.items():
        if not amount:
            continue
        price = 1.0 if asset.upper() in STABLECOINS else usd_prices.get(asset.upper(), 0.0)
        total += float(amount) * price
    return round(total, 2)
