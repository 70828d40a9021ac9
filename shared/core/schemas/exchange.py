"""Shapes of the exchange routes, as the API reference documents them."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from core.models.base import Model
from core.models.exchange import Balance, BalanceSnapshot, ExchangeKey
from core.schemas.types import DateText, DateTimeText, JsonNumber, UuidText


def _printable(value: str) -> str:
    if not value.isprintable():  # no control characters (NUL, newlines ...) in a name shown to people
        raise PydanticCustomError("printable", "must be printable characters")
    return value


KeyName = Annotated[StrictStr, Field(min_length=1, max_length=24), AfterValidator(_printable)]
# Binance keys are 64 alphanumerics; the bound leaves room for other exchanges without accepting junk.
Credential = Annotated[StrictStr, Field(min_length=8, max_length=256, pattern=r"^[A-Za-z0-9_\-]+$")]
SYMBOL = re.compile(r"^[A-Z0-9]{2,20}/[A-Z0-9]{2,20}$")
MAX_SYMBOL_LENGTH = 41
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def exchange_symbol(value: str) -> str:
    if len(value) > MAX_SYMBOL_LENGTH or not SYMBOL.fullmatch(value):
        raise PydanticCustomError("symbol", "must be valid exchange symbol")
    return value


class ExchangeKeyCreate(Model):
    exchangeId: Literal["BINANCE"] = Field(description="Exchange ID")
    # strategyType is declared before tradeType so that tradeType's check can see it.
    strategyType: Literal["AUTOMATED", "MANUAL"] = Field(
        description="API key strategy type. Only MANUAL can be assigned tradeType SPOT or FUTURES; AUTOMATED "
        "needs FUTURES"
    )
    tradeType: Literal["SPOT", "FUTURES"] = Field(description="API key trade type")
    active: StrictBool = Field(True, description="Exchange API key active")
    name: KeyName = Field(description="User defined name of the API key (1 to 24 characters)")
    apiKey: Credential = Field(description="Exchange API key")
    apiSecretKey: Credential = Field(repr=False, description="Exchange API secret key (stored encrypted)")

    @field_validator("tradeType")
    @classmethod
    def automated_needs_futures(cls, value: str, info: ValidationInfo) -> str:
        if value == "SPOT" and info.data.get("strategyType") == "AUTOMATED":
            raise PydanticCustomError("trade_type", "cannot be assigned to AUTOMATED strategy")
        return value


class ExchangeKeyUpdate(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Change to different name"}]})

    name: KeyName | None = Field(None, description="User defined name of the API key (1 to 24 characters)")


class ExchangeKeyOut(Model):
    id: UuidText = Field(description="API_KEY_ID")
    exchangeId: Literal["BINANCE"] = Field(description="Exchange ID")
    tradeType: Literal["SPOT", "FUTURES"] = Field(description="API key trade type")
    strategyType: Literal["AUTOMATED", "MANUAL"] = Field(description="API key strategy type")
    active: bool = Field(description="Exchange API key active; false if apiKeyStatus is UNAUTHORIZED")
    name: str = Field(description="User defined name of the API key")
    apiKeyStatus: Literal["AUTHORIZED", "UNAUTHORIZED", "FAILED"] = Field(
        description="API key last access status"
    )
    apiKey: str = Field(description="Exchange API key (never the secret)")
    createdAt: DateTimeText = Field(description="Exchange key created datetime")
    updatedAt: DateTimeText = Field(description="Exchange key data last updated datetime")

    @classmethod
    def of(cls, key: ExchangeKey) -> ExchangeKeyOut:
        return cls(
            id=key.id,
            exchangeId=key.exchange_id.value,
            tradeType=key.trade_type.value,
            strategyType=key.strategy_type.value,
            active=key.active,
            name=key.name,
            apiKeyStatus=key.status.value,
            apiKey=key.api_key,
            createdAt=key.created_at,
            updatedAt=key.updated_at,
        )


class ExchangeKeyList(Model):
    items: list[ExchangeKeyOut]


class BalanceOut(Model):
    free: dict[str, JsonNumber] = Field(description="By asset: available to place a new order")
    used: dict[str, JsonNumber] = Field(description="By asset: on hold for other orders")
    total: dict[str, JsonNumber] = Field(description="By asset: the total amount")

    @classmethod
    def of(cls, balance: Balance) -> BalanceOut:
        return cls(free=balance.free, used=balance.used, total=balance.total)


class TotalBalanceOut(Model):
    USD: JsonNumber = Field(description="The sum of the account's active API key balances, in USD")


class BalanceHistoryItem(Model):
    date: DateText = Field(description="Date the balance was captured")
    totalUSD: JsonNumber = Field(description="The key's total balance converted to USD")

    @classmethod
    def of(cls, snapshot: BalanceSnapshot) -> BalanceHistoryItem:
        return cls(date=snapshot.date, totalUSD=snapshot.total_usd)


class BalanceHistory(Model):
    items: list[BalanceHistoryItem]
    nextToken: str | None = Field(description="Pass as nextToken for the next page; null on the last")


def iso_date(value: str) -> str:
    if not ISO_DATE.fullmatch(value):  # fromisoformat alone also takes week dates (2022-W01-1)
        raise PydanticCustomError("date", "must be a date (YYYY-MM-DD)")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("date", "must be a date (YYYY-MM-DD)") from None
    return value


class TickerOut(Model):
    symbol: str = Field(description="Exchange symbol, e.g. BTC/USDT")
    timestamp: int | None = Field(description="Unix milliseconds")
    datetime: str | None = Field(description="ISO 8601")
    high: JsonNumber | None
    low: JsonNumber | None
    vwap: JsonNumber | None
    open: JsonNumber | None
    close: JsonNumber | None
    last: JsonNumber | None
    change: JsonNumber | None
    percentage: JsonNumber | None
    average: JsonNumber | None
    baseVolume: JsonNumber | None
    quoteVolume: JsonNumber | None

    @classmethod
    def of(cls, ticker: dict[str, Any]) -> TickerOut:
        return cls.model_validate({name: ticker.get(name) for name in cls.model_fields})


Symbol = Annotated[
    StrictStr,
    AfterValidator(exchange_symbol),
    # For the document only (the validator above is what refuses, with the reference's message).
    Field(
        json_schema_extra={
            "pattern": SYMBOL.pattern,
            "maxLength": MAX_SYMBOL_LENGTH,
            "examples": ["BTC/USDT"],
        }
    ),
]
IsoDate = Annotated[StrictStr, AfterValidator(iso_date), Field(json_schema_extra={"format": "date"})]
