"""``StripeSimulator``: the thread-safe facade over the store, webhooks and idempotency cache.

Every state change runs under one lock; the events it produced are delivered after the lock is
released, so a webhook receiver can call the API back while it handles an event.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from local.stripe_sim import objects
from local.stripe_sim.errors import IdempotencyMismatch, StripeApiError
from local.stripe_sim.events import RequestContext
from local.stripe_sim.objects import API_VERSION, JsonObject
from local.stripe_sim.store import Store
from local.stripe_sim.webhooks import Delivery, WebhookDispatcher

T = TypeVar("T")


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: bytes
    request_id: str
    replayed: bool = False


@dataclass(frozen=True)
class _CachedResponse:
    fingerprint: tuple[str, str, str]
    response: ApiResponse


class StripeSimulator:
    """An in-memory Stripe account reachable over HTTP (see ``start_simulator``) and from Python.

    ``webhook_url``/``webhook_secret`` may be changed at any time; they are read per delivery.
    ``public_url`` is the base of the URLs the simulator hands out (Checkout ``url``,
    ``hosted_invoice_url``, ``invoice_pdf``); ``start_simulator`` sets it to the server address.
    """

    def __init__(
        self,
        api_key: str = "sk_test_local",
        webhook_secret: str = "whsec_local",  # noqa: S107 - local test-mode placeholder, not a secret
        webhook_url: str | None = None,
        *,
        public_url: str | None = None,
    ) -> None:
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.public_url = public_url
        self._lock = threading.Lock()  # never held while webhooks are delivered
        self._idempotency: dict[tuple[str, str], _CachedResponse] = {}
        self.store = Store(
            clock=lambda: int(time.time()),
            base_url=lambda: (self.public_url or "http://127.0.0.1").rstrip("/"),
            pending_webhooks=lambda: 1 if self.webhook_url else 0,
        )
        self._webhooks = WebhookDispatcher(lambda: (self.webhook_url, self.webhook_secret))

    api_version = API_VERSION

    # --- plumbing ----------------------------------------------------------------------------

    def transact(self, operation: Callable[[Store], T]) -> T:
        """Run ``operation`` under the lock, then deliver the events it emitted (even if it raised)."""
        error: BaseException | None = None
        result: T | None = None
        with self._lock:
            try:
                result = self._run(operation, RequestContext())
            except BaseException as exc:  # re-raised below, once the events were delivered
                error = exc
            events = self.store.events.drain_outbox()
        # Outside the lock: the receiver may call the API back while handling the event.
        self._webhooks.dispatch(events)
        if error is not None:
            raise error
        return result  # type: ignore[return-value]  # set whenever no error was raised

    def _run(self, operation: Callable[[Store], T], context: RequestContext) -> T:
        # Caller holds the lock. The context tells events which API request caused them.
        self.store.events.request = context
        try:
            return operation(self.store)
        finally:
            self.store.events.request = RequestContext()

    def handle_api_request(
        self,
        *,
        api_key: str,
        method: str,
        path: str,
        fingerprint: str,
        idempotency_key: str | None,
        operation: Callable[[Store], JsonObject],
    ) -> ApiResponse:
        """Execute one authenticated API call with Stripe's idempotency semantics.

        A POST repeated with the same ``Idempotency-Key`` (scoped per API key) gets the first
        response back, without re-running anything; reusing the key for different parameters is an
        ``idempotency_error``. Only successful results are cached, so a failed call can be retried.
        """
        cache_key = (api_key, idempotency_key) if idempotency_key and method == "POST" else None
        request_fingerprint = (method, path, fingerprint)
        with self._lock:
            if cache_key is not None and (cached := self._idempotency.get(cache_key)) is not None:
                if cached.fingerprint != request_fingerprint:
                    raise IdempotencyMismatch(
                        "Keys for idempotent requests can only be used with the same parameters they were "
                        f"first used with. Try using a key other than '{idempotency_key}' if you meant to "
                        "execute a different request."
                    )
                original = cached.response
                return ApiResponse(original.status, original.body, original.request_id, replayed=True)
            request_id = objects.new_id("req")
            context = RequestContext(request_id=request_id, idempotency_key=idempotency_key)
            try:
                body = self._run(operation, context)
                response = ApiResponse(200, _encode(body), request_id)
                if cache_key is not None:
                    self._idempotency[cache_key] = _CachedResponse(request_fingerprint, response)
            except StripeApiError as error:
                response = ApiResponse(error.http_status, _encode(error.to_body(request_id)), request_id)
            finally:
                events = self.store.events.drain_outbox()
        # Outside the lock: the receiver may call the API back while handling the event.
        self._webhooks.dispatch(events)
        return response

    # --- seeding ----------------------------------------------------------------------------

    def seed_plan(
        self,
        name: str,
        monthly_price_usd: float,
        lookup_key: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> str:
        """Create a product and its monthly USD price; returns the price id."""

        def operation(store: Store) -> str:
            product = store.catalog.create_product(name, dict(metadata or {}))
            price = store.catalog.create_monthly_price(
                product["id"],
                round(monthly_price_usd * 100),
                lookup_key=lookup_key,
                metadata=dict(metadata or {}),
            )
            return str(price["id"])

        return self.transact(operation)

    # --- simulated customer and clock --------------------------------------------------------

    def complete_checkout(self, session_id: str) -> JsonObject:
        """The customer pays a Checkout Session.

        Creates the subscription (active) and its paid first invoice, completes the session and emits
        ``checkout.session.completed``, ``customer.subscription.created``, ``invoice.paid`` in that order.
        Returns the subscription. Raises ``ResourceMissing`` (a KeyError) for an unknown session,
        ``CheckoutStateError`` (a ValueError) if it is not open.
        """
        return self.transact(lambda store: store.checkout.complete(session_id))

    def fail_next_payment(self, subscription_id: str) -> None:
        """Make the next renewal charge for this subscription decline."""
        self.transact(lambda store: store.subscriptions.fail_next_payment(subscription_id))

    def renew(self, subscription_id: str, paid: bool | None = None) -> JsonObject:
        """Jump to the end of the current period.

        Renews it with a ``subscription_cycle`` invoice (carrying the prorations of plan changes), then emits
        ``invoice.paid`` (status active) or, when ``paid`` is False or ``fail_next_payment`` was called,
        ``invoice.payment_failed`` (status past_due), followed by ``customer.subscription.updated``. A
        subscription scheduled to cancel at that period end is canceled instead
        (``customer.subscription.deleted``). Returns the subscription.
        """
        return self.transact(lambda store: store.subscriptions.renew(subscription_id, paid))

    # --- events ------------------------------------------------------------------------------

    @property
    def events(self) -> list[JsonObject]:
        """Every event emitted so far, oldest first."""
        with self._lock:
            return list(self.store.events.events)

    @property
    def deliveries(self) -> list[Delivery]:
        """Every webhook POST attempted, oldest first, with the status the receiver answered."""
        return self._webhooks.deliveries

    def deliver(self, event_type: str, obj: JsonObject | str) -> JsonObject:
        """Emit and deliver a new event of any type; ``obj`` is an object or the id of a stored one."""

        def operation(store: Store) -> JsonObject:
            payload = store.state.render(obj) if isinstance(obj, str) else objects.deep_copy(obj)
            return store.events.emit(event_type, payload, from_request=False)

        return self.transact(operation)

    def resend(self, event_id: str) -> Delivery | None:
        """Deliver a stored event again, same id and body, freshly signed (a duplicate delivery)."""
        with self._lock:
            event = self.store.state.get("event", event_id)
        return self._webhooks.send(event)

    # --- inspection --------------------------------------------------------------------------

    def checkout_line_items(self, session_id: str) -> list[JsonObject]:
        with self._lock:
            return list(self.store.checkout.line_items(session_id)["data"])

    def get(self, object_id: str) -> JsonObject:
        """Any stored object, rendered as the API would return it."""
        with self._lock:
            if object_id not in self.store.state.objects:
                raise KeyError(object_id)
            return self.store.state.render(object_id)


def _encode(body: JsonObject) -> bytes:
    return json.dumps(body, indent=2).encode("utf-8")
