"""Clients of the outside world (exchange, Stripe), shipped in the adapters layer."""
