"""Shapes of the trading routes: requests as the reference's parameter tables, answers in ccxt's
unified structures (order, trade, position) with the keys the reference shows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, model_validator
from pydantic_core import InitErrorDetails

from core.models.base import Model
from core.models.trading import EntryType, OrderRequest, Side, StopTriggerType, TradeRecord
from core.schemas.exchange import Symbol
from core.schemas.rules import rule_error, validate_with_rules
from core.schemas.types import DateTimeText, IntegerInput, JsonNumber, NumberInput

# Request numbers: finite JSON numbers or numeric strings, never booleans (core.schemas.types).
Price = Annotated[NumberInput, Field(gt=0)]


class ManualOrderBody(Model):
    """POST /v1/priv/exchange/order/{API_KEY_ID}; the rules across fields are reported with the type errors.

    A field the route does not know is refused, not ignored: a misspelt ``stopTriggerPrice`` would
    otherwise place a position without the stop its user asked for."""

    model_config = ConfigDict(extra="forbid")

    symbol: Symbol = Field(description="Exchange symbol, e.g. BTC/USDT")
    type: Literal["LIMIT", "MARKET", "TRAILING_STOP"] = Field(description="Order trade type")
    side: Literal["BUY", "SELL"] = Field(description="FUTURES keys support both BUY and SELL")
    price: Price | None = Field(None, description="Order price; required with type LIMIT and TRAILING_STOP")
    amount: Annotated[NumberInput, Field(gt=0)] = Field(
        description="Order amount (a number or numeric string)"
    )
    takeProfitPrices: Annotated[list[Price], Field(max_length=25)] | None = Field(
        None,
        description="LIMIT take-profit prices, at most 25; not with type TRAILING_STOP. e.g. [1234, 1235]",
    )
    stopTriggerPrice: Price | None = Field(
        None, description="Stop-loss trigger price; not with type TRAILING_STOP"
    )
    stopTriggerType: Literal["LIMIT", "MARKET"] | None = Field(
        None, description="Stop-loss trigger price type; needs stopTriggerPrice"
    )
    stopPrice: Price | None = Field(None, description="Required if stopTriggerType is LIMIT")
    callbackRate: Annotated[NumberInput, Field(ge=0.1, le=5)] | None = Field(
        None, description="Required with type TRAILING_STOP: 0.1 to 5, where 1 is 1%"
    )
    riskProfilePercent: Annotated[NumberInput, Field(gt=0, le=100)] | None = Field(
        None, description="Should be sent if the amount is derived from a risk of equity percentage; 1 is 1%"
    )

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


class SymbolBody(Model):
    symbol: Symbol = Field(description="Exchange symbol, e.g. BTC/USDT")


class LeverageBody(Model):
    symbol: Symbol = Field(description="Exchange symbol, e.g. BTC/USDT")
    leverage: Annotated[IntegerInput, Field(ge=1, le=125)] = Field(
        description="The new leverage, 1 to 125; over the wallet balance's limit the exchange refuses (1500)"
    )


class MarginBody(Model):
    symbol: Symbol = Field(description="Exchange symbol, e.g. BTC/USDT")
    type: Literal["ISOLATED", "CROSSED"] = Field(description="The new margin type")


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


class ManualHistoryItem(Model):
    orderId: str | None = Field(description="Exchange order id of the entry")
    price: JsonNumber | None = Field(description="Entry price")
    amount: JsonNumber | None = Field(description="Order amount")
    cost: JsonNumber | None = Field(description="Price times amount")
    stop: JsonNumber | None = Field(description="Stop-loss trigger price")
    stopType: str | None = Field(description="Stop-loss trigger type: LIMIT or MARKET")
    takeProfit: list[JsonNumber] = Field(description="Take-profit prices")
    trailingTriggerPrice: JsonNumber | None = Field(description="Trailing stop activation price")
    callbackRate: JsonNumber | None = Field(description="Trailing stop callback rate, 1 is 1%")
    riskProfilePercent: JsonNumber | None = Field(
        description="Risk of equity the amount was sized by, 1 is 1%"
    )
    createdAt: DateTimeText = Field(description="Order created datetime")

    @classmethod
    def of(cls, record: TradeRecord) -> ManualHistoryItem:
        return cls(**history_fields(record))


class ManualHistory(Model):
    items: list[ManualHistoryItem]
    nextToken: str | None = Field(description="Pass as nextToken for the next page; null on the last")
