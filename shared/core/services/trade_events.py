"""The details of the trade events of ``trades.md``, built from trade records (ids and numbers, never secrets)."""

from __future__ import annotations

from typing import Any

from core.models.trading import TradeRecord


def _base(record: TradeRecord) -> dict[str, Any]:
    return {
        "userId": record.user_id,
        "keyId": record.key_id,
        "tradeId": record.trade_id,
        "origin": record.origin.value,
        "strategyId": record.strategy_id,
        "symbol": record.symbol,
        "side": record.side.value,
    }


def order_placed(record: TradeRecord) -> dict[str, Any]:
    return {
        **_base(record),
        "type": record.entry_type.value,
        "amount": record.amount,
        "price": record.price,
        "stop": record.stop,
        "takeProfit": list(record.take_profit),
    }


def take_profit_filled(
    record: TradeRecord, index: int, price: float | None, amount: float | None, remaining: float
) -> dict[str, Any]:
    return {**_base(record), "index": index, "price": price, "amount": amount, "remaining": remaining}


def stop_loss_filled(record: TradeRecord, price: float | None, amount: float | None) -> dict[str, Any]:
    return {**_base(record), "price": price, "amount": amount}


def trade_closed(record: TradeRecord) -> dict[str, Any]:
    return {
        **_base(record),
        "entryPrice": record.price,
        "exitPrice": record.exit_price,
        "amount": record.amount,
        "realizedPnl": record.realized_pnl,
        "fees": record.fees,
        "reason": record.close_reason.value if record.close_reason else None,
    }


def trade_repaired(record: TradeRecord, problem: str, action: str) -> dict[str, Any]:
    return {**_base(record), "problem": problem, "action": action}
