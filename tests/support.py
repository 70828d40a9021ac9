"""Helpers the test tiers share: the reference data, in-process calls of the handlers, and the steps tests
repeat (plans, exchange keys, orders, the table, Stripe, the simulators, the local stack)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from local.events import LocalLambdaContext, proxy_event
from local.openapi import load_function_module
from local.template import load_template

if TYPE_CHECKING:
    import stripe

    from local.stripe_sim import RunningSimulator, StripeSimulator

PROJECT_ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- the reference data
# The reference's plans (local/reference_data.json): ids, key slots and balance limits.
BASIC = "336e0577-784d-4482-8a37-46649118aa51"  # 2 keys, 2500 USD
ADVANCED = "eedb6709-40be-4425-bc8c-3f27b0f16606"  # 3 keys, 5000 USD
PROFESSIONAL = "d6e3155b-caed-449c-b95b-857f1b765040"  # 5 keys, 10000 USD
PRIVATE = "eefffe05-5d1d-4be8-a300-20c7c39c9fef"  # not for sale: 3 keys, 2500 USD, assigned directly

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
SYMBOL = {"symbol": "BTC/USDT"}  # the query of the per-symbol trading routes

# Every timestamp the API answers: ISO 8601 in UTC with milliseconds.
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

KEYS_PATH = "/v1/priv/account/exchange/key"
WEBHOOK_PATH = "/v1/pub/subscription/stripe/webhook"


# ---------------------------------------------------------------- users
USER_A = "0b1c5e7a-1111-4a5b-9c2d-000000000001"
USER_B = "0b1c5e7a-2222-4a5b-9c2d-000000000002"


def claims_of(user_id: str) -> dict[str, Any]:
    """The Cognito claims the authorizer passes on for a user."""
    return {"sub": user_id, "email": f"{user_id[-4:]}@example.com", "token_use": "id"}


# ---------------------------------------------------------------- in-process calls of the handlers
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
    """Runs one function's handler on an event, as Lambda would."""
    template = load_template()
    module = load_function_module(template, function)
    # The function's own timeout from the template, as Lambda gives it (a worker plans by the time left).
    timeout = template.functions()[function].timeout
    return module.lambda_handler(event, LocalLambdaContext(function_name=function, timeout_seconds=timeout))


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


# ---------------------------------------------------------------- plans and exchange keys
def give_plan(user: str, plan_id: str) -> None:
    """The user's active plan, assigned as a completed checkout would (no Stripe involved)."""
    from core.repositories.catalog import CatalogRepository
    from local.plans import assign_plan

    plan = CatalogRepository().get_plan(plan_id)
    assert plan is not None
    assign_plan(user, plan)


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


def add_key(user: str, account: dict, **overrides: Any) -> tuple[int, dict]:
    """Creates an exchange key for a simulator account through the API (MANUAL FUTURES unless overridden)."""
    status, body, _ = call("POST", KEYS_PATH, user=user, body=exchange_key_body(account, **overrides))
    return status, body


def a_key(index: int, balance_usd: float | None = None, user: str = USER_A, active: bool = True) -> Any:
    """The ``index``-th MANUAL FUTURES ExchangeKey of a user, as the repository stores it (distinct id and apiKey)."""
    from core.models.exchange import ExchangeId, ExchangeKey, KeyStatus, StrategyType, TradeType

    return ExchangeKey(
        id=f"00000000-0000-4000-8000-{index:012d}",
        user_id=user,
        exchange_id=ExchangeId.BINANCE,
        trade_type=TradeType.FUTURES,
        strategy_type=StrategyType.MANUAL,
        active=active,
        name=f"k{index}",
        api_key=f"API{index:061d}",
        status=KeyStatus.AUTHORIZED,
        created_at="2022-09-09T01:57:36.304Z",
        updated_at="2022-09-09T01:57:36.304Z",
        balance_usd=balance_usd,
    )


def trading_key(exchange: Any, usdt: float) -> str:
    """The id of USER_A's MANUAL FUTURES key (PROFESSIONAL plan) on a fresh simulator account holding
    ``usdt``, the market back at 19200."""
    exchange.set_price("BTC/USDT", 19200)
    give_plan(USER_A, PROFESSIONAL)
    status, created = add_key(USER_A, exchange.create_account(balances={"USDT": usdt}))
    assert status == 200, created
    return created["id"]


# ---------------------------------------------------------------- trading through the API
def order(key_id: str, body: Any, user: str = USER_A, **kwargs: Any) -> tuple[int, Any, dict[str, list[str]]]:
    """Places a manual order on a key (``body`` as sent, JSON object or not)."""
    return call("POST", f"/v1/priv/exchange/order/{key_id}", user=user, body=body, **kwargs)


def open_orders(key_id: str) -> list[dict]:
    """USER_A's open orders on BTC/USDT through a key."""
    return call("GET", f"/v1/priv/exchange/order/{key_id}/list", user=USER_A, query=SYMBOL)[1]


def position(key_id: str) -> dict | None:
    """USER_A's BTC/USDT position through a key, or None."""
    return call("GET", f"/v1/priv/exchange/position/{key_id}", user=USER_A, query=SYMBOL)[1]


# ---------------------------------------------------------------- the main table
def table_items() -> list[dict[str, Any]]:
    """Every item of the main table, in DynamoDB's wire format."""
    import boto3

    from core.config import get_settings

    return boto3.client("dynamodb").scan(TableName=get_settings().table_name)["Items"]


def user_items(user: str) -> dict[str, dict[str, Any]]:
    """A user's items of the main table by sort key."""
    return {item["SK"]["S"]: item for item in table_items() if item["PK"]["S"] == f"USER#{user}"}


def manual_records(user: str = USER_A) -> list[dict]:
    """The trade records of a user's manual orders, as stored."""
    import boto3

    table = boto3.resource("dynamodb").Table("trading-api-local-main")
    items = table.query(
        KeyConditionExpression="PK = :pk AND begins_with(SK, :sk)",
        ExpressionAttributeValues={":pk": f"USER#{user}", ":sk": "MANUAL_ORDER#"},
    )["Items"]
    return [json.loads(item["record"]) for item in items]


# ---------------------------------------------------------------- Stripe (the simulator, in-process tier)
STRIPE_API_KEY = "sk_test_integration"
STRIPE_WEBHOOK_SECRET = "whsec_integration"


@dataclass
class Billing:
    """The simulator standing in for Stripe, and what its webhook deliveries were answered."""

    running: RunningSimulator
    answers: list[tuple[str, str, int]] = field(default_factory=list)  # (event id, type, status)

    @property
    def sim(self) -> StripeSimulator:
        """The simulator itself: its store, clock, events and deliveries."""
        return self.running.simulator

    @property
    def client(self) -> stripe.StripeClient:
        """A stripe-python client of the simulator, as our adapter builds one."""
        import stripe

        return stripe.StripeClient(
            STRIPE_API_KEY, base_addresses={"api": self.running.url}, max_network_retries=0
        )

    def price_of(self, plan_id: str) -> str:
        """The Stripe price id of a plan (its lookup key is the plan id)."""
        return self.client.v1.prices.list(params={"lookup_keys": [plan_id]}).data[0].id

    def checkout(self, user: str, plan_id: str) -> dict[str, Any]:
        """Starts a checkout through the API and answers its body (asserting a 200)."""
        status, body, _ = call(
            "POST",
            "/v1/priv/account/subscription/stripe/checkout",
            user=user,
            body={"subscriptionId": plan_id},
        )
        assert status == 200, body
        return body

    def subscribe(self, user: str, plan_id: str = BASIC) -> dict[str, Any]:
        """Checkout and pay: returns the Stripe subscription the simulator created."""
        return self.sim.complete_checkout(self.checkout(user, plan_id)["sessionId"])

    def statuses(self) -> list[int]:
        """The webhook function's status for each delivery so far, in order."""
        return [status for _, _, status in self.answers]


def plan_name(user: str) -> str | None:
    """The name of the user's current plan as the subscription route answers it, or None."""
    body = call("GET", "/v1/priv/account/subscription", user=user)[1]
    return body["SubscriptionType"]["name"] if body else None


# ---------------------------------------------------------------- the Binance simulator's markets
BTC = "BTC/USDT"
BTC_PERP = "BTC/USDT:USDT"
TRIGGER = {"trigger": True}  # ccxt's parameter for the conditional (algo) orders
ClientFactory = Callable[..., Any]  # the ``make_client`` fixture


# ---------------------------------------------------------------- the local stack (end-to-end tier)
START_TIMEOUT_SECONDS = 60


# A request to the local stack may wait on a cold function (ccxt, stripe) on a busy machine: more than API
# Gateway's 29 s would be a hang, not slowness.
REQUEST_TIMEOUT_SECONDS = 60


@dataclass
class RunningStack:
    """The local stack started by ``start_stack``: its URL, process and output, and HTTP calls against it."""

    url: str
    process: subprocess.Popen[str]
    output: list[str]
    state_file: Path

    def token(self, email: str, plan: str | None = None) -> tuple[str, str]:
        """An ID token and sub for the user (created if missing), with ``plan`` as their subscription."""
        body = {"email": email, **({"plan": plan} if plan else {})}
        answer = requests.post(f"{self.url}/_local/token", json=body, timeout=REQUEST_TIMEOUT_SECONDS)
        answer.raise_for_status()
        return answer.json()["idToken"], answer.json()["sub"]

    def request(
        self, method: str, path: str, token: str | None = None, headers: dict | None = None, **kwargs
    ) -> requests.Response:
        """One HTTP request to the stack, with the token as Authorization when given."""
        return requests.request(
            method,
            f"{self.url}{path}",
            headers={**_auth(token), **(headers or {})},
            timeout=REQUEST_TIMEOUT_SECONDS,
            **kwargs,
        )

    def get(self, path: str, token: str | None = None, **kwargs) -> requests.Response:
        return self.request("GET", path, token, **kwargs)

    def put(self, path: str, token: str | None = None, **kwargs) -> requests.Response:
        return self.request("PUT", path, token, **kwargs)

    def post(self, path: str, token: str | None = None, **kwargs) -> requests.Response:
        return self.request("POST", path, token, **kwargs)

    def delete(self, path: str, token: str | None = None, **kwargs) -> requests.Response:
        return self.request("DELETE", path, token, **kwargs)


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": token} if token else {}


def start_stack(tmp_path: Path) -> RunningStack:
    """Starts ``python -m local run`` on a free port and waits until it announces its URL."""
    state_file = tmp_path / "stack.json"
    environment = {**os.environ, "PORT": "0", "LOCAL_STATE_FILE": str(state_file), "PYTHONUNBUFFERED": "1"}
    environment.pop("AWS_ENDPOINT_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "local", "run"],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    ready = threading.Event()
    url: list[str] = []

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if line.startswith("API ready at "):
                url.append(line.removeprefix("API ready at ").strip())
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(START_TIMEOUT_SECONDS):
        process.kill()
        raise RuntimeError("local stack did not start:\n" + "".join(output[-50:]))
    return RunningStack(url=url[0], process=process, output=output, state_file=state_file)


def stop_stack(stack: RunningStack) -> int:
    """Stops the stack as Ctrl-C would (SIGTERM); its exit status."""
    stack.process.send_signal(signal.SIGTERM)
    try:
        return stack.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        raise


def simulator_account(stack: RunningStack, balances: dict, **permissions: Any) -> dict:
    """A new Binance simulator account on the running stack: its apiKey and apiSecretKey."""
    answer = stack.post("/_local/exchange/accounts", json={"balances": balances, "permissions": permissions})
    assert answer.status_code == 200
    return answer.json()
