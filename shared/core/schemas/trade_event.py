"""A trade event of ``trades.md`` as EventBridge delivers it (the envelope), read by the notification workers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class TradeEventDetail(BaseModel):
    model_config = ConfigDict(extra="ignore")

    userId: str
    keyId: str | None = None
    tradeId: str
    origin: str = "MANUAL"
    strategyId: str | None = None
    symbol: str
    side: str
    type: str | None = None
    amount: float | None = None
    price: float | None = None
    stop: float | None = None
    takeProfit: list[float] = Field(default_factory=list)
    index: int | None = None  # a take profit's, 1-based


class TradeEventEnvelope(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    detail_type: str = Field(alias="detail-type")
    source: str
    time: datetime
    detail: TradeEventDetail
