"""The Binance REST surface: routing, authentication, parameter parsing and the endpoint handlers.

Only the endpoints ccxt 4.5.90 calls for the project's operations exist (listed in ``_ROUTES``);
anything else answers 404 with a ``-1020`` body naming the missing route, so a gap in the simulator
shows up as a clear ccxt BadRequest instead of a confusing parse error.

Authentication mirrors Binance's SIGNED endpoints: the ``X-MBX-APIKEY`` header names the account,
``timestamp``/``recvWindow`` must bracket the server time, and ``signature`` is the hex
HMAC-SHA256 of the total parameters (query string followed by body, minus the signature itself)
keyed with the account's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, TypeVar, cast
from urllib.parse import parse_qsl

from local.exchange_sim import errors, views
from local.exchange_sim.candles import INTERVAL_MS
from local.exchange_sim.engine import (
    FUTURES_CONDITIONAL_TYPES,
    SPOT_ORDER_TYPES,
    TIME_IN_FORCE,
    Account,
    AlgoOrder,
    AlgoOrderRequest,
    Engine,
    FuturesOrderRequest,
    Order,
    Side,
    SpotOrderRequest,
    Trade,
)
from local.exchange_sim.market import MarketKind, MarketSpec

Permission = Literal["none", "read", "spot_trade", "futures_read", "futures_trade"]
_NUMBER = re.compile(r"^[0-9]{1,20}(\.[0-9]{1,20})?$")
_INTEGER = re.compile(r"^-?[0-9]{1,20}$")
_DEFAULT_RECV_WINDOW = 5000
_MAX_RECV_WINDOW = 60000
_CANCEL_ALL_DONE = {"code": 200, "msg": "The operation of cancel all open order is done."}


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str
    query: str
    body: str
    headers: Mapping[str, str]

    def params(self) -> dict[str, str]:
        # Binance reads the query string and the form body alike; the body wins on a duplicate key.
        result = dict(parse_qsl(self.query, keep_blank_values=True))
        result.update(parse_qsl(self.body, keep_blank_values=True))
        return result

    def signed_payload(self) -> str:
        """The "totalParams" Binance signs: query string then body, without the signature pair."""
        parts = [self._without_signature(self.query), self._without_signature(self.body)]
        return "".join(part for part in parts if part)

    @staticmethod
    def _without_signature(raw: str) -> str:
        return "&".join(p for p in raw.split("&") if p and not p.startswith("signature="))


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any


class Params:
    """Typed access to the request parameters, failing with Binance's own error codes."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self._values.get(name)
        if value is None or value == "":
            if required:
                raise errors.mandatory_param(name)
            return None
        return value

    def required(self, name: str) -> str:
        return cast(str, self.text(name, required=True))

    def decimal(self, name: str, *, required: bool = False) -> Decimal | None:
        raw = self.text(name, required=required)
        if raw is None:
            return None
        if not _NUMBER.match(raw):
            raise errors.illegal_chars(name)
        return Decimal(raw)

    def integer(self, name: str, *, required: bool = False) -> int | None:
        raw = self.text(name, required=required)
        if raw is None:
            return None
        if not _INTEGER.match(raw):
            raise errors.illegal_chars(name)
        return int(raw)

    def flag(self, name: str, default: bool = False) -> bool:
        raw = self.text(name)
        if raw is None:
            return default
        lowered = raw.lower()
        if lowered not in ("true", "false"):
            raise errors.invalid_param_value(name)
        return lowered == "true"

    def side(self) -> Side:
        side = self.required("side")
        if side not in ("BUY", "SELL"):
            raise errors.invalid_side()
        return cast(Side, side)

    def enum(self, name: str, allowed: Iterable[str], error: errors.BinanceError) -> str | None:
        value = self.text(name)
        if value is not None and value not in allowed:
            raise error
        return value


@dataclass
class Context:
    params: Params
    account: Account | None = None

    @property
    def user(self) -> Account:
        assert self.account is not None, "handler needs a SIGNED route"
        return self.account


Handler = Callable[["BinanceApi", Context], Any]
_H = TypeVar("_H", bound=Handler)


@dataclass(frozen=True)
class Route:
    handler: Handler
    signed: bool
    permission: Permission


_ROUTES: dict[tuple[str, str], Route] = {}


def route(
    method: str, *paths: str, signed: bool = False, permission: Permission = "none"
) -> Callable[[_H], _H]:
    def register(handler: _H) -> _H:
        for path in paths:
            _ROUTES[(method, path)] = Route(handler, signed, permission)
        return handler

    return register


def _window(
    items: Sequence[Any],
    params: Params,
    time_of: Callable[[Any], int],
    id_of: Callable[[Any], int],
    from_key: str,
    default_limit: int = 500,
    max_limit: int = 1000,
) -> list[Any]:
    """Binance's history paging: startTime/endTime, ``from_key`` (ids >= value), newest ``limit``."""
    start, end, from_id = params.integer("startTime"), params.integer("endTime"), params.integer(from_key)
    limit = min(params.integer("limit") or default_limit, max_limit)
    selected = [
        item
        for item in sorted(items, key=id_of)
        if (start is None or time_of(item) >= start)
        and (end is None or time_of(item) <= end)
        and (from_id is None or id_of(item) >= from_id)
    ]
    # With a starting id Binance pages forward from it; otherwise it returns the most recent entries.
    return selected[:limit] if from_id is not None or start is not None else selected[-limit:]


class BinanceApi:
    """Dispatches one HTTP request to its handler, under the engine lock."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def handle(self, request: ApiRequest) -> ApiResponse:
        try:
            found = _ROUTES.get((request.method, request.path))
            if found is None:
                raise errors.unknown_route(request.method, request.path)
            params = Params(request.params())
            context = Context(params)
            with self.engine.lock:
                if found.signed:
                    context.account = self._authenticate(request, params, found.permission)
                return ApiResponse(200, found.handler(self, context))
        except errors.BinanceError as error:
            return ApiResponse(error.http_status, error.to_body())
        except Exception as exc:
            # A simulator bug: answer like Binance's unknown error (so ccxt raises) and show the trace.
            traceback.print_exc()
            detail = f"An unknown error occured while processing the request. (simulator: {exc!r})"
            return ApiResponse(500, {"code": -1000, "msg": detail})

    # -- authentication ----------------------------------------------------------------------------

    def _authenticate(self, request: ApiRequest, params: Params, permission: Permission) -> Account:
        api_key = request.headers.get("X-MBX-APIKEY")
        if not api_key:
            raise errors.api_key_format_invalid()
        account = self.engine.account_by_key(api_key)
        if account is None:
            raise errors.invalid_api_key()
        self._check_timestamp(params)
        signature = params.text("signature")
        if signature is None:
            raise errors.mandatory_param("signature")
        expected = hmac.new(
            account.secret.encode(), request.signed_payload().encode(), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            raise errors.bad_signature()
        self._check_permission(account, permission)
        return account

    def _check_timestamp(self, params: Params) -> None:
        timestamp = params.integer("timestamp", required=True)
        assert timestamp is not None
        recv_window = params.integer("recvWindow") or _DEFAULT_RECV_WINDOW
        if recv_window > _MAX_RECV_WINDOW:
            raise errors.BinanceError(-1131, "recvWindow must be less than 60000")
        now = self.engine.clock.now_ms()
        if timestamp >= now + 1000:
            raise errors.timestamp_ahead()
        if now - timestamp > recv_window:
            raise errors.timestamp_outside_recv_window()

    @staticmethod
    def _check_permission(account: Account, permission: Permission) -> None:
        granted = account.permissions
        allowed = {
            "none": True,
            "read": granted.enable_reading,
            "spot_trade": granted.enable_spot_and_margin_trading,
            "futures_read": granted.enable_futures and granted.enable_reading,
            "futures_trade": granted.enable_futures,
        }[permission]
        if not allowed:
            raise errors.invalid_api_key()

    # -- helpers -----------------------------------------------------------------------------------

    def _spec(self, kind: MarketKind, params: Params, *, required: bool = True) -> MarketSpec | None:
        symbol = params.text("symbol", required=required)
        return None if symbol is None else self.engine.markets.get(kind, symbol)

    def _required_spec(self, kind: MarketKind, params: Params) -> MarketSpec:
        spec = self._spec(kind, params)
        assert spec is not None
        return spec

    def _specs_for_query(self, kind: MarketKind, params: Params) -> tuple[list[MarketSpec], bool]:
        """``symbol`` -> one market (single object answer); ``symbols`` JSON list; else every market."""
        symbol = params.text("symbol")
        if symbol is not None:
            return [self.engine.markets.get(kind, symbol)], True
        raw = params.text("symbols")
        if raw is not None:
            try:
                ids = json.loads(raw)
            except ValueError as exc:
                raise errors.invalid_param_value("symbols") from exc
            if not isinstance(ids, list):
                raise errors.invalid_param_value("symbols")
            return [self.engine.markets.get(kind, str(i)) for i in ids], False
        return self.engine.markets.of_kind(kind), False

    def _market_data(self, kind: MarketKind, context: Context, render: Callable[[MarketSpec], Any]) -> Any:
        specs, single = self._specs_for_query(kind, context.params)
        rendered = [render(spec) for spec in specs]
        return rendered[0] if single else rendered

    def _order_ref(self, params: Params) -> tuple[int | None, str | None]:
        order_id = params.integer("orderId")
        client_id = params.text("origClientOrderId")
        if order_id is None and client_id is None:
            raise errors.either_param("orderId", "origClientOrderId")
        return order_id, client_id

    def _render_futures_order(self, order: Order, *, with_time: bool = True) -> dict[str, Any]:
        return views.futures_order(
            order, self.engine.markets.get("futures", order.symbol), with_time=with_time
        )

    def _render_algo(self, account: Account, algo: AlgoOrder) -> dict[str, Any]:
        actual = account.orders.get(algo.actual_order_id) if algo.actual_order_id is not None else None
        return views.algo_order(algo, self.engine.markets.get("futures", algo.symbol), actual)

    def _now(self) -> int:
        return self.engine.clock.now_ms()

    # -- general & spot market data ----------------------------------------------------------------

    @route("GET", "/api/v3/time", "/fapi/v1/time")
    def server_time(self, context: Context) -> Any:
        return {"serverTime": self._now()}

    @route("GET", "/api/v3/exchangeInfo")
    def spot_exchange_info(self, context: Context) -> Any:
        specs, _ = self._specs_for_query("spot", context.params)
        return views.spot_exchange_info(specs, self._now())

    @route("GET", "/fapi/v1/exchangeInfo")
    def futures_exchange_info(self, context: Context) -> Any:
        return views.futures_exchange_info(self.engine.markets.of_kind("futures"), self._now())

    @route("GET", "/dapi/v1/exchangeInfo")
    def inverse_exchange_info(self, context: Context) -> Any:
        return views.inverse_exchange_info(self._now())

    @route("GET", "/api/v3/ticker/24hr")
    def spot_ticker(self, context: Context) -> Any:
        return self._market_data("spot", context, lambda spec: views.ticker_24hr(self.engine, spec))

    @route("GET", "/fapi/v1/ticker/24hr")
    def futures_ticker(self, context: Context) -> Any:
        return self._market_data("futures", context, lambda spec: views.ticker_24hr(self.engine, spec))

    @route("GET", "/fapi/v1/premiumIndex")
    def premium_index(self, context: Context) -> Any:
        return self._market_data("futures", context, lambda spec: views.premium_index(self.engine, spec))

    @route("GET", "/api/v3/klines")
    def spot_klines(self, context: Context) -> Any:
        return self._klines("spot", context, max_limit=1000)

    @route("GET", "/fapi/v1/klines")
    def futures_klines(self, context: Context) -> Any:
        return self._klines("futures", context, max_limit=1500)

    def _klines(self, kind: MarketKind, context: Context, max_limit: int) -> Any:
        params = context.params
        spec = self._required_spec(kind, params)
        interval = INTERVAL_MS.get(params.required("interval"))
        if interval is None:
            raise errors.invalid_interval()
        start, end = params.integer("startTime"), params.integer("endTime")
        if start is not None and end is not None and start > end:
            raise errors.start_after_end()
        limit = params.integer("limit") or 500
        if limit < 1:
            raise errors.invalid_param_value("limit")
        history = self.engine.history[spec.pair]
        candles = history.candles(interval, self._now(), start, end, min(limit, max_limit))
        return [views.kline(spec, candle) for candle in candles]

    @route("GET", "/sapi/v1/margin/allPairs", "/sapi/v1/margin/isolated/allPairs", signed=True)
    def margin_pairs(self, context: Context) -> Any:
        # ccxt.binance asks for these when it has credentials; the simulator has no margin trading.
        return []

    # -- key information ---------------------------------------------------------------------------

    @route("GET", "/sapi/v1/account/apiRestrictions", signed=True)
    def api_restrictions(self, context: Context) -> Any:
        account = context.user
        body: dict[str, Any] = {"createTime": account.created_ms, **account.permissions.to_json()}
        if not account.permissions.ip_restrict:
            # Binance expires trading rights of unrestricted keys; it reports when.
            body["tradingAuthorityExpirationTime"] = account.created_ms + 90 * 86_400_000
        return body

    # -- spot account & orders ---------------------------------------------------------------------

    @route("GET", "/api/v3/account", signed=True, permission="read")
    def spot_account(self, context: Context) -> Any:
        return views.spot_account(context.user, self._now(), context.params.flag("omitZeroBalances"))

    @route("POST", "/api/v3/order", signed=True, permission="spot_trade")
    def spot_new_order(self, context: Context) -> Any:
        params = context.params
        spec = self._required_spec("spot", params)
        side = params.side()
        order_type = params.required("type")
        if order_type not in SPOT_ORDER_TYPES:
            raise errors.invalid_order_type()
        if params.text("trailingDelta") is not None:
            raise errors.not_supported("trailingDelta orders")
        request = SpotOrderRequest(
            spec=spec,
            side=side,
            type=order_type,
            quantity=params.decimal("quantity"),
            quote_order_qty=params.decimal("quoteOrderQty"),
            price=params.decimal("price"),
            stop_price=params.decimal("stopPrice"),
            time_in_force=params.text("timeInForce"),
            client_order_id=params.text("newClientOrderId"),
            stp_mode=params.text("selfTradePreventionMode") or "EXPIRE_MAKER",
        )
        order = self.engine.place_spot_order(context.user, request)
        default_resp = "FULL" if order_type in ("MARKET", "LIMIT") else "ACK"
        resp_type = params.enum(
            "newOrderRespType", ("ACK", "RESULT", "FULL"), errors.invalid_param_value("newOrderRespType")
        )
        return views.spot_order(order, spec, resp_type or default_resp)

    @route("GET", "/api/v3/order", signed=True, permission="read")
    def spot_query_order(self, context: Context) -> Any:
        spec = self._required_spec("spot", context.params)
        order_id, client_id = self._order_ref(context.params)
        return views.spot_order(self.engine.find_order(context.user, "spot", spec, order_id, client_id), spec)

    @route("DELETE", "/api/v3/order", signed=True, permission="spot_trade")
    def spot_cancel_order(self, context: Context) -> Any:
        spec = self._required_spec("spot", context.params)
        order_id, client_id = self._order_ref(context.params)
        try:
            order = self.engine.find_order(context.user, "spot", spec, order_id, client_id)
        except errors.BinanceError as exc:
            raise errors.unknown_order() from exc
        return views.spot_order(self.engine.cancel_spot_order(context.user, order), spec, "CANCEL")

    @route("DELETE", "/api/v3/openOrders", signed=True, permission="spot_trade")
    def spot_cancel_all(self, context: Context) -> Any:
        spec = self._required_spec("spot", context.params)
        return [views.spot_order(o, spec, "CANCEL") for o in self.engine.cancel_all_spot(context.user, spec)]

    @route("GET", "/api/v3/openOrders", signed=True, permission="read")
    def spot_open_orders(self, context: Context) -> Any:
        spec = self._spec("spot", context.params, required=False)
        orders = context.user.open_orders("spot", spec.symbol_id if spec else None)
        return [self._render_spot(o) for o in sorted(orders, key=lambda o: o.order_id)]

    @route("GET", "/api/v3/allOrders", signed=True, permission="read")
    def spot_all_orders(self, context: Context) -> Any:
        spec = self._required_spec("spot", context.params)
        orders = _window(
            context.user.orders_of("spot", spec.symbol_id),
            context.params,
            lambda o: o.created_ms,
            lambda o: o.order_id,
            "orderId",
        )
        return [views.spot_order(o, spec) for o in orders]

    @route("GET", "/api/v3/myTrades", signed=True, permission="read")
    def spot_my_trades(self, context: Context) -> Any:
        spec = self._required_spec("spot", context.params)
        trades = self._trades(context, "spot", spec)
        return [views.spot_trade(t, spec) for t in trades]

    def _render_spot(self, order: Order) -> dict[str, Any]:
        return views.spot_order(order, self.engine.markets.get("spot", order.symbol))

    def _trades(self, context: Context, kind: MarketKind, spec: MarketSpec) -> list[Trade]:
        order_id = context.params.integer("orderId")
        trades = [
            t
            for t in context.user.trades
            if t.kind == kind and t.symbol == spec.symbol_id and (order_id is None or t.order_id == order_id)
        ]
        return _window(trades, context.params, lambda t: t.time_ms, lambda t: t.trade_id, "fromId")

    # -- futures account ---------------------------------------------------------------------------

    @route("GET", "/fapi/v3/account", signed=True, permission="futures_read")
    def futures_account(self, context: Context) -> Any:
        return views.futures_account(self.engine, context.user)

    @route("GET", "/fapi/v2/positionRisk", signed=True, permission="futures_read")
    def position_risk(self, context: Context) -> Any:
        spec = self._spec("futures", context.params, required=False)
        specs = [spec] if spec else self.engine.markets.of_kind("futures")
        account = context.user
        # v2 lists every symbol, with or without a position (the project reads v2: ccxt's useV2).
        return [views.position_risk(self.engine, self.engine.position_metrics(account, m)) for m in specs]

    @route("GET", "/fapi/v1/leverageBracket", signed=True, permission="futures_read")
    def leverage_bracket(self, context: Context) -> Any:
        spec = self._spec("futures", context.params, required=False)
        specs = [spec] if spec else self.engine.markets.of_kind("futures")
        # Always a list (Binance sends a bare object when a symbol is given; ccxt never sends one).
        return [views.leverage_bracket(s) for s in specs]

    @route("POST", "/fapi/v1/leverage", signed=True, permission="futures_trade")
    def set_leverage(self, context: Context) -> Any:
        spec = self._required_spec("futures", context.params)
        leverage = context.params.integer("leverage", required=True)
        assert leverage is not None
        settings = self.engine.set_leverage(context.user, spec, leverage)
        return {
            "leverage": settings.leverage,
            "maxNotionalValue": f"{self.engine.max_notional(spec, settings.leverage).normalize():f}",
            "symbol": spec.symbol_id,
        }

    @route("POST", "/fapi/v1/marginType", signed=True, permission="futures_trade")
    def set_margin_type(self, context: Context) -> Any:
        spec = self._required_spec("futures", context.params)
        margin_type = context.params.required("marginType").upper()
        if margin_type not in ("ISOLATED", "CROSSED"):
            raise errors.invalid_param_value("marginType")
        self.engine.set_margin_type(context.user, spec, margin_type)
        return {"code": 200, "msg": "success"}

    # -- futures orders ----------------------------------------------------------------------------

    def _check_position_side(self, params: Params) -> None:
        position_side = params.text("positionSide")
        if position_side is not None and position_side != "BOTH":
            raise errors.position_side_mismatch()

    @route("POST", "/fapi/v1/order", signed=True, permission="futures_trade")
    def futures_new_order(self, context: Context) -> Any:
        params = context.params
        spec = self._required_spec("futures", params)
        side = params.side()
        order_type = params.required("type")
        if order_type in FUTURES_CONDITIONAL_TYPES:
            raise errors.use_algo_endpoint()
        if order_type not in ("MARKET", "LIMIT"):
            raise errors.invalid_order_type()
        self._check_position_side(params)
        if params.flag("closePosition"):
            raise errors.invalid_param_value("closePosition")
        request = FuturesOrderRequest(
            spec=spec,
            side=side,
            type=order_type,
            quantity=params.decimal("quantity"),
            price=params.decimal("price"),
            time_in_force=params.enum("timeInForce", TIME_IN_FORCE, errors.invalid_time_in_force()),
            reduce_only=params.flag("reduceOnly"),
            client_order_id=params.text("newClientOrderId"),
            stp_mode=params.text("selfTradePreventionMode") or "EXPIRE_MAKER",
        )
        order = self.engine.place_futures_order(context.user, request)
        return self._render_futures_order(order, with_time=False)

    @route("GET", "/fapi/v1/order", signed=True, permission="futures_read")
    def futures_query_order(self, context: Context) -> Any:
        spec = self._required_spec("futures", context.params)
        order_id, client_id = self._order_ref(context.params)
        return self._render_futures_order(
            self.engine.find_order(context.user, "futures", spec, order_id, client_id)
        )

    @route("DELETE", "/fapi/v1/order", signed=True, permission="futures_trade")
    def futures_cancel_order(self, context: Context) -> Any:
        spec = self._required_spec("futures", context.params)
        order_id, client_id = self._order_ref(context.params)
        try:
            order = self.engine.find_order(context.user, "futures", spec, order_id, client_id)
        except errors.BinanceError as exc:
            raise errors.unknown_order() from exc
        return self._render_futures_order(self.engine.cancel_futures_order(context.user, order))

    @route("DELETE", "/fapi/v1/allOpenOrders", signed=True, permission="futures_trade")
    def futures_cancel_all(self, context: Context) -> Any:
        # Regular orders only: conditional orders are cancelled through DELETE /fapi/v1/algoOpenOrders.
        self.engine.cancel_all_futures(context.user, self._required_spec("futures", context.params))
        return dict(_CANCEL_ALL_DONE)

    @route("GET", "/fapi/v1/openOrders", signed=True, permission="futures_read")
    def futures_open_orders(self, context: Context) -> Any:
        spec = self._spec("futures", context.params, required=False)
        orders = context.user.open_orders("futures", spec.symbol_id if spec else None)
        return [self._render_futures_order(o) for o in sorted(orders, key=lambda o: o.order_id)]

    @route("GET", "/fapi/v1/allOrders", signed=True, permission="futures_read")
    def futures_all_orders(self, context: Context) -> Any:
        spec = self._spec("futures", context.params, required=False)
        orders = _window(
            context.user.orders_of("futures", spec.symbol_id if spec else None),
            context.params,
            lambda o: o.created_ms,
            lambda o: o.order_id,
            "orderId",
        )
        return [self._render_futures_order(o) for o in orders]

    @route("GET", "/fapi/v1/userTrades", signed=True, permission="futures_read")
    def futures_user_trades(self, context: Context) -> Any:
        spec = self._required_spec("futures", context.params)
        return [views.futures_trade(t, spec) for t in self._trades(context, "futures", spec)]

    # -- futures conditional (algo) orders ---------------------------------------------------------

    @route("POST", "/fapi/v1/algoOrder", signed=True, permission="futures_trade")
    def algo_new_order(self, context: Context) -> Any:
        params = context.params
        if params.required("algoType") != "CONDITIONAL":
            raise errors.invalid_param_value("algoType")
        spec = self._required_spec("futures", params)
        side = params.side()
        order_type = params.required("type")
        self._check_position_side(params)
        request = AlgoOrderRequest(
            spec=spec,
            side=side,
            type=order_type,
            quantity=params.decimal("quantity"),
            price=params.decimal("price"),
            trigger_price=params.decimal("triggerPrice"),
            callback_rate=params.decimal("callbackRate"),
            activate_price=params.decimal("activatePrice") or params.decimal("activationPrice"),
            time_in_force=params.enum("timeInForce", TIME_IN_FORCE, errors.invalid_time_in_force()),
            reduce_only=params.flag("reduceOnly"),
            close_position=params.flag("closePosition"),
            working_type=params.enum(
                "workingType", ("CONTRACT_PRICE", "MARK_PRICE"), errors.invalid_param_value("workingType")
            )
            or "CONTRACT_PRICE",
            price_protect=params.flag("priceProtect"),
            client_algo_id=params.text("clientAlgoId"),
            stp_mode=params.text("selfTradePreventionMode") or "EXPIRE_MAKER",
        )
        algo = self.engine.place_algo_order(context.user, request)
        return self._render_algo(context.user, algo)

    def _algo_ref(self, context: Context) -> AlgoOrder:
        algo_id = context.params.integer("algoId")
        client_id = context.params.text("clientAlgoId")
        if algo_id is None and client_id is None:
            raise errors.either_param("algoId", "clientAlgoId")
        return self.engine.find_algo(context.user, algo_id, client_id)

    @route("GET", "/fapi/v1/algoOrder", signed=True, permission="futures_read")
    def algo_query(self, context: Context) -> Any:
        return self._render_algo(context.user, self._algo_ref(context))

    @route("DELETE", "/fapi/v1/algoOrder", signed=True, permission="futures_trade")
    def algo_cancel(self, context: Context) -> Any:
        try:
            algo = self._algo_ref(context)
        except errors.BinanceError as exc:
            if exc.code == -1102:
                raise
            raise errors.unknown_order() from exc
        self.engine.cancel_algo(context.user, algo)
        return {"algoId": algo.algo_id, "clientAlgoId": algo.client_algo_id, "code": "200", "msg": "success"}

    @route("DELETE", "/fapi/v1/algoOpenOrders", signed=True, permission="futures_trade")
    def algo_cancel_all(self, context: Context) -> Any:
        self.engine.cancel_all_algos(context.user, self._required_spec("futures", context.params))
        return dict(_CANCEL_ALL_DONE)

    @route("GET", "/fapi/v1/openAlgoOrders", signed=True, permission="futures_read")
    def algo_open_orders(self, context: Context) -> Any:
        spec = self._spec("futures", context.params, required=False)
        algos = context.user.open_algos(spec.symbol_id if spec else None)
        return [self._render_algo(context.user, a) for a in sorted(algos, key=lambda a: a.algo_id)]

    @route("GET", "/fapi/v1/allAlgoOrders", signed=True, permission="futures_read")
    def algo_all_orders(self, context: Context) -> Any:
        spec = self._required_spec("futures", context.params)
        algos = _window(
            [a for a in context.user.algo_orders.values() if a.symbol == spec.symbol_id],
            context.params,
            lambda a: a.created_ms,
            lambda a: a.algo_id,
            "algoId",
        )
        return [self._render_algo(context.user, a) for a in algos]
