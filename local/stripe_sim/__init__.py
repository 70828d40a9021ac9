"""A local Stripe API simulator that the real stripe-python client talks to unchanged.

    from local.stripe_sim import StripeSimulator, start_simulator

    running = start_simulator(simulator=StripeSimulator(webhook_url="http://127.0.0.1:3000/webhooks/stripe"))
    client = stripe.StripeClient("sk_test_local", base_addresses={"api": running.url})
    price_id = running.simulator.seed_plan("Pro", 20, lookup_key="pro_monthly")
    ...
    running.stop()

Objects follow the API version stripe-python 16.1.0 pins (``API_VERSION``); webhooks are signed
like Stripe's, so ``stripe.Webhook.construct_event`` accepts them with the simulator's secret.
"""

from local.stripe_sim.errors import (
    AuthenticationFailed,
    CheckoutStateError,
    IdempotencyMismatch,
    InvalidRequest,
    ResourceMissing,
    StripeApiError,
)
from local.stripe_sim.objects import API_VERSION
from local.stripe_sim.server import RunningSimulator, start_simulator
from local.stripe_sim.simulator import StripeSimulator
from local.stripe_sim.webhooks import Delivery, sign_payload

__all__ = [
    "API_VERSION",
    "AuthenticationFailed",
    "CheckoutStateError",
    "Delivery",
    "IdempotencyMismatch",
    "InvalidRequest",
    "ResourceMissing",
    "RunningSimulator",
    "StripeApiError",
    "StripeSimulator",
    "sign_payload",
    "start_simulator",
]
