"""Builds API Gateway events for any route of template.yaml and runs function handlers in-process."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from local.events import LocalLambdaContext, proxy_event
from local.openapi import load_function_module
from local.template import load_template

# The API reference's example manual order.
REFERENCE_ORDER = {
    "symbol": "BTC/USDT",
    "type": "MARKET",
    "side": "BUY",
    "amount": "0.05",
    "takeProfitPrices": [19250, 19300],
    "stopTriggerPrice": 19000,
    "stopTriggerType": "LIMIT",
    "stopPrice": 19000,
}


def exchange_key_body(account: dict, **overrides: Any) -> dict:
    """A create-key body for a simulator account (MANUAL FUTURES unless overridden)."""
    return {
        "exchangeId": "BINANCE",
        "tradeType": "FUTURES",
        "strategyType": "MANUAL",
        "name": "Default",
        "apiKey": account["apiKey"],
        "apiSecretKey": account["apiSecretKey"],
        **overrides,
    }


USER_A = "0b1c5e7a-1111-4a5b-9c2d-000000000001"
USER_B = "0b1c5e7a-2222-4a5b-9c2d-000000000002"


def claims_of(user_id: str) -> dict[str, Any]:
    return {"sub": user_id, "email": f"{user_id[-4:]}@example.com", "token_use": "id"}


def api_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    raw_body: str | bytes | None = None,
    user: str | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The event API Gateway sends for ``method path`` and the function the template routes it to."""
    template = load_template()
    for route in template.routes():
        match = route.pattern.match(path)
        if match and route.method == method:
            break
    else:
        raise AssertionError(f"no route {method} {path} in template.yaml")
    payload = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    event = proxy_event(
        method=method,
        resource=route.path,
        path=path,
        path_parameters={k: urllib.parse.unquote(v) for k, v in match.groupdict().items()},
        query={k: [v] for k, v in (query or {}).items()},
        headers={"Content-Type": "application/json", **(headers or {})},
        body=payload,
        claims=claims_of(user) if user else None,
    )
    return route.function, event


def invoke(function: str, event: dict[str, Any]) -> dict[str, Any]:
    module = load_function_module(load_template(), function)
    return module.lambda_handler(event, LocalLambdaContext(function_name=function))


def call(method: str, path: str, **kwargs: Any) -> tuple[int, Any, dict[str, list[str]]]:
    """Status, decoded JSON body and headers of one request, handled in-process."""
    function, event = api_event(method, path, **kwargs)
    response = invoke(function, event)
    body = response.get("body")
    return (
        response["statusCode"],
        (json.loads(body) if body else None),
        response.get("multiValueHeaders") or {},
    )
