"""Fixtures: a running Stripe simulator, a real stripe-python client aimed at it, and a webhook receiver."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from local.stripe_sim import RunningSimulator, StripeSimulator, start_simulator

API_KEY = "sk_test_simulator_suite"
WEBHOOK_SECRET = "whsec_simulator_suite"


@dataclass
class ReceivedWebhook:
    raw_body: bytes
    signature: str
    event: stripe.Event


@dataclass
class WebhookReceiver:
    """A webhook endpoint that verifies signatures exactly like production code would."""

    secret: str
    url: str = ""
    answer_status: int = 200
    received: list[ReceivedWebhook] = field(default_factory=list)
    rejected: list[tuple[bytes, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def events(self) -> list[stripe.Event]:
        with self.lock:
            return [item.event for item in self.received]

    @property
    def types(self) -> list[str]:
        return [event.type for event in self.events]


def _receiver_handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            signature = self.headers.get("Stripe-Signature") or ""
            try:
                event = stripe.Webhook.construct_event(raw, signature, receiver.secret)
            except (ValueError, stripe.SignatureVerificationError):
                with receiver.lock:
                    receiver.rejected.append((raw, signature))
                status = 400
            else:
                with receiver.lock:
                    receiver.received.append(ReceivedWebhook(raw, signature, event))
                status = receiver.answer_status
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(secret=WEBHOOK_SECRET)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _receiver_handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/stripe"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def stripe_sim(webhook_receiver: WebhookReceiver) -> Iterator[RunningSimulator]:
    simulator = StripeSimulator(
        api_key=API_KEY, webhook_secret=WEBHOOK_SECRET, webhook_url=webhook_receiver.url
    )
    running = start_simulator(simulator=simulator)
    yield running
    running.stop()


@pytest.fixture
def api_key(stripe_sim: RunningSimulator) -> str:
    return stripe_sim.simulator.api_key


@pytest.fixture
def sim(stripe_sim: RunningSimulator) -> StripeSimulator:
    return stripe_sim.simulator


@pytest.fixture
def stripe_client(stripe_sim: RunningSimulator) -> stripe.StripeClient:
    # No retries: every request must reach the simulator exactly once for the assertions to hold.
    return stripe.StripeClient(API_KEY, base_addresses={"api": stripe_sim.url}, max_network_retries=0)
