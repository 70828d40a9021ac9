"""Errors in Binance's ``{"code": ..., "msg": ...}`` shape, with the HTTP status Binance answers.

ccxt picks its exception class first from an exact match on ``msg`` and then from ``code`` (see
``binance.describe()['exceptions']`` and ``binance.handle_errors``), so every error here reuses the
exact code *and* message Binance sends: a different wording would silently change the class ccxt
raises. The constructors below are named after the situation, not the code, so the engine reads
like the rules it enforces.
"""

from __future__ import annotations

from typing import Any


class BinanceError(Exception):
    """An answer the HTTP layer renders as ``{"code": code, "msg": msg}`` with ``http_status``."""

    def __init__(self, code: int, msg: str, http_status: int = 400) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.http_status = http_status

    def to_body(self) -> dict[str, Any]:
        return {"code": self.code, "msg": self.msg}

    def __str__(self) -> str:
        return f"{self.code} {self.msg}"


# -- request / authentication ----------------------------------------------------------------------


def invalid_api_key() -> BinanceError:
    # Binance uses the same answer for an unknown key, a non-whitelisted IP and a missing permission.
    return BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", 401)


def api_key_format_invalid() -> BinanceError:
    return BinanceError(-2014, "API-key format invalid.", 401)


def bad_signature() -> BinanceError:
    return BinanceError(-1022, "Signature for this request is not valid.")


def timestamp_ahead() -> BinanceError:
    return BinanceError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")


def timestamp_outside_recv_window() -> BinanceError:
    return BinanceError(-1021, "Timestamp for this request is outside of the recvWindow.")


def mandatory_param(name: str) -> BinanceError:
    return BinanceError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def either_param(first: str, second: str) -> BinanceError:
    return BinanceError(-1102, f"Param '{first}' or '{second}' must be sent, but both were empty/null!")


def illegal_chars(name: str) -> BinanceError:
    return BinanceError(
        -1100,
        f"Illegal characters found in parameter '{name}'; legal range is '^([0-9]{{1,20}})(\\.[0-9]{{1,20}})?$'.",
    )


def invalid_param_value(name: str) -> BinanceError:
    return BinanceError(-1130, f"Data sent for parameter '{name}' is not valid.")


def invalid_symbol() -> BinanceError:
    return BinanceError(-1121, "Invalid symbol.")


def invalid_order_type() -> BinanceError:
    return BinanceError(-1116, "Invalid orderType.")


def invalid_side() -> BinanceError:
    return BinanceError(-1117, "Invalid side.")


def invalid_time_in_force() -> BinanceError:
    return BinanceError(-1115, "Invalid timeInForce.")


def not_supported(detail: str) -> BinanceError:
    # -1020 is Binance's "This operation is not supported."; the detail says what the simulator lacks.
    return BinanceError(-1020, f"This operation is not supported. ({detail})")


def unknown_route(method: str, path: str) -> BinanceError:
    return BinanceError(
        -1020, f"This operation is not supported. (simulator has no route {method} {path})", 404
    )


# -- orders ----------------------------------------------------------------------------------------


def order_does_not_exist() -> BinanceError:
    return BinanceError(-2013, "Order does not exist.")


def unknown_order() -> BinanceError:
    return BinanceError(-2011, "Unknown order sent.")


def spot_insufficient_balance() -> BinanceError:
    # ccxt maps this message (not the code) to InsufficientFunds.
    return BinanceError(-2010, "Account has insufficient balance for requested action.")


def spot_duplicate_order() -> BinanceError:
    return BinanceError(-2010, "Duplicate order sent.")


def spot_would_take() -> BinanceError:
    return BinanceError(-2010, "Order would immediately match and take.")


def spot_stop_would_trigger() -> BinanceError:
    return BinanceError(-2010, "Stop price would trigger immediately.")


def filter_failure(filter_type: str) -> BinanceError:
    # ccxt turns bodies that mention LOT_SIZE or PRICE_FILTER into InvalidOrder before looking at codes.
    return BinanceError(-1013, f"Filter failure: {filter_type}")


def spot_max_orders(filter_type: str) -> BinanceError:
    # Account-state filters (MAX_NUM_ORDERS, MAX_NUM_ALGO_ORDERS, MAX_POSITION) answer -2010, not -1013.
    return BinanceError(-2010, f"Filter failure: {filter_type}")


def margin_insufficient() -> BinanceError:
    return BinanceError(-2019, "Margin is insufficient.")


def reduce_only_rejected() -> BinanceError:
    return BinanceError(-2022, "ReduceOnly Order is rejected.")


def would_immediately_trigger() -> BinanceError:
    return BinanceError(-2021, "Order would immediately trigger.")


def post_only_rejected() -> BinanceError:
    return BinanceError(
        -5022, "Due to the order could not be executed as maker, the Post Only order will be rejected."
    )


def use_algo_endpoint() -> BinanceError:
    # Since 2025-11 conditional order types are refused on POST /fapi/v1/order.
    return BinanceError(
        -4120, "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead."
    )


def price_not_on_tick() -> BinanceError:
    return BinanceError(-4014, "Price not increased by tick size.")


def price_not_positive() -> BinanceError:
    return BinanceError(-4001, "Price less than 0.")


def quantity_not_positive() -> BinanceError:
    return BinanceError(-4003, "Quantity less than or equal to zero.")


def quantity_above_max() -> BinanceError:
    return BinanceError(-4005, "Quantity greater than max quantity.")


def precision_over_max() -> BinanceError:
    return BinanceError(-1111, "Precision is over the maximum defined for this asset.")


def notional_too_small(min_notional: str) -> BinanceError:
    return BinanceError(
        -4164, f"Order's notional must be no smaller than {min_notional} (unless you choose reduce only)."
    )


def client_order_id_invalid() -> BinanceError:
    return BinanceError(-4015, "Client order id is not valid.")


def client_order_id_duplicated() -> BinanceError:
    return BinanceError(-4116, "ClientOrderId is duplicated.")


def client_algo_id_duplicated() -> BinanceError:
    return BinanceError(-20132, "The client algo id is duplicated.")


def position_side_mismatch() -> BinanceError:
    return BinanceError(-4061, "Order's position side does not match user's setting.")


def close_position_conflict() -> BinanceError:
    return BinanceError(
        -4136, "Target strategy invalid for orderType TRAILING_STOP_MARKET,closePosition true"
    )


# -- futures account settings ----------------------------------------------------------------------


def leverage_not_valid(leverage: str) -> BinanceError:
    return BinanceError(-4028, f"Leverage {leverage} is not valid")


def no_need_to_change_margin_type() -> BinanceError:
    # ccxt recognises this exact message and raises MarginModeAlreadySet (swallowed by set_margin_mode()).
    return BinanceError(-4046, "No need to change margin type.")


def margin_type_open_orders() -> BinanceError:
    return BinanceError(-4047, "Margin type cannot be changed if there exists open orders.")


def margin_type_position() -> BinanceError:
    return BinanceError(-4048, "Margin type cannot be changed if there exists position.")


# -- order count and price band filters (USD-M futures) ----------------------------------------------


def max_open_orders() -> BinanceError:
    # MAX_NUM_ORDERS: the open regular orders of one symbol.
    return BinanceError(-2025, "Reach max open order limit.")


def max_stop_orders() -> BinanceError:
    # MAX_NUM_ALGO_ORDERS: the open conditional (algo) orders of one symbol.
    return BinanceError(-4045, "Reach max stop order limit.")


def limit_price_above(bound: str) -> BinanceError:
    # PERCENT_PRICE: a BUY limit above markPrice * multiplierUp.
    return BinanceError(-4016, f"Limit price can't be higher than {bound}.")


def limit_price_below(bound: str) -> BinanceError:
    # PERCENT_PRICE: a SELL limit below markPrice * multiplierDown.
    return BinanceError(-4024, f"Limit price can't be lower than {bound}.")


def stop_limit_price_above(bound: str) -> BinanceError:
    # A STOP/TAKE_PROFIT limit price above triggerPrice * multiplierUp (BUY).
    return BinanceError(-4183, f"Limit price can't be higher than {bound}.")


def stop_limit_price_below(bound: str) -> BinanceError:
    # A STOP/TAKE_PROFIT limit price below triggerPrice * multiplierDown (SELL).
    return BinanceError(-4184, f"Limit price can't be lower than {bound}.")


# -- market data -----------------------------------------------------------------------------------


def invalid_interval() -> BinanceError:
    return BinanceError(-1120, "Invalid interval.")


def start_after_end() -> BinanceError:
    return BinanceError(-1023, "Start time is greater than end time.")


# -- request weight --------------------------------------------------------------------------------


def futures_too_many_requests(ip: str, limit: int) -> BinanceError:
    return BinanceError(
        -1003,
        f"Too many requests; current limit of IP({ip}) is {limit} requests per minute. "
        "Please use the websocket for live updates to avoid polling the API.",
        429,
    )


def spot_too_much_weight(limit: int) -> BinanceError:
    return BinanceError(
        -1003,
        f"Too much request weight used; current limit is {limit} request weight per 1 MINUTE. "
        "Please use WebSocket Streams for live updates to avoid polling the API.",
        429,
    )
