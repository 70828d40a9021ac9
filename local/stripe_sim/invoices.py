"""Invoices: created by subscriptions (first payment, renewals), paid or failed, listed over the API.

An invoice's own ``period_start``/``period_end`` look back at the period just ended, as Stripe's do; the
service period it bills is on its lines.
"""

from __future__ import annotations

from dataclasses import dataclass

from local.stripe_sim import objects
from local.stripe_sim.forms import Params, get_str
from local.stripe_sim.listing import created_filter, paginate
from local.stripe_sim.objects import JsonObject
from local.stripe_sim.state import State

# Stripe retries a failed renewal a few days later (Smart Retries); only the timestamp is simulated.
RETRY_DELAY_SECONDS = 3 * 86_400


@dataclass(frozen=True)
class Line:
    """One invoice line: a subscription item for a period, or a proration of one."""

    item_id: str
    price_id: str
    quantity: int
    amount: int
    period_start: int
    period_end: int
    description: str
    proration: bool = False


def subscription_of(invoice: JsonObject) -> str:
    return invoice["parent"]["subscription_details"]["subscription"]


class Invoices:
    def __init__(self, state: State) -> None:
        self._state = state

    def create(
        self,
        subscription_id: str,
        lines: list[Line],
        *,
        billing_reason: str,
        period_start: int,
        period_end: int,
    ) -> JsonObject:
        subscription = self._state.objects[subscription_id]
        customer = self._state.objects[subscription["customer"]]
        invoice_id = objects.new_id("in")
        # Stripe's default numbering: the customer's invoice prefix plus a per-customer sequence.
        number = f"{customer['invoice_prefix']}-{customer['next_invoice_sequence']:04d}"
        customer["next_invoice_sequence"] += 1
        rendered_lines = [
            objects.invoice_line_shape(
                line_id=objects.new_id("il"),
                invoice_id=invoice_id,
                subscription_id=subscription_id,
                subscription_item_id=line.item_id,
                price=self._state.objects[line.price_id],
                quantity=line.quantity,
                amount=line.amount,
                period_start=line.period_start,
                period_end=line.period_end,
                description=line.description,
                proration=line.proration,
            )
            for line in lines
        ]
        invoice = objects.invoice_shape(
            invoice_id=invoice_id,
            created=self._state.now(),
            customer=customer,
            subscription=subscription,
            number=number,
            currency=subscription["currency"],
            lines=rendered_lines,
            billing_reason=billing_reason,
            period_start=period_start,
            period_end=period_end,
            base_url=self._state.base_url(),
        )
        if invoice["ending_balance"]:
            customer["balance"] += invoice["ending_balance"]
        return self._state.add("invoice", invoice)

    def mark_paid(self, invoice: JsonObject) -> None:
        invoice.update(
            {
                "status": "paid",
                "amount_paid": invoice["amount_due"],
                "amount_remaining": 0,
                "attempted": True,
                "attempt_count": invoice["attempt_count"] + (1 if invoice["amount_due"] else 0),
                "next_payment_attempt": None,
            }
        )
        invoice["status_transitions"]["paid_at"] = self._state.now()

    def mark_failed(self, invoice: JsonObject) -> None:
        """The charge was declined: the invoice stays open and Stripe plans another attempt."""
        invoice["attempted"] = True
        invoice["attempt_count"] += 1
        invoice["next_payment_attempt"] = self._state.now() + RETRY_DELAY_SECONDS

    def list(self, params: Params) -> JsonObject:
        customer = get_str(params, "customer")
        status = get_str(params, "status")
        subscription = get_str(params, "subscription")
        in_range = created_filter(params)
        ids = self._state.ids_of(
            "invoice",
            lambda inv: (
                (customer is None or inv["customer"] == customer)
                and (status is None or inv["status"] == status)
                and (subscription is None or subscription_of(inv) == subscription)
                and in_range(inv)
            ),
        )
        return paginate(self._state, ids, params, "/v1/invoices")
