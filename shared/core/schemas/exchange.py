"""Shapes of the exchange routes, as the API reference documents them."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, StrictBool, StrictStr, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from core.models.exchange import Balance, BalanceSnapshot, ExchangeKey
from core.schemas.types import JsonNumber


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


class ExchangeKeyCreate(BaseModel):
    exchangeId: Literal["BINANCE"]
    # strategyType is declared before tradeType so that tradeType's check can see it.
    strategyType: Literal["AUTOMATED", "MANUAL"]
    tradeType: Literal["SPOT", "FUTURES"]
    active: StrictBool = True
    name: KeyName
    apiKey: Credential
    apiSecretKey: Credential = Field(repr=False)

    @field_validator("tradeType")
    @classmethod
    def automated_needs_futures(cls, value: str, info: ValidationInfo) -> str:
        if value == "SPOT" and info.data.get("strategyType") == "AUTOMATED":
            raise PydanticCustomError("trade_type", "cannot be assigned to AUTOMATED strategy")
        return value


class ExchangeKeyUpdate(BaseModel):
    name: KeyName | None = None


class ExchangeKeyOut(BaseModel):
    id: str
    exchangeId: str
    tradeType: str
    strategyType: str
    active: bool
    name: str
    apiKeyStatus: str
    apiKey: str
    createdAt: str
    updatedAt: str

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


class ExchangeKeyList(BaseModel):
    items: list[ExchangeKeyOut]


class BalanceOut(BaseModel):
    free: dict[str, JsonNumber]
    used: dict[str, JsonNumber]
    total: dict[str, JsonNumber]

    @classmethod
    def of(cls, balance: Balance) -> BalanceOut:
        return cls(free=balance.free, used=balance.used, total=balance.total)


class TotalBalanceOut(BaseModel):
    USD: JsonNumber


class BalanceHistoryItem(BaseModel):
    date: str
    totalUSD: JsonNumber

    @classmethod
    def of(cls, snapshot: BalanceSnapshot) -> BalanceHistoryItem:
        return cls(date=snapshot.date, totalUSD=snapshot.total_usd)


class BalanceHistory(BaseModel):
    items: list[BalanceHistoryItem]
    nextToken: str | None


def iso_date(value: str) -> str:
    if not ISO_DATE.fullmatch(value):  # fromisoformat alone also takes week dates (2022-W01-1)
        raise PydanticCustomError("date", "must be a date (YYYY-MM-DD)")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("date", "must be a date (YYYY-MM-DD)") from None
    return value


class TickerOut(BaseModel):
    symbol: str
    timestamp: int | None
    datetime: str | None
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


Symbol = Annotated[StrictStr, AfterValidator(exchange_symbol)]
IsoDate = Annotated[StrictStr, AfterValidator(iso_date)]
