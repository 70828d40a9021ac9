"""The dev-only /_local routes that drive the simulators (see the README's table)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from local.gateway import Gateway, GatewayResponse
from local.stack import DevRouteError
from local.template import LOCAL_STAGE

NO_CONTENT = GatewayResponse(204)


def _numbers(value: Any, param: str) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
        for k, v in value.items()
    ):
        raise DevRouteError(value, "must be an object of non-negative amounts by asset", param)
    return {k.upper(): float(v) for k, v in value.items()}


def _flags(value: Any, param: str) -> dict[str, bool]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, bool) for v in value.values()):
        raise DevRouteError(value, "must be an object of booleans", param)
    return value


def register_simulator_routes(gateway: Gateway) -> None:
    stack = gateway.stack

    def exchange_account(payload: dict[str, Any]) -> GatewayResponse:
        balances = _numbers(payload.get("balances"), "balances")
        permissions = _flags(payload.get("permissions"), "permissions")
        account = stack.exchange.simulator.create_account(
            balances=balances or None, permissions=permissions or None
        )
        return GatewayResponse.json(
            200, {"apiKey": account["apiKey"], "apiSecretKey": account["apiSecretKey"]}
        )

    def exchange_price(payload: dict[str, Any]) -> GatewayResponse:
        symbol, price = payload.get("symbol"), payload.get("price")
        if not isinstance(symbol, str):
            raise DevRouteError(symbol, "must be an exchange symbol like BTC/USDT", "symbol")
        if not isinstance(price, int | float) or isinstance(price, bool) or price <= 0:
            raise DevRouteError(price, "must be a positive number", "price")
        try:
            stack.exchange.simulator.set_price(symbol, float(price))
        except ValueError:
            raise DevRouteError(symbol, "must be a symbol the exchange lists", "symbol") from None
        return NO_CONTENT

    def exchange_faults(payload: dict[str, Any]) -> GatewayResponse:
        try:
            stack.exchange.simulator.set_faults(**payload)
        except (TypeError, ValueError) as error:
            raise DevRouteError(payload, f"invalid faults: {error}", "faults") from None
        return NO_CONTENT

    def stripe_checkout_complete(_: dict[str, Any], session_id: str) -> GatewayResponse:
        try:
            stack.stripe.simulator.complete_checkout(session_id)
        except KeyError:
            return GatewayResponse.json(404, {"message": f"no checkout session {session_id}"})
        except ValueError as error:
            return GatewayResponse.json(409, {"message": str(error)})
        return NO_CONTENT

    gateway.add_dev_route(r"^/_local/exchange/accounts$", exchange_account)
    gateway.add_dev_route(r"^/_local/exchange/price$", exchange_price)
    gateway.add_dev_route(r"^/_local/exchange/faults$", exchange_faults)
    gateway.add_dev_route(
        r"^/_local/stripe/checkout/(?P<session_id>[\w-]+)/complete$", stripe_checkout_complete
    )


def register_strategy_routes(gateway: Gateway) -> None:
    """``/_local/strategies/{id}/secret`` and ``/_local/strategies/{id}/signal`` (the README's table)."""
    stack = gateway.stack

    def signal_secret(_: dict[str, Any], strategy_id: str) -> GatewayResponse:
        from core.signal_secrets import secret_name

        assert stack.aws is not None
        client = stack.aws.client("secretsmanager")
        try:
            secret = client.get_secret_value(SecretId=secret_name(LOCAL_STAGE, strategy_id))["SecretString"]
        except client.exceptions.ResourceNotFoundException:
            return GatewayResponse.json(404, {"message": f"no strategy {strategy_id}"})
        return GatewayResponse.json(200, {"secret": secret})

    def send_signal(payload: dict[str, Any], strategy_id: str) -> GatewayResponse:
        """Fills in what the signal leaves out, posts it to the real route, waits for every follower."""
        from core.repositories.triggers import TriggerRepository
        from core.signal_secrets import secret_name
        from core.timeutil import iso_now

        if "secret" not in payload:
            assert stack.aws is not None
            client = stack.aws.client("secretsmanager")
            try:
                payload["secret"] = client.get_secret_value(SecretId=secret_name(LOCAL_STAGE, strategy_id))[
                    "SecretString"
                ]
            except client.exceptions.ResourceNotFoundException:
                return GatewayResponse.json(404, {"message": f"no strategy {strategy_id}"})
        payload.setdefault("timestamp", iso_now())
        payload.setdefault("signalId", str(uuid.uuid4()))
        answer = gateway.handle(
            "POST",
            f"/v1/hook/strategy/{strategy_id}/signal",
            {"Content-Type": "application/json"},
            json.dumps(payload).encode(),
        )
        body = json.loads(answer.body) if answer.body else None
        orders: list[dict[str, Any]] = []
        if answer.status in (200, 202) and isinstance(body, dict):
            stack.wait_until_drained("StrategyFanOutFunction", timeout=120)
            orders = [
                {
                    "followId": outcome.follow_id,
                    "keyId": outcome.key_id,
                    "userId": outcome.user_id,
                    "outcome": outcome.outcome.value,
                    "reason": outcome.reason,
                    "amount": outcome.amount,
                }
                for outcome in TriggerRepository().outcomes(body["triggerId"])
            ]
        return GatewayResponse.json(200, {"status": answer.status, "body": body, "orders": orders})

    gateway.add_dev_route(r"^/_local/strategies/(?P<strategy_id>[\w-]+)/secret$", signal_secret, method="GET")
    gateway.add_dev_route(r"^/_local/strategies/(?P<strategy_id>[\w-]+)/signal$", send_signal)


def register_notification_routes(gateway: Gateway) -> None:
    """``/_local/telegram/updates``, ``/_local/telegram/messages`` and ``/_local/email`` (the README's table)."""
    stack = gateway.stack

    def telegram_update(payload: dict[str, Any]) -> GatewayResponse:
        return GatewayResponse.json(
            200, stack.telegram_update(payload.get("chatId"), payload.get("text"), payload.get("username"))
        )

    def telegram_messages(query: dict[str, Any]) -> GatewayResponse:
        return GatewayResponse.json(200, stack.telegram_messages(query.get("chatId")))

    def emails(query: dict[str, Any]) -> GatewayResponse:
        return GatewayResponse.json(200, stack.emails(query.get("to")))

    gateway.add_dev_route(r"^/_local/telegram/updates$", telegram_update)
    gateway.add_dev_route(r"^/_local/telegram/messages$", telegram_messages, method="GET")
    gateway.add_dev_route(r"^/_local/email$", emails, method="GET")
