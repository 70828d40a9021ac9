"""POST /v1/hook/strategy/{STRATEGY_ID}/signal: a manual order without an amount, plus the signal's own fields.

The ``secret`` is checked before anything else (``core.services.signals``); this model validates the rest,
every invalid field at once, with the messages of Create Manual Order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StrictBool, StrictStr, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from core.models.base import Model
from core.models.signals import Signal, SignalAction
from core.models.trading import EntryType, Side, StopTriggerType
from core.schemas.rules import rule_error, validate_with_rules
from core.schemas.types import IntegerInput, NumberInput

Price = Annotated[NumberInput, Field(gt=0)]
DEFAULT_MAX_LAG_SECONDS = 120


def _printable(value: str) -> str:
    if not value.isprintable():
        raise PydanticCustomError("printable", "must be printable characters")
    return value


def _iso_datetime(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PydanticCustomError("iso_datetime", "must be an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


class SignalBody(Model):
    action: Literal["OPEN", "CLOSE"] = "OPEN"
    side: Literal["BUY", "SELL"] | None = None
    type: Literal["MARKET", "LIMIT"] = "MARKET"
    price: Price | None = None
    takeProfitPrices: Annotated[list[Price], Field(max_length=25)] | None = None
    stopTriggerPrice: Price | None = None
    stopTriggerType: Literal["LIMIT", "MARKET"] | None = None
    stopPrice: Price | None = None
    leverage: Annotated[IntegerInput, Field(ge=1, le=125)] = 1
    signalId: Annotated[StrictStr, Field(min_length=1, max_length=128), AfterValidator(_printable)] | None = (
        None
    )
    timestamp: Annotated[StrictStr, Field(max_length=40), AfterValidator(_iso_datetime)] | None = None
    maxLagSeconds: Annotated[IntegerInput, Field(ge=1, le=86400)] = DEFAULT_MAX_LAG_SECONDS
    maxSlippagePercent: Annotated[NumberInput, Field(gt=0, le=100)] | None = None
    moveStopToEntryAfterTakeProfit: StrictBool = False

    @model_validator(mode="wrap")
    @classmethod
    def rules_across_fields(cls, data: Any, handler: Callable[[Any], SignalBody]) -> SignalBody:
        problems: list[InitErrorDetails] = []
        if isinstance(data, dict) and data.get("action", "OPEN") == "OPEN":
            if data.get("side") is None:
                problems.append(rule_error("is required", "side", None))
            if data.get("stopTriggerPrice") is None:
                problems.append(
                    rule_error(
                        "is required: followers are sized by their risk to the stop", "stopTriggerPrice", None
                    )
                )
            if data.get("type") == "LIMIT" and data.get("price") is None:
                problems.append(rule_error("must require price with type limit", "price", None))
            if data.get("stopTriggerType") == "LIMIT" and data.get("stopPrice") is None:
                problems.append(
                    rule_error("must require stopPrice with type limit", "stopTriggerType", "LIMIT")
                )
        return validate_with_rules(cls.__name__, data, handler, problems)

    def to_signal(self) -> Signal:
        return Signal(
            action=SignalAction(self.action),
            side=Side(self.side) if self.side else None,
            type=EntryType(self.type),
            price=self.price,
            take_profit_prices=self.takeProfitPrices or [],
            stop_trigger_price=self.stopTriggerPrice,
            stop_trigger_type=StopTriggerType(self.stopTriggerType) if self.stopTriggerType else None,
            stop_price=self.stopPrice,
            leverage=self.leverage,
            signal_id=self.signalId,
            timestamp=self.timestamp,
            max_slippage_percent=self.maxSlippagePercent,
            move_stop_to_entry_after_take_profit=self.moveStopToEntryAfterTakeProfit,
        )


class SignalAccepted(Model):
    triggerId: str = Field(description="The recorded trigger (StrategyAutomatedTrigger)")
    followers: int = Field(description="How many followers the signal fans out to")


class SignalRequest(SignalBody):
    """The route's body as the OpenAPI document shows it: the strategy's secret and the signal. Only the
    document uses it; the route checks the secret before it validates the rest (``core.services.signals``)."""

    secret: str = Field(
        description="The strategy's signal secret, as its operator reads it from Secrets Manager"
    )


SIGNAL_EXAMPLE: dict[str, Any] = {
    "secret": "the strategy's signal secret",
    "action": "OPEN",
    "side": "BUY",
    "type": "MARKET",
    "takeProfitPrices": [19250, 19300],
    "stopTriggerPrice": 19000,
    "leverage": 5,
    "signalId": "tv-2022-10-11T21:06:00Z-1",
}
