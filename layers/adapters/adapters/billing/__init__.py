"""Stripe, behind ``core.ports.BillingGateway`` (named ``billing`` so as not to shadow the ``stripe`` package).

Importing this package does not import stripe: the first call does.
"""

from adapters.billing.stripe_gateway import StripeBilling

__all__ = ["StripeBilling"]
