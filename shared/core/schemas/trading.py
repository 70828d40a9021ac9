"""Shapes of the trading routes: requests as the reference's parameter tables, answers in ccxt's
unified structures (order, trade, position) with the keys the reference shows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_core import InitErrorDetails

from core.models.trading import EntryType, OrderRequest, Side, StopTriggerType, TradeRecord
from core.schemas.exchange import Symbol
from core.schemas.rules import rule_error, validate_with_rules
from core.schemas.types import IntegerInput, JsonNumber, NumberInput

# Request numbers: finite JSON numbers or numeric strings, never booleans (core.schemas.types).
Price = Annotated[NumberInput, Field(gt=0)]


class ManualOrderBody(BaseModel):
    """POST /v1/priv/exchange/order/{API_KEY_ID}; the rules across fields are reported with the type errors."""

    symbol: Symbol
    type: Literal["LIMIT", "MARKET", "TRAILING_STOP"]
    side: Literal["BUY", "SELL"]
    price: Price | None = None
    amount: Annotated[NumberInput, Field(gt=0)]
    takeProfitPrices: Annotated[list[Price], Field(max_length=25)] | None = None
    stopTriggerPrice: Price | None = None
    stopTriggerType: Literal["LIMIT", "MARKET"] | None = None
    stopPrice: Price | None = None
    callbackRate: Annotated[NumberInput, Field(ge=0.1, le=5)] | None = None
    riskProfilePercent: Annotated[NumberInput, Field(gt=0, le=100)] | None = None

    @model_validator(mode="wrap")
    @classmethod
    def rules_across_fields(cls, data: Any, handler: Callable[[Any], ManualOrderBody]) -> ManualOrderBody:
        problems: list[InitErrorDetails] = []
        if isinstance(data, dict):
            trailing = data.get("type") == "TRAILING_STOP"
            if data.get("type") in ("LIMIT", "TRAILING_STOP") and data.get("price") is None:
                problems.append(
                    rule_error("must require price with type limit or trailing stop", "price", None)
                )
            if trailing and data.get("takeProfitPrices"):
                problems.append(
                    rule_error(
                        "must not use with type traililng stop", "takeProfitPrices", data["takeProfitPrices"]
                    )
                )
            if trailing and data.get("stopTriggerPrice") is not None:
                problems.append(
                    rule_error(
                        "must not use with type traililng stop", "stopTriggerPrice", data["stopTriggerPrice"]
                    )
                )
            if data.get("stopTriggerType") == "LIMIT" and data.get("stopPrice") is None:
                problems.append(
                    rule_error("must require stopPrice with type limit", "stopTriggerType", "LIMIT")
                )
            if trailing and data.get("callbackRate") is None:
                problems.append(
                    rule_error("must require callbackRate with type trailing stop", "callbackRate", None)
                )
            if (
                data.get("stopTriggerType") is not None
                and data.get("stopTriggerPrice") is None
                and not trailing
            ):
                problems.append(
                    rule_error("must require stopTriggerPrice", "stopTriggerType", data["stopTriggerType"])
                )
        return validate_with_rules(cls.__name__, data, handler, problems)

    def to_request(self) -> OrderRequest:
        return OrderRequest(
            symbol=self.symbol,
            type=EntryType(self.type),
            side=Side(self.side),
            amount=self.amount,
            price=self.price,
            take_profit_prices=self.takeProfitPrices or [],
            stop_trigger_price=self.stopTriggerPrice,
            stop_trigger_type=StopTriggerType(self.stopTriggerType or "MARKET")
            if self.stopTriggerPrice
            else None,
            stop_price=self.stopPrice,
            callback_rate=self.callbackRate,
            risk_profile_percent=self.riskProfilePercent,
        )


class SymbolBody(BaseModel):
    symbol: Symbol


class LeverageBody(BaseModel):
    symbol: Symbol
    leverage: Annotated[IntegerInput, Field(ge=1, le=125)]


class MarginBody(BaseModel):
    symbol: Symbol
    type: Literal["ISOLATED", "CROSSED"]


def history_fields(record: TradeRecord) -> dict[str, Any]:
    """The fields a trade record shows in the manual and the automated histories alike."""
    return {
        "orderId": record.order_id,
        "price": record.price,
        "amount": record.amount,
        "cost": record.cost,
        "stop": record.stop,
        "stopType": record.stop_type,
        "takeProfit": record.take_profit,
        "trailingTriggerPrice": record.trailing_trigger_price,
        "callbackRate": record.callback_rate,
        "riskProfilePercent": record.risk_profile_percent,
        "createdAt": record.created_at,
    }


class ManualHistoryItem(BaseModel):
    orderId: str | None
    price: JsonNumber | None
    amount: JsonNumber | None
    cost: JsonNumber | None
    stop: JsonNumber | None
    stopType: str | None
    takeProfit: list[JsonNumber]
    trailingTriggerPrice: JsonNumber | None
    callbackRate: JsonNumber | None
    riskProfilePercent: JsonNumber | None
    createdAt: str

    @classmethod
    def of(cls, record: TradeRecord) -> ManualHistoryItem:
        return cls(**history_fields(record))


class ManualHistory(BaseModel):
    items: list[ManualHistoryItem]
    nextToken: str | None
