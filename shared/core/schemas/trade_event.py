"""A trade event of ``trades.md`` as EventBridge delivers it (the envelope), read by the notification workers."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from core.models.base import Model


class TradeEventDetail(Model):
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


class TradeEventEnvelope(Model):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    detail_type: str = Field(alias="detail-type")
    source: str
    time: datetime
    detail: TradeEventDetail
