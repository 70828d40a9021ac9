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
"""

from __future__ import annotations

from contextlib import suppress
from decimal import Decimal
from typing import Any

from adapters.exchange.binance import BinanceAccount, market_symbol
from adapters.exchange.ccxt_loader import ccxt_errors
from adapters.exchange.errors import exchange_errors, translate
from core.models.exchange import TradeType
from core.models.trading import MarketRules, OrderKind, OrderSpec


def _timestamp(order: dict[str, Any]) -> int:
    return int(order.get("timestamp") or 0)


def _step(value: Any) -> Decimal:
    return Decimal(str(value)) if value else Decimal("0")


class BinanceTradingAccount(BinanceAccount):
    @property
    def futures(self) -> bool:
        return self.trade_type is TradeType.FUTURES

    def _symbol(self, symbol: str) -> str:
        return market_symbol(symbol, self.trade_type)

    def rules(self, symbol: str) -> MarketRules:
        with exchange_errors():
            market = self.client.market(self._symbol(symbol))
        limits = market.get("limits") or {}
        min_cost = (limits.get("cost") or {}).get("min")
        return MarketRules(
            amount_step=_step(market["precision"]["amount"]),
            price_step=_step(market["precision"]["price"]),
            min_amount=_step((limits.get("amount") or {}).get("min")),
            min_cost=_step(min_cost) if min_cost else None,
        )

    def last_price(self, symbol: str) -> float:
        with exchange_errors():
            return float(self.client.fetch_ticker(self._symbol(symbol))["last"])

    def open_orders(self, symbol: str) -> list[dict[str, Any]]:
        market = self._symbol(symbol)
        with exchange_errors():
            orders = list(self.client.fetch_open_orders(market))
            if self.futures:
                orders += self.client.fetch_open_orders(market, None, None, {"trigger": True})
        return sorted(orders, key=_timestamp)

    def order_history(self, symbol: str) -> list[dict[str, Any]]:
        market = self._symbol(symbol)
        with exchange_errors():
            orders = list(self.client.fetch_orders(market))
            if self.futures:
                # A triggered conditional order lives on as the regular order it became; the others
                # (open, canceled, rejected) only exist in the conditional list.
                conditional = self.client.fetch_orders(market, None, None, {"trigger": True})
                orders += [order for order in conditional if order.get("status") != "closed"]
        return sorted(orders, key=_timestamp, reverse=True)

    def trades(self, symbol: str) -> list[dict[str, Any]]:
        with exchange_errors():
            trades = self.client.fetch_my_trades(self._symbol(symbol))
        return sorted(trades, key=_timestamp, reverse=True)

    def position(self, symbol: str) -> dict[str, Any] | None:
        with exchange_errors():
            positions = self.client.fetch_positions([self._symbol(symbol)], {"useV2": True})
        open_positions = [position for position in positions if float(position.get("contracts") or 0)]
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

    def close_position(self, symbol: str, client_order_id: str) -> dict[str, Any] | None:
        position = self.position(symbol)
        if position is None:
            return None
        side = "sell" if position.get("side") == "long" else "buy"
        with exchange_errors():
            return self.client.create_order(
                self._symbol(symbol),
                "market",
                side,
                abs(float(position["contracts"])),
                None,
                {"reduceOnly": True, "clientOrderId": client_order_id},
            )

    def find_order(self, symbol: str, client_order_id: str, conditional: bool) -> dict[str, Any] | None:
        errors = ccxt_errors()
        params: dict[str, Any] = {"clientOrderId": client_order_id}
        if conditional:
            params["trigger"] = True
        try:
            return self.client.fetch_order(None, self._symbol(symbol), params)
        except errors.OrderNotFound:
            return None
        except errors.BaseError as error:
            raise translate(error) from None

    def place(self, symbol: str, order: OrderSpec) -> dict[str, Any]:
        errors = ccxt_errors()
        kind, params, price = self._order_parameters(order)
        try:
            return self.client.create_order(
                self._symbol(symbol), kind, order.side.value.lower(), order.amount, price, params
            )
        except (errors.OperationFailed, errors.InvalidOrder) as error:
            # A timeout or 5xx may hide an accepted order, and a retried request may meet its own
            # earlier order (duplicate client id): look before anything is sent again.
            found = self.find_order(symbol, order.client_order_id, order.kind.conditional)
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
