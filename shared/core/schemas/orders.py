"""The answers of the trading routes: orders, fills and positions in the keys the reference shows,
built from the core's typed models (never from the exchange library's structures)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from core.models.base import Model
from core.models.trading import ExchangeFee, ExchangeFill, ExchangeOrder, ExchangePosition


class FeeOut(Model):
    cost: float | None = Field(description="Fee amount")
    currency: str | None = Field(description="Fee currency")

    @classmethod
    def of(cls, fee: ExchangeFee | None) -> FeeOut | None:
        return cls(cost=fee.cost, currency=fee.currency) if fee is not None else None


class OrderOut(Model):
    """An order as the exchange holds it (ccxt's unified order, Binance's type names)."""

    model_config = ConfigDict(populate_by_name=True)

    id: str | None = Field(description="Exchange order id")
    clientOrderId: str | None = Field(description="Client order id")
    timestamp: int | None = Field(description="Creation time, Unix milliseconds")
    datetime: str | None = Field(description="Creation time, ISO 8601")
    symbol: str = Field(description="Exchange symbol, e.g. BTC/USDT")
    type: str | None = Field(
        description="market, limit, take_profit, stop, stop_market, trailing_stop_market ..."
    )
    timeInForce: str | None = Field(description="GTC, IOC, FOK, GTX ...")
    postOnly: bool | None = Field(description="Maker only")
    reduceOnly: bool | None = Field(description="Only reduces the position (take profits and stops)")
    side: str | None = Field(description="buy or sell")
    price: float | None = Field(description="Order price (the fill price of a market order)")
    stopPrice: float | None = Field(description="Trigger price of a conditional order")
    amount: float | None = Field(description="Ordered amount, in the base currency")
    cost: float | None = Field(description="Filled amount times average price")
    average: float | None = Field(description="Average fill price")
    filled: float | None = Field(description="Filled amount")
    remaining: float | None = Field(description="Amount still to fill")
    status: str | None = Field(description="open, closed, canceled, expired or rejected")
    fee: FeeOut | None = Field(description="The order's fee, when the exchange reports one")
    trades: list[Any] = Field(description="Always empty: fills are listed by List Trade History")
    fees: list[FeeOut] = Field(description="The order's fees by currency")

    @classmethod
    def of(cls, order: ExchangeOrder) -> OrderOut:
        return cls(
            id=order.id,
            clientOrderId=order.client_order_id,
            timestamp=order.timestamp,
            datetime=order.datetime,
            symbol=order.symbol,
            type=order.type,
            timeInForce=order.time_in_force,
            postOnly=order.post_only,
            reduceOnly=order.reduce_only,
            side=order.side,
            price=order.price,
            stopPrice=order.stop_price,
            amount=order.amount,
            cost=order.cost,
            average=order.average,
            filled=order.filled,
            remaining=order.remaining,
            status=order.status,
            fee=FeeOut.of(order.fee),
            trades=[],
            fees=[fee for fee in map(FeeOut.of, order.fees) if fee is not None],
        )


class TradeOut(Model):
    """One execution of an order, with its fees."""

    id: str | None = Field(description="Exchange trade id")
    order: str | None = Field(description="Exchange order id")
    symbol: str = Field(description="Exchange symbol, e.g. BTC/USDT")
    type: str | None = Field(description="The order's type, when the exchange reports it")
    datetime: str | None = Field(description="Execution time, ISO 8601")
    side: str | None = Field(description="buy or sell")
    takerOrMaker: str | None = Field(description="taker or maker")
    price: float | None = Field(description="Execution price")
    amount: float | None = Field(description="Executed amount")
    cost: float | None = Field(description="Price times amount")
    fee: FeeOut | None = Field(description="The execution's fee")
    fees: list[FeeOut] = Field(description="The execution's fees by currency")

    @classmethod
    def of(cls, fill: ExchangeFill) -> TradeOut:
        return cls(
            id=fill.id,
            order=fill.order_id,
            symbol=fill.symbol,
            type=fill.type,
            datetime=fill.datetime,
            side=fill.side,
            takerOrMaker=fill.taker_or_maker,
            price=fill.price,
            amount=fill.amount,
            cost=fill.cost,
            fee=FeeOut.of(fill.fee),
            fees=[fee for fee in map(FeeOut.of, fill.fees) if fee is not None],
        )


class PositionOut(Model):
    """The open futures position of one symbol (ccxt's unified position)."""

    symbol: str = Field(description="Exchange symbol, e.g. BTC/USDT")
    contracts: float = Field(description="Position size, in contracts")
    contractSize: float | None = Field(description="Base currency per contract")
    unrealizedPnl: float | None = Field(description="Unrealized profit and loss, in the quote currency")
    leverage: float | None = Field(description="Leverage")
    liquidationPrice: float | None = Field(description="Liquidation price")
    collateral: float | None = Field(description="Margin held for the position")
    notional: float | None = Field(description="Position value at the mark price")
    markPrice: float | None = Field(description="Mark price")
    entryPrice: float | None = Field(description="Average entry price")
    initialMargin: float | None
    initialMarginPercentage: float | None
    maintenanceMargin: float | None
    maintenanceMarginPercentage: float | None
    marginRatio: float | None
    datetime: str | None
    marginMode: str | None = Field(description="isolated or cross")
    marginType: str | None = Field(description="The same as marginMode")
    side: str | None = Field(description="long or short")
    hedged: bool | None
    percentage: float | None

    @classmethod
    def of(cls, position: ExchangePosition) -> PositionOut:
        return cls(
            symbol=position.symbol,
            contracts=position.contracts,
            contractSize=position.contract_size,
            unrealizedPnl=position.unrealized_pnl,
            leverage=position.leverage,
            liquidationPrice=position.liquidation_price,
            collateral=position.collateral,
            notional=position.notional,
            markPrice=position.mark_price,
            entryPrice=position.entry_price,
            initialMargin=position.initial_margin,
            initialMarginPercentage=position.initial_margin_percentage,
            maintenanceMargin=position.maintenance_margin,
            maintenanceMarginPercentage=position.maintenance_margin_percentage,
            marginRatio=position.margin_ratio,
            datetime=position.datetime,
            marginMode=position.margin_mode,
            marginType=position.margin_mode,
            side=position.side,
            hedged=position.hedged,
            percentage=position.percentage,
        )
