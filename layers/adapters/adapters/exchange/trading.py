"""Trading through ccxt: the one place that knows which ccxt parameters make each kind of order.

| OrderKind       | ccxt call (USD-M)                                                           |
|-----------------|-----------------------------------------------------------------------------|
| market          | create_order(s, "market", side, amount)                                     |
| limit           | create_order(s, "limit", side, amount, price)                               |
| trailing_stop   | create_order(s, "market", side, amount, None, {trailingPercent, trailingTriggerPrice}) |
| take_profit     | create_order(s, "limit", side, amount, price, {takeProfitPrice})            |
| stop_market     | create_order(s, "market", side, amount, None, {stopLossPrice})              |
| stop_limit      | create_order(s, "limit", side, amount, price, {stopLossPrice})              |

Conditional kinds live in Binance's separate algo-order service: listing, looking up and cancelling
them needs ``{"trigger": True}``. An order whose outcome is unknown (timeout, 5xx) is looked up by its
client order id before anything is sent again.

``account_snapshot`` is one account read (USD-M ``GET /fapi/v3/account``, weight 5): Binance lists there
only the symbols that hold a position or open (regular) orders; conditional orders are not among them
(see ``core.services.order_engine`` for what the clear step makes of that).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import suppress
from decimal import Decimal
from typing import Any

from adapters.exchange.binance import BinanceAccount, market_symbol
from adapters.exchange.ccxt_loader import ccxt_errors
from adapters.exchange.errors import exchange_errors, translate
from adapters.exchange.shapes import api_symbol, to_fill, to_order, to_position
from core.models.exchange import TradeType
from core.models.trading import (
    AccountSnapshot,
    ExchangeFill,
    ExchangeOrder,
    ExchangePosition,
    MarketRules,
    OrderKind,
    OrderRef,
    OrderSpec,
)


def _timestamp(order: ExchangeOrder | ExchangeFill) -> int:
    return int(order.timestamp or 0)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    number = Decimal(str(value))
    return number if number.is_finite() and number > 0 else None


def _filters(market: dict[str, Any]) -> dict[str, dict[str, Any]]:
    raw = (market.get("info") or {}).get("filters") or []
    return {str(entry.get("filterType")): entry for entry in raw if isinstance(entry, dict)}


def market_rules(market: dict[str, Any]) -> MarketRules:
    """A ccxt market's limits and Binance's raw symbol filters, as the planner checks them."""
    limits = market.get("limits") or {}
    filters = _filters(market)
    percent = filters.get("PERCENT_PRICE") or {}
    algo = filters.get("MAX_NUM_ALGO_ORDERS") or {}
    plain = filters.get("MAX_NUM_ORDERS") or {}
    market_lot = filters.get("MARKET_LOT_SIZE") or {}
    algo_limit = algo.get("limit", algo.get("maxNumAlgoOrders"))
    plain_limit = plain.get("limit", plain.get("maxNumOrders"))
    return MarketRules(
        amount_step=_decimal(market["precision"]["amount"]) or Decimal("0"),
        price_step=_decimal(market["precision"]["price"]) or Decimal("0"),
        min_amount=_decimal((limits.get("amount") or {}).get("min")) or Decimal("0"),
        max_amount=_decimal((limits.get("amount") or {}).get("max")),
        max_market_amount=_decimal(market_lot.get("maxQty"))
        or _decimal((limits.get("market") or {}).get("max")),
        min_cost=_decimal((limits.get("cost") or {}).get("min")),
        min_price=_decimal((limits.get("price") or {}).get("min")),
        max_price=_decimal((limits.get("price") or {}).get("max")),
        band_up=_decimal(percent.get("multiplierUp")),
        band_down=_decimal(percent.get("multiplierDown")),
        max_conditional_orders=int(algo_limit) if algo_limit is not None else None,
        max_open_orders=int(plain_limit) if plain_limit is not None else None,
    )


class BinanceTradingAccount(BinanceAccount):
    @property
    def futures(self) -> bool:
        return self.trade_type is TradeType.FUTURES

    def _symbol(self, symbol: str) -> str:
        return market_symbol(symbol, self.trade_type)

    def rules(self, symbol: str) -> MarketRules:
        with exchange_errors():
            return market_rules(self.client.market(self._symbol(symbol)))

    def account_snapshot(self) -> AccountSnapshot:
        """USD-M: one ``GET /fapi/v3/account`` (weight 5). SPOT: one ``GET /api/v3/account`` (weight 20);
        spot has no positions, so its busy symbols are the USDT pairs of the assets it holds or has locked."""
        with exchange_errors():
            if self.futures:
                raw = self.client.fapiPrivateV3GetAccount()
                busy = frozenset(
                    api_symbol(self.client.safe_symbol(entry.get("symbol"), None, None, "swap"))
                    for entry in raw.get("positions") or []
                    if entry.get("symbol")
                )
                wallet = next(
                    (a.get("walletBalance") for a in raw.get("assets") or [] if a.get("asset") == "USDT"),
                    raw.get("totalWalletBalance"),
                )
                return AccountSnapshot(float(wallet or 0), busy, int(time.time() * 1000))
            raw = self.client.privateGetAccount({"omitZeroBalances": "true"})
        balances = {
            b.get("asset"): float(b.get("free") or 0) + float(b.get("locked") or 0)
            for b in raw.get("balances") or []
        }
        held = frozenset(f"{asset}/USDT" for asset, amount in balances.items() if amount and asset != "USDT")
        return AccountSnapshot(balances.get("USDT", 0.0), held, int(time.time() * 1000))

    def mark_price(self, symbol: str) -> float:
        """One price read (USD-M premiumIndex, weight 1). Sharing it between followers is the fan-out's
        (``core.services.fan_out.SharedPrices``); a manual order always reads the price of its moment."""
        with exchange_errors():
            if self.futures:
                ticker = self.client.fetch_mark_price(self._symbol(symbol))
                return float(ticker.get("markPrice") or ticker["last"])
            return float(self.client.fetch_ticker(self._symbol(symbol))["last"])

    def open_orders(self, symbol: str) -> list[ExchangeOrder]:
        market = self._symbol(symbol)
        with exchange_errors():
            orders = [to_order(order) for order in self.client.fetch_open_orders(market)]
            if self.futures:
                conditional = self.client.fetch_open_orders(market, None, None, {"trigger": True})
                orders += [to_order(order, conditional=True) for order in conditional]
        return sorted(orders, key=_timestamp)

    def order_history(self, symbol: str) -> list[ExchangeOrder]:
        market = self._symbol(symbol)
        with exchange_errors():
            orders = [to_order(order) for order in self.client.fetch_orders(market)]
            if self.futures:
                # A triggered conditional order lives on as the regular order it became; the others
                # (open, canceled, rejected) only exist in the conditional list.
                conditional = self.client.fetch_orders(market, None, None, {"trigger": True})
                orders += [
                    to_order(order, conditional=True)
                    for order in conditional
                    if order.get("status") != "closed"
                ]
        return sorted(orders, key=_timestamp, reverse=True)

    def fills(self, symbol: str, since_ms: int | None = None) -> list[ExchangeFill]:
        with exchange_errors():
            fills = [to_fill(fill) for fill in self.client.fetch_my_trades(self._symbol(symbol), since_ms)]
        return sorted(fills, key=_timestamp, reverse=True)

    def position(self, symbol: str) -> ExchangePosition | None:
        with exchange_errors():
            positions = self.client.fetch_positions([self._symbol(symbol)], {"useV2": True})
        open_positions = [
            to_position(position) for position in positions if float(position.get("contracts") or 0)
        ]
        return open_positions[0] if open_positions else None

    def set_leverage(self, symbol: str, leverage: int) -> None:
        with exchange_errors():
            self.client.set_leverage(leverage, self._symbol(symbol))

    def set_margin_mode(self, symbol: str, mode: str) -> None:
        errors = ccxt_errors()
        try:
            self.client.set_margin_mode(mode, self._symbol(symbol))
        except errors.MarginModeAlreadySet:
            return  # already in that mode: nothing to change
        except errors.BaseError as error:
            raise translate(error) from None

    def cancel_all_orders(self, symbol: str) -> None:
        market = self._symbol(symbol)
        with exchange_errors():
            with suppress(ccxt_errors().OrderNotFound):  # nothing was open
                self.client.cancel_all_orders(market)
            if self.futures:
                self.client.cancel_all_orders(market, {"trigger": True})

    def flatten(
        self, symbol: str, client_order_id: str, entries: Sequence[OrderRef] | None = None
    ) -> ExchangeOrder | None:
        """Leaves the symbol flat with nothing open, in the order that keeps a position covered until it is
        gone: first the orders that could add to it (resting entries, a trailing entry), one by one, then the
        position (reduce-only market), and only then its exits, stop and take-profits of both books. A close
        that fails leaves every exit on the book.

        ``entries``: the orders that could add to the position, when the caller knows them all (the order
        engine, from its records); None looks them up (both books listed, every open order that does not
        only reduce).

        USD-M: a DELETE per entry (two GETs before them unless named), the position and its closing order,
        DELETE allOpenOrders and DELETE algoOpenOrders."""
        with exchange_errors():
            if entries is None:
                entries = [
                    OrderRef(order.client_order_id, order.conditional)
                    for order in self.open_orders(symbol)
                    if not order.reduce_only and order.client_order_id
                ]
            for entry in entries:
                self.cancel_order(symbol, entry.client_order_id, entry.conditional)
        closed = self.close_position(symbol, client_order_id)
        self.cancel_all_orders(symbol)
        return closed

    def cancel_order(self, symbol: str, client_order_id: str, conditional: bool) -> None:
        params: dict[str, Any] = {"clientOrderId": client_order_id}
        if conditional:
            params["trigger"] = True
        with exchange_errors(), suppress(ccxt_errors().OrderNotFound):  # already filled, cancelled or gone
            self.client.cancel_order(None, self._symbol(symbol), params)

    def close_position(self, symbol: str, client_order_id: str) -> ExchangeOrder | None:
        position = self.position(symbol)
        if position is None:
            return None
        side = "sell" if position.side == "long" else "buy"
        with exchange_errors():
            return to_order(
                self.client.create_order(
                    self._symbol(symbol),
                    "market",
                    side,
                    position.contracts,
                    None,
                    {"reduceOnly": True, "clientOrderId": client_order_id},
                )
            )

    def find_order(self, symbol: str, client_order_id: str, conditional: bool) -> ExchangeOrder | None:
        errors = ccxt_errors()
        params: dict[str, Any] = {"clientOrderId": client_order_id}
        if conditional:
            params["trigger"] = True
        try:
            return to_order(
                self.client.fetch_order(None, self._symbol(symbol), params), conditional=conditional
            )
        except errors.OrderNotFound:
            return None
        except errors.BaseError as error:
            raise translate(error) from None

    def place(self, symbol: str, order: OrderSpec) -> ExchangeOrder:
        errors = ccxt_errors()
        kind, params, price = self._order_parameters(order)
        conditional = order.kind.conditional
        try:
            placed = self.client.create_order(
                self._symbol(symbol), kind, order.side.value.lower(), order.amount, price, params
            )
            return to_order(placed, conditional=conditional)
        except (errors.OperationFailed, errors.InvalidOrder) as error:
            # A timeout or 5xx may hide an accepted order, and a retried request may meet its own
            # earlier order (duplicate client id): look before anything is sent again.
            found = self.find_order(symbol, order.client_order_id, conditional)
            if found is not None:
                return found
            raise translate(error) from None
        except errors.BaseError as error:
            raise translate(error) from None

    @staticmethod
    def _order_parameters(order: OrderSpec) -> tuple[str, dict[str, Any], float | None]:
        params: dict[str, Any] = {"clientOrderId": order.client_order_id}
        if order.reduce_only:
            params["reduceOnly"] = True
        match order.kind:
            case OrderKind.MARKET:
                return "market", params, None
            case OrderKind.LIMIT:
                return "limit", params, order.price
            case OrderKind.TRAILING_STOP:
                params.update(trailingPercent=order.callback_rate, trailingTriggerPrice=order.price)
                return "market", params, None
            case OrderKind.TAKE_PROFIT:
                params["takeProfitPrice"] = order.trigger_price
                return "limit", params, order.price
            case OrderKind.STOP_MARKET:
                params["stopLossPrice"] = order.trigger_price
                return "market", params, None
            case OrderKind.STOP_LIMIT:
                params["stopLossPrice"] = order.trigger_price
                return "limit", params, order.price
        raise ValueError(f"unknown order kind {order.kind}")
