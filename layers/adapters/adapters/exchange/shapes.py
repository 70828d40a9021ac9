"""ccxt's unified structures become the core's typed models here, and nowhere else."""

from __future__ import annotations

from typing import Any

from core.models.trading import ExchangeFee, ExchangeFill, ExchangeOrder, ExchangePosition


def api_symbol(market: str | None) -> str:
    return (market or "").split(":", 1)[0]


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _fee(raw: Any) -> ExchangeFee | None:
    if not isinstance(raw, dict):
        return None
    return ExchangeFee(cost=_number(raw.get("cost")), currency=raw.get("currency"))


def _fees(raw: dict[str, Any]) -> list[ExchangeFee]:
    fees = [fee for fee in map(_fee, raw.get("fees") or []) if fee is not None]
    if not fees and (single := _fee(raw.get("fee"))) is not None:
        fees = [single]
    return fees


def to_order(raw: dict[str, Any], conditional: bool = False) -> ExchangeOrder:
    info = raw.get("info") or {}
    # ccxt reports a conditional order as a plain limit/market order with a trigger price; the API names
    # it as Binance does (take_profit, stop, stop_market, trailing_stop_market ...).
    original = str(info.get("orderType") or info.get("origType") or "").lower()
    stop_price = raw.get("stopPrice") if raw.get("stopPrice") is not None else raw.get("triggerPrice")
    return ExchangeOrder(
        id=str(raw["id"]) if raw.get("id") is not None else None,
        client_order_id=raw.get("clientOrderId"),
        timestamp=raw.get("timestamp"),
        datetime=raw.get("datetime"),
        symbol=api_symbol(raw.get("symbol")),
        type=original or raw.get("type"),
        time_in_force=raw.get("timeInForce"),
        post_only=raw.get("postOnly"),
        # A stop or take-profit placed with closePosition (Binance's position TP/SL) reports reduceOnly
        # false, yet can only close: it is an exit like ours.
        reduce_only=True if str(info.get("closePosition")).lower() == "true" else raw.get("reduceOnly"),
        side=raw.get("side"),
        price=_number(raw.get("price")),
        stop_price=_number(stop_price),
        amount=_number(raw.get("amount")),
        cost=_number(raw.get("cost")),
        average=_number(raw.get("average")),
        filled=_number(raw.get("filled")),
        remaining=_number(raw.get("remaining")),
        status=raw.get("status"),
        fee=_fee(raw.get("fee")),
        fees=_fees(raw),
        conditional=conditional or bool(info.get("algoId")),
    )


def to_fill(raw: dict[str, Any]) -> ExchangeFill:
    return ExchangeFill(
        id=str(raw["id"]) if raw.get("id") is not None else None,
        order_id=str(raw["order"]) if raw.get("order") is not None else None,
        symbol=api_symbol(raw.get("symbol")),
        type=raw.get("type"),
        timestamp=raw.get("timestamp"),
        datetime=raw.get("datetime"),
        side=raw.get("side"),
        taker_or_maker=raw.get("takerOrMaker"),
        price=_number(raw.get("price")),
        amount=_number(raw.get("amount")),
        cost=_number(raw.get("cost")),
        fee=_fee(raw.get("fee")),
        fees=_fees(raw),
    )


def to_position(raw: dict[str, Any]) -> ExchangePosition:
    return ExchangePosition(
        symbol=api_symbol(raw.get("symbol")),
        side=raw.get("side"),
        contracts=abs(_number(raw.get("contracts")) or 0.0),
        contract_size=_number(raw.get("contractSize")),
        entry_price=_number(raw.get("entryPrice")),
        mark_price=_number(raw.get("markPrice")),
        notional=_number(raw.get("notional")),
        leverage=_number(raw.get("leverage")),
        unrealized_pnl=_number(raw.get("unrealizedPnl")),
        liquidation_price=_number(raw.get("liquidationPrice")),
        collateral=_number(raw.get("collateral")),
        initial_margin=_number(raw.get("initialMargin")),
        initial_margin_percentage=_number(raw.get("initialMarginPercentage")),
        maintenance_margin=_number(raw.get("maintenanceMargin")),
        maintenance_margin_percentage=_number(raw.get("maintenanceMarginPercentage")),
        margin_ratio=_number(raw.get("marginRatio")),
        margin_mode=raw.get("marginMode"),
        hedged=raw.get("hedged"),
        percentage=_number(raw.get("percentage")),
        datetime=raw.get("datetime"),
    )
