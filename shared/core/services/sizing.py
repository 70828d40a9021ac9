"""Sizing a follower's order to its risk (``strategies.md``, "Sizing"). Pure."""

from __future__ import annotations

from decimal import Decimal

from core.models.trading import MarketRules

MARGIN_USE = Decimal("0.95")  # never the whole margin: fees and the mark price's moves need room


def follower_amount(
    equity_usd: float,
    max_balance_usd: float | None,
    risk_percent: float,
    entry: float,
    stop: float,
    leverage: int,
    rules: MarketRules,
) -> Decimal | None:
    """The amount that risks ``risk_percent`` of the equity between entry and stop, within the margin the
    leverage gives, rounded down to the step; None below the market's minimum amount or notional."""
    equity = Decimal(str(equity_usd))
    if max_balance_usd is not None:
        equity = min(equity, Decimal(str(max_balance_usd)))
    entry_price, stop_price = Decimal(str(entry)), Decimal(str(stop))
    distance = abs(entry_price - stop_price)
    if equity <= 0 or distance == 0 or entry_price <= 0:
        return None
    amount = equity * Decimal(str(risk_percent)) / 100 / distance
    amount = min(amount, equity * leverage * MARGIN_USE / entry_price)
    amount = rules.round_amount(amount)
    if amount < rules.min_amount or amount <= 0:
        return None
    if rules.min_cost is not None and amount * entry_price < rules.min_cost:
        return None
    if rules.max_market_amount is not None:
        amount = min(amount, rules.round_amount(rules.max_market_amount))
    return amount
