"""USD-M futures account settings and figures: leverage, margin type, position metrics, margins.

One-way positions only (``positionSide`` BOTH), no funding and no liquidation engine: the figures
are what Binance reports for such an account at the current mark price.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from local.exchange_sim import errors
from local.exchange_sim.market import ONE, ZERO, Bracket, MarketSpec
from local.exchange_sim.model import Account, FuturesSummary, PositionMetrics, SymbolSettings
from local.exchange_sim.state import EngineState


class FuturesMargin(EngineState):
    def max_notional(self, spec: MarketSpec, leverage: int) -> Decimal:
        """Largest position notional allowed at ``leverage`` (cap of the last bracket allowing it)."""
        allowed = [b for b in spec.brackets if b.initial_leverage >= leverage]
        return allowed[-1].notional_cap if allowed else ZERO

    def set_leverage(self, account: Account, spec: MarketSpec, leverage: int) -> SymbolSettings:
        with self.lock:
            position = account.position(spec.symbol_id)
            notional = abs(position.amount) * self.mark(spec)
            if leverage < 1 or leverage > spec.bracket_for(notional).initial_leverage:
                raise errors.leverage_not_valid(str(leverage))
            settings = account.settings_for(spec.symbol_id)
            settings.leverage = leverage
            return settings

    def set_margin_type(self, account: Account, spec: MarketSpec, margin_type: str) -> None:
        with self.lock:
            settings = account.settings_for(spec.symbol_id)
            if settings.margin_type == margin_type:
                raise errors.no_need_to_change_margin_type()
            if account.position(spec.symbol_id).amount:
                raise errors.margin_type_position()
            if account.open_orders("futures", spec.symbol_id) or account.open_algos(spec.symbol_id):
                raise errors.margin_type_open_orders()
            settings.margin_type = margin_type

    def position_metrics(self, account: Account, spec: MarketSpec) -> PositionMetrics:
        with self.lock:
            position = account.position(spec.symbol_id)
            settings = account.settings_for(spec.symbol_id)
            mark = self.mark(spec)
            amount = position.amount
            notional = amount * mark
            size = abs(amount)
            bracket: Bracket = spec.bracket_for(abs(notional))
            maint = max(ZERO, abs(notional) * bracket.maint_margin_ratio - bracket.cum) if amount else ZERO
            isolated = settings.margin_type == "ISOLATED"
            isolated_wallet = size * position.entry_price / settings.leverage if isolated and amount else ZERO
            order_margin = sum(
                (
                    (o.quantity - o.executed_qty) * o.price / settings.leverage
                    for o in account.open_orders("futures", spec.symbol_id)
                    if o.type == "LIMIT" and not o.reduce_only
                ),
                ZERO,
            )
            liquidation = ZERO
            break_even = ZERO
            if amount:
                # Binance's one-way formula with this position as the only one: the wallet (cross) or
                # the isolated margin is what stands between the entry and the liquidation.
                wallet = isolated_wallet if isolated else account.futures_wallet.get(spec.quote, ZERO)
                direction = ONE if amount > 0 else -ONE
                ratio = bracket.maint_margin_ratio
                liquidation = max(
                    ZERO,
                    (wallet + bracket.cum - direction * size * position.entry_price)
                    / (size * ratio - direction * size),
                )
                break_even = position.entry_price * (ONE + direction * spec.taker_fee)
            return PositionMetrics(
                spec=spec,
                amount=amount,
                entry_price=position.entry_price,
                mark_price=mark,
                notional=notional,
                unrealized_pnl=(mark - position.entry_price) * amount if amount else ZERO,
                initial_margin=abs(notional) / settings.leverage,
                maint_margin=maint,
                open_order_margin=order_margin,
                isolated_wallet=isolated_wallet,
                liquidation_price=liquidation,
                break_even_price=break_even,
                leverage=settings.leverage,
                margin_type=settings.margin_type,
                updated_ms=position.updated_ms,
            )

    def futures_summary(self, account: Account, asset: str = "USDT") -> FuturesSummary:
        with self.lock:
            metrics = [self.position_metrics(account, spec) for spec in self._futures_specs(asset)]
            return FuturesSummary(
                wallet=account.futures_wallet.get(asset, ZERO),
                unrealized_pnl=sum((m.unrealized_pnl for m in metrics), ZERO),
                position_margin=sum((m.initial_margin for m in metrics), ZERO),
                order_margin=sum((m.open_order_margin for m in metrics), ZERO),
                maint_margin=sum((m.maint_margin for m in metrics), ZERO),
            )

    def _futures_specs(self, margin_asset: str | None = None) -> Iterable[MarketSpec]:
        return [s for s in self.markets.of_kind("futures") if margin_asset is None or s.quote == margin_asset]
