"""HTTP front end: Stripe's v1 REST surface, the hosted Checkout/invoice pages, and a control API.

* ``/v1/...`` speaks Stripe's protocol: Bearer API-key auth, form-encoded parameters,
  JSON responses, ``{"error": {...}}`` bodies with Stripe's statuses, ``Request-Id`` and
  ``Idempotent-Replayed`` headers. Point stripe-python here with
  ``stripe.StripeClient(key, base_addresses={"api": url})`` or ``stripe.api_base = url``.
* ``/checkout/pay/{id}`` is a browser-usable stand-in for the hosted Checkout page (POST pays).
* ``/invoice/{id}`` and ``/invoice/{id}/pdf`` back ``hosted_invoice_url`` and ``invoice_pdf``.

The test helpers (complete a checkout, renew, ...) are Python methods of ``StripeSimulator``; the local
stack exposes the one it needs as a dev route.
"""

from __future__ import annotations

import functools
import html
import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local.stripe_sim.errors import AuthenticationFailed, StripeApiError
from local.stripe_sim.forms import Params, allowed_keys, decode_form, get_list, validate_keys
from local.stripe_sim.objects import API_VERSION, JsonObject, format_amount
from local.stripe_sim.simulator import ApiResponse, StripeSimulator
from local.stripe_sim.store import Store

logger = logging.getLogger(__name__)

Handler = Callable[..., JsonObject]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    params_class: str | None  # stripe-python TypedDict naming the parameters the endpoint accepts
    handler: Handler  # (store, params, *path_ids) -> response object


def _route(method: str, template: str, params_class: str | None, handler: Handler) -> Route:
    return Route(
        method, re.compile("^" + re.sub(r"\{\w+\}", "([^/]+)", template) + "$"), params_class, handler
    )


def _retrieve(kind: str) -> Handler:
    return lambda store, params, object_id: store.retrieve(kind, object_id)


# The endpoints the project's Stripe adapter and tests call, and a retrieve for every object they meet.
API_ROUTES: tuple[Route, ...] = (
    _route("POST", "/v1/customers", "CustomerCreateParams", lambda s, p: s.customers.create(p)),
    _route("GET", "/v1/customers", "CustomerListParams", lambda s, p: s.customers.list(p)),
    _route("GET", "/v1/customers/{id}", "CustomerRetrieveParams", _retrieve("customer")),
    _route("GET", "/v1/products/{id}", "ProductRetrieveParams", _retrieve("product")),
    _route("GET", "/v1/prices", "PriceListParams", lambda s, p: s.catalog.list_prices(p)),
    _route("GET", "/v1/prices/{id}", "PriceRetrieveParams", _retrieve("price")),
    _route(
        "POST", "/v1/checkout/sessions", "checkout.SessionCreateParams", lambda s, p: s.checkout.create(p)
    ),
    _route(
        "GET", "/v1/checkout/sessions/{id}", "checkout.SessionRetrieveParams", _retrieve("checkout.session")
    ),
    _route("POST", "/v1/subscriptions", "SubscriptionCreateParams", lambda s, p: s.subscriptions.create(p)),
    _route("GET", "/v1/subscriptions", "SubscriptionListParams", lambda s, p: s.subscriptions.list(p)),
    _route("GET", "/v1/subscriptions/{id}", "SubscriptionRetrieveParams", _retrieve("subscription")),
    _route(
        "POST",
        "/v1/subscriptions/{id}",
        "SubscriptionUpdateParams",
        lambda s, p, i: s.subscriptions.update(i, p),
    ),
    _route(
        "DELETE",
        "/v1/subscriptions/{id}",
        "SubscriptionCancelParams",
        lambda s, p, i: s.subscriptions.cancel(i, p),
    ),
    _route("GET", "/v1/invoices", "InvoiceListParams", lambda s, p: s.invoices.list(p)),
    _route("GET", "/v1/invoices/{id}", "InvoiceRetrieveParams", _retrieve("invoice")),
    _route("GET", "/v1/events/{id}", "EventRetrieveParams", _retrieve("event")),
)

_cached_allowed_keys = functools.lru_cache(maxsize=None)(allowed_keys)


class SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a hung keep-alive client must not keep the process alive
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], simulator: StripeSimulator) -> None:
        super().__init__(address, StripeRequestHandler)
        self.simulator = simulator


class StripeRequestHandler(BaseHTTPRequestHandler):
    server: SimulatorHTTPServer
    protocol_version = "HTTP/1.1"  # keep-alive, as stripe-python's requests session expects
    # Buffer the whole response and send it in one segment: headers and body written separately hit
    # the Nagle / delayed-ACK interaction and cost ~40 ms per request on keep-alive connections.
    wbufsize = -1
    disable_nagle_algorithm = True
    server_version = "stripe-sim"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # same signature as the base class
        logger.debug("%s - %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # --- dispatch ------------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        # Always consume the body so the keep-alive connection stays in sync, even on errors.
        body = self.rfile.read(length).decode("utf-8") if length else ""
        path = url.path.rstrip("/") or "/"
        try:
            if path.startswith("/v1/"):
                self._api(method, path, url.query, body)
            elif path.startswith("/checkout/pay/"):
                self._checkout_page(method, path.removeprefix("/checkout/pay/"))
            elif path.startswith("/invoice/"):
                self._invoice_page(path.removeprefix("/invoice/"))
            else:
                self._send_text(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", "Not found\n")
        except Exception:
            logger.exception("stripe simulator failed on %s %s", method, self.path)
            self._send_error(
                StripeApiError(
                    "An unexpected error occurred in the simulator.", http_status=500, error_type="api_error"
                )
            )

    def _api(self, method: str, path: str, query: str, body: str) -> None:
        simulator = self.server.simulator
        api_key = self._api_key()
        if api_key is None:
            self._send_error(
                AuthenticationFailed(
                    "You did not provide an API key. You need to provide your API key in the Authorization "
                    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
                )
            )
            return
        if api_key != simulator.api_key:
            self._send_error(
                AuthenticationFailed(f"Invalid API Key provided: {_mask_key(api_key)}", code=None)
            )
            return

        route, ids = self._match(method, path)
        if route is None:
            self._send_error(
                StripeApiError(
                    f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can "
                    "help at https://support.stripe.com/.",
                    http_status=404,
                )
            )
            return

        params: Params = decode_form(query)
        if method == "POST":
            params.update(decode_form(body))
        expand = get_list(params, "expand")
        allowed = _cached_allowed_keys(route.params_class)

        def operation(store: Store) -> JsonObject:
            validate_keys(params, allowed)
            return store.expand(route.handler(store, params, *ids), expand)

        try:
            response = simulator.handle_api_request(
                api_key=api_key,
                method=method,
                path=path,
                fingerprint="&".join(f"{k}={v}" for k, v in sorted(parse_qsl(body, keep_blank_values=True))),
                idempotency_key=self.headers.get("Idempotency-Key"),
                operation=operation,
            )
        except StripeApiError as error:  # idempotency conflicts are detected before running anything
            self._send_error(error)
            return
        self._send_api_response(response)

    def _api_key(self) -> str | None:
        header = self.headers.get("Authorization") or ""
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
        return None

    @staticmethod
    def _match(method: str, path: str) -> tuple[Route | None, tuple[str, ...]]:
        for route in API_ROUTES:
            if route.method == method and (match := route.pattern.match(path)):
                return route, match.groups()
        return None, ()

    # --- responses -----------------------------------------------------------------------------

    def _send_api_response(self, response: ApiResponse) -> None:
        headers = {"Request-Id": response.request_id}
        idempotency_key = self.headers.get("Idempotency-Key")
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if response.replayed:
            headers["Idempotent-Replayed"] = "true"
        if response.status >= 400:
            headers["Stripe-Should-Retry"] = "false"  # retrying a simulated error never helps
        self._send_bytes(response.status, "application/json", response.body, headers)

    def _send_error(self, error: StripeApiError) -> None:
        body = json.dumps(error.to_body(), indent=2).encode("utf-8")
        self._send_bytes(error.http_status, "application/json", body, {"Stripe-Should-Retry": "false"})

    def _send_json(self, status: int, body: Any) -> None:
        self._send_bytes(status, "application/json", json.dumps(body, indent=2).encode("utf-8"))

    def _send_text(self, status: int, content_type: str, text: str) -> None:
        self._send_bytes(status, content_type, text.encode("utf-8"))

    def _send_bytes(
        self, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Stripe-Version", API_VERSION)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(HTTPStatus.SEE_OTHER)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    # --- hosted pages --------------------------------------------------------------------------

    def _checkout_page(self, method: str, session_id: str) -> None:
        simulator = self.server.simulator
        try:
            session = simulator.get(session_id)
        except KeyError:
            self._send_text(
                HTTPStatus.NOT_FOUND,
                "text/html; charset=utf-8",
                _page("Not found", "<p>No such session.</p>"),
            )
            return
        if method == "POST":
            try:
                simulator.complete_checkout(session_id)
            except StripeApiError as error:
                self._send_text(
                    HTTPStatus.CONFLICT,
                    "text/html; charset=utf-8",
                    _page("Cannot pay", html.escape(str(error))),
                )
                return
            success_url = session.get("success_url")
            if success_url:
                self._redirect(success_url.replace("{CHECKOUT_SESSION_ID}", session_id))
            else:
                self._send_text(
                    HTTPStatus.OK, "text/html; charset=utf-8", _page("Paid", "<p>Payment complete.</p>")
                )
            return
        self._send_text(HTTPStatus.OK, "text/html; charset=utf-8", _checkout_html(simulator, session))

    def _invoice_page(self, rest: str) -> None:
        invoice_id, _, suffix = rest.partition("/")
        try:
            invoice = self.server.simulator.get(invoice_id)
        except KeyError:
            self._send_text(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", "No such invoice\n")
            return
        if invoice.get("object") != "invoice":
            self._send_text(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", "No such invoice\n")
        elif suffix == "pdf":
            self._send_bytes(HTTPStatus.OK, "application/pdf", _invoice_pdf(invoice))
        else:
            rows = "".join(
                f"<tr><td>{html.escape(line['description'])}</td>"
                f"<td>{format_amount(line['amount'], line['currency'])}</td></tr>"
                for line in invoice["lines"]["data"]
            )
            content = (
                f"<p>Invoice <b>{html.escape(invoice['number'] or invoice['id'])}</b>, status "
                f"<b>{invoice['status']}</b>, paid {format_amount(invoice['amount_paid'], invoice['currency'])}.</p>"
                f"<table>{rows}</table><p><a href='{invoice_id}/pdf'>Download PDF</a></p>"
            )
            self._send_text(HTTPStatus.OK, "text/html; charset=utf-8", _page("Invoice", content))


def _mask_key(key: str) -> str:
    return f"{key[:8]}{'*' * max(len(key) - 12, 4)}{key[-4:]}" if len(key) > 12 else "****"


def _page(title: str, content: str) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)} - Stripe simulator</title>"
        "<style>body{font-family:sans-serif;max-width:36rem;margin:3rem auto}td{padding:.2rem 1rem}</style>"
        f"</head><body><h1>{html.escape(title)}</h1>{content}</body></html>"
    )


def _checkout_html(simulator: StripeSimulator, session: JsonObject) -> str:
    items = simulator.checkout_line_items(session["id"])
    rows = "".join(
        f"<tr><td>{item['quantity']} x {html.escape(item['description'])}</td>"
        f"<td>{format_amount(item['amount_total'], item['currency'])}"
        f"{' / ' + item['price']['recurring']['interval'] if item['price']['recurring'] else ''}</td></tr>"
        for item in items
    )
    if session["status"] != "open":
        return _page("Checkout", f"<p>This session is <b>{session['status']}</b>.</p><table>{rows}</table>")
    cancel = session.get("cancel_url")
    cancel_link = f"<a href='{html.escape(cancel)}'>Cancel</a>" if cancel else ""
    return _page(
        "Checkout",
        f"<table>{rows}</table><p>Total today: "
        f"<b>{format_amount(session['amount_total'] or 0, session['currency'] or 'usd')}</b></p>"
        f"<form method='post'><button type='submit'>Pay (simulated card 4242)</button></form>{cancel_link}",
    )


def _invoice_pdf(invoice: JsonObject) -> bytes:
    """A one-page PDF naming the invoice, built by hand so the simulator needs no PDF library."""
    lines = [
        f"Invoice {invoice['number']}",
        f"Status: {invoice['status']}",
        f"Amount paid: {format_amount(invoice['amount_paid'], invoice['currency'])}",
        *(
            f"{line['description']}: {format_amount(line['amount'], line['currency'])}"
            for line in invoice["lines"]["data"]
        ),
    ]

    def escape(text: str) -> str:
        text = text.encode("latin-1", "replace").decode("latin-1")
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    stream = "BT /F1 12 Tf 72 720 Td 18 TL " + " ".join(f"({escape(line)}) Tj T*" for line in lines) + " ET"
    stream_bytes = stream.encode("latin-1")
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream_bytes), stream_bytes),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(bodies) + 1, xref_at)
    return bytes(out)


# --- running -------------------------------------------------------------------------------------


@dataclass
class RunningSimulator:
    """A simulator served on ``url`` from a daemon thread; ``stop()`` shuts it down."""

    url: str
    simulator: StripeSimulator
    server: SimulatorHTTPServer
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_simulator(
    host: str = "127.0.0.1", port: int = 0, simulator: StripeSimulator | None = None
) -> RunningSimulator:
    """Serve ``simulator`` (a fresh one by default) on ``host:port``; port 0 picks a free port."""
    simulator = simulator or StripeSimulator()
    server = SimulatorHTTPServer((host, port), simulator)
    url_host = "127.0.0.1" if host in ("", "0.0.0.0") else host
    url = f"http://{url_host}:{server.server_address[1]}"
    if simulator.public_url is None:
        simulator.public_url = url
    thread = threading.Thread(
        # A short poll interval keeps stop() (and so each test's teardown) fast.
        target=functools.partial(server.serve_forever, poll_interval=0.05),
        name=f"stripe-sim:{server.server_address[1]}",
        daemon=True,
    )
    thread.start()
    logger.info("Stripe simulator listening on %s (API version %s)", url, API_VERSION)
    return RunningSimulator(url=url, simulator=simulator, server=server, thread=thread)
