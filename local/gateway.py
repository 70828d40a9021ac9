"""The local API Gateway: routes from template.yaml, the Cognito authorizer, the dev-only /_local routes.

``Gateway.handle`` is plain request-in, response-out; ``serve`` puts it behind a threaded HTTP server.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local.events import header_value, proxy_event
from local.openapi import DOCUMENT_URL, OpenApiSite
from local.stack import DevRouteError, LocalStack
from local.template import Route
from local.workers import InvocationFailed, InvocationTimeout

log = logging.getLogger("local.gateway")

MAX_GATEWAY_BODY = 10 * 1024 * 1024  # API Gateway's own payload limit
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization,Content-Type,Idempotency-Key,recaptcha-token-v3",
    "Access-Control-Allow-Methods": "GET,POST,PUT,DELETE,OPTIONS",
    "Access-Control-Max-Age": "600",
}


@dataclass
class GatewayResponse:
    status: int
    body: bytes = b""
    headers: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any) -> GatewayResponse:
        return cls(status, json.dumps(payload).encode(), {"Content-Type": ["application/json"]})


ROUTE_NOT_FOUND = GatewayResponse.json(404, {"message": "route not found"})
UNAUTHORIZED = GatewayResponse.json(401, {"message": "Unauthorized"})
INTERNAL_ERROR = GatewayResponse.json(502, {"message": "Internal server error"})


def _from_lambda(result: dict[str, Any]) -> GatewayResponse:
    headers: dict[str, list[str]] = {}
    for name, value in (result.get("headers") or {}).items():
        headers.setdefault(name, []).append(str(value))
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name] = [str(value) for value in values]
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    return GatewayResponse(int(result.get("statusCode", 502)), raw, headers)


class Gateway:
    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.routes: list[Route] = stack.template.routes()
        self.openapi = OpenApiSite(stack.template)
        self._dev_routes: list[tuple[re.Pattern[str], str, Any]] = [
            (re.compile(r"^/_local/token$"), "POST", self._token),
            (re.compile(r"^/_local/jobs/(?P<name>[\w-]+)$"), "POST", self._job),
        ]

    def add_dev_route(self, pattern: str, handler: Any, method: str = "POST") -> None:
        self._dev_routes.append((re.compile(pattern), method, handler))

    # ---------------------------------------------------------------- dispatch
    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> GatewayResponse:
        parsed = urllib.parse.urlsplit(target)
        path = parsed.path
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        if path.startswith("/_local/"):
            return self._dev(method, path, body, query)
        if path.rstrip("/") == "/swagger" or path.startswith("/swagger/"):
            # The link under the Swagger UI title is the page's own URL with ?format=json: the document.
            return self._swagger(DOCUMENT_URL if query.get("format") == ["json"] else path)
        matches = [
            (route, match) for route in self.routes if (match := route.pattern.match(path)) is not None
        ]
        if not matches:
            return ROUTE_NOT_FOUND
        if method == "OPTIONS":
            return GatewayResponse(200, b"{}", {name: [value] for name, value in CORS_HEADERS.items()})
        chosen = next(((route, match) for route, match in matches if route.method == method), None)
        if chosen is None:
            return (
                ROUTE_NOT_FOUND  # API Gateway's "Missing Authentication Token", mapped to 404 in the template
            )
        route, match = chosen
        claims = None
        if not route.public:
            assert self.stack.authorizer is not None
            claims = self.stack.authorizer.claims(header_value(headers, "Authorization"))
            if claims is None:
                return self._with_cors(UNAUTHORIZED)
        event = proxy_event(
            method=method,
            resource=route.path,
            path=path,
            path_parameters={name: urllib.parse.unquote(value) for name, value in match.groupdict().items()},
            query=query,
            headers=headers,
            body=body,
            claims=claims,
        )
        try:
            result = self.stack.pools[route.function].invoke(event)
        except InvocationTimeout:
            log.error("%s timed out", route.function)
            return self._with_cors(INTERNAL_ERROR)
        except InvocationFailed as error:
            log.error("%s failed: %s", route.function, error)
            return self._with_cors(INTERNAL_ERROR)
        return _from_lambda(result)

    @staticmethod
    def _with_cors(response: GatewayResponse) -> GatewayResponse:
        return GatewayResponse(
            response.status, response.body, {**response.headers, "Access-Control-Allow-Origin": ["*"]}
        )

    # ---------------------------------------------------------------- dev routes
    def _dev(
        self, method: str, path: str, body: bytes, query: dict[str, list[str]] | None = None
    ) -> GatewayResponse:
        for pattern, route_method, handler in self._dev_routes:
            match = pattern.match(path)
            if match:
                if method != route_method:
                    continue
                try:
                    payload = json.loads(body) if body.strip() else {}
                except ValueError:
                    payload = None
                if method == "GET":  # a GET's input is its query string
                    payload = {name: values[-1] for name, values in (query or {}).items()}
                if not isinstance(payload, dict):
                    return GatewayResponse.json(400, {"message": "request body must be a JSON object"})
                try:
                    return handler(payload, **match.groupdict())
                except DevRouteError as error:
                    return GatewayResponse.json(422, error.body)
        return ROUTE_NOT_FOUND

    def _token(self, payload: dict[str, Any]) -> GatewayResponse:
        return GatewayResponse.json(200, self.stack.issue_token(payload.get("email"), payload.get("plan")))

    def _job(self, _: dict[str, Any], name: str) -> GatewayResponse:
        if name not in self.stack.jobs():
            return GatewayResponse.json(
                404, {"message": f"unknown job {name}", "jobs": sorted(self.stack.jobs())}
            )
        return GatewayResponse.json(200, self.stack.run_job(name))

    def _swagger(self, path: str) -> GatewayResponse:
        content_type, body = self.openapi.asset(path)
        if body is None:
            return ROUTE_NOT_FOUND
        return GatewayResponse(200, body, {"Content-Type": [content_type]})


def serve(gateway: Gateway, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # No Nagle delay: headers and body are written separately, and on a keep-alive connection the
        # second write would otherwise wait for the client's delayed ACK (~40 ms a request).
        disable_nagle_algorithm = True

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_GATEWAY_BODY:
                response = GatewayResponse.json(413, {"message": "Request Too Long"})
                self.close_connection = True
            else:
                body = self.rfile.read(length) if length else b""
                headers = dict(self.headers.items())
                try:
                    response = gateway.handle(self.command, self.path, headers, body)
                except Exception:
                    log.exception("gateway error")
                    response = INTERNAL_ERROR
            self.send_response(response.status)
            for name, values in response.headers.items():
                for value in values:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _handle

        def __getattr__(self, name: str) -> Any:
            # Any other method (TRACE, CONNECT, made-up ones): API Gateway answers 405, not 501.
            if name.startswith("do_"):
                return self._not_allowed
            raise AttributeError(name)

        def _not_allowed(self) -> None:
            body = json.dumps({"message": "Method Not Allowed"}).encode()
            self.send_response(405)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            log.info("%s %s", self.address_string(), format % args)

    server = _GatewayServer((host, port), Handler)
    return server


class _GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    # A burst of new connections (a browser, a load test, 20 clients at once) waits in the backlog
    # instead of being reset; socketserver's default is 5.
    request_queue_size = 128
