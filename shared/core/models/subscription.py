from __future__ import annotations

from enum import StrEnum

from core.models.base import Model


class PaymentType(StrEnum):
    STRIPE = "STRIPE"


class UserSubscription(Model):
    """The plan a user holds now. Written by the payment provider's webhooks (or the local stack's token route)."""

    plan_id: str
    payment_type: PaymentType = PaymentType.STRIPE
    status: str = "active"
    updated_at: str
