"""Spot trading: orders that lock and move the spot wallet, resting limits and untriggered stops.

Fees are charged in the asset received (base for buys, quote for sells), as Binance does for
accounts without BNB. Stop orders wait on the regular book, not working (``isWorking`` false),
until the price crosses their ``stopPrice``.
"""

from __future__ import annotations

import re
from decimal import Decimal

from local.exchange_sim import errors
from local.exchange_sim.market import ZERO, MarketSpec, floor_to_step, money
from local.exchange_sim.model import (
    SPOT_LIMIT_TYPES,
    SPOT_MAX_NUM_ALGO_ORDERS,
    SPOT_MAX_NUM_ORDERS,
    SPOT_STOP_TYPES,
    Account,
    Order,
    Side,
    SpotOrderRequest,
    Trade,
    conditional_hit,
    marketable,
    random_token,
)
from local.exchange_sim.state import EngineState

_SPOT_CLIENT_ID = re.compile(r"^[a-zA-Z0-9_-]{1,36}$")


class SpotTrading(EngineState):
    def place_spot_order(self, account: Account, request: SpotOrderRequest) -> Order:
        with self.lock:
            spec, side, order_type = request.spec, request.side, request.type
            now = self.clock.now_ms()
            price_now = self.mark(spec)
            client_id = self._spot_client_id(account, spec, request.client_order_id)
            quantity = request.quantity
            price = request.price or ZERO
            stop = request.stop_price or ZERO
            tif = request.time_in_force
            if order_type == "MARKET":
                if quantity is None:
                    if request.quote_order_qty is None:
                        raise errors.either_param("quantity", "quoteOrderQty")
                    quantity = floor_to_step(request.quote_order_qty / price_now, spec.step_size)
                spec.check_quantity(quantity, market_order=True)
                spec.check_notional(quantity * price_now)
                tif = "GTC"
            else:
                if quantity is None:
                    raise errors.mandatory_param("quantity")
                spec.check_quantity(quantity, market_order=order_type in ("STOP_LOSS", "TAKE_PROFIT"))
                if order_type in SPOT_LIMIT_TYPES:
                    if request.price is None:
                        raise errors.mandatory_param("price")
                    spec.check_price(price)
                if order_type in SPOT_STOP_TYPES:
                    if request.stop_price is None:
                        raise errors.mandatory_param("stopPrice")
                    spec.check_price(stop, "stopPrice")
                spec.check_notional(quantity * (price if price else stop))
                if order_type in ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"):
                    if tif is None:
                        raise errors.mandatory_param("timeInForce")
                    if tif not in ("GTC", "IOC", "FOK"):
                        raise errors.invalid_time_in_force()
                else:
                    tif = "GTC"
            self._check_open_count(account, spec, order_type)
            order = Order(
                order_id=0,
                client_order_id=client_id,
                kind="spot",
                symbol=spec.symbol_id,
                side=side,
                type=order_type,
                orig_type=order_type,
                time_in_force=tif or "GTC",
                quantity=quantity,
                price=price,
                stop_price=stop,
                reduce_only=False,
                close_position=False,
                created_ms=now,
                updated_ms=now,
                working_ms=now,
                quote_order_qty=request.quote_order_qty or ZERO,
                stp_mode=request.stp_mode,
            )
            if order_type in SPOT_STOP_TYPES:
                if conditional_hit(order_type, side, stop, price_now):
                    raise errors.spot_stop_would_trigger()
                order.working = False
                order.working_ms = -1
                if side == "SELL":
                    self._lock_spot(account, order, spec.base, quantity)
                elif order_type.endswith("_LIMIT"):
                    self._lock_spot(account, order, spec.quote, money(quantity * price))
                return self._store(account, order)
            if order_type == "MARKET":
                self._check_spot_funds(account, spec, side, quantity, price_now)
                self._store(account, order)
                self._fill_spot(account, spec, order, price_now, maker=False)
                return order
            crosses = marketable(side, price, price_now)
            if order_type == "LIMIT_MAKER" and crosses:
                raise errors.spot_would_take()
            if crosses:
                self._check_spot_funds(account, spec, side, quantity, price_now)
                self._store(account, order)
                self._fill_spot(account, spec, order, price_now, maker=False)
                return order
            if tif in ("IOC", "FOK"):
                order.status = "EXPIRED"
                return self._store(account, order)
            if side == "BUY":
                self._lock_spot(account, order, spec.quote, money(quantity * price))
            else:
                self._lock_spot(account, order, spec.base, quantity)
            return self._store(account, order)

    @staticmethod
    def _check_open_count(account: Account, spec: MarketSpec, order_type: str) -> None:
        """MAX_NUM_ORDERS counts every open order of the symbol, MAX_NUM_ALGO_ORDERS its waiting stops."""
        open_orders = account.open_orders("spot", spec.symbol_id)
        if len(open_orders) >= SPOT_MAX_NUM_ORDERS:
            raise errors.spot_max_orders("MAX_NUM_ORDERS")
        waiting_stops = [o for o in open_orders if o.type in SPOT_STOP_TYPES and not o.working]
        if order_type in SPOT_STOP_TYPES and len(waiting_stops) >= SPOT_MAX_NUM_ALGO_ORDERS:
            raise errors.spot_max_orders("MAX_NUM_ALGO_ORDERS")

    def _spot_client_id(self, account: Account, spec: MarketSpec, client_id: str | None) -> str:
        if client_id is None:
            return random_token(22)
        if not _SPOT_CLIENT_ID.match(client_id):
            raise errors.illegal_chars("newClientOrderId")
        if any(o.client_order_id == client_id for o in account.open_orders("spot", spec.symbol_id)):
            raise errors.spot_duplicate_order()
        return client_id

    def _check_spot_funds(
        self, account: Account, spec: MarketSpec, side: Side, quantity: Decimal, price: Decimal
    ) -> None:
        if side == "BUY":
            enough = account.balance(spec.quote).free >= money(quantity * price)
        else:
            enough = account.balance(spec.base).free >= quantity
        if not enough:
            raise errors.spot_insufficient_balance()

    def _lock_spot(self, account: Account, order: Order, asset: str, amount: Decimal) -> None:
        balance = account.balance(asset)
        if balance.free < amount:
            raise errors.spot_insufficient_balance()
        balance.free -= amount
        balance.locked += amount
        order.locked_asset = asset
        order.locked_amount = amount

    def _debit_spot(self, account: Account, order: Order, asset: str, amount: Decimal) -> None:
        """Pay ``amount`` of ``asset``: from the order's own lock first, then from the free balance."""
        balance = account.balance(asset)
        from_lock = ZERO
        if order.locked_asset == asset:
            from_lock = min(amount, order.locked_amount)
            order.locked_amount -= from_lock
            balance.locked -= from_lock
        balance.free -= amount - from_lock

    def _fill_spot(
        self, account: Account, spec: MarketSpec, order: Order, price: Decimal, *, maker: bool
    ) -> None:
        qty = order.quantity - order.executed_qty
        cost = money(qty * price)
        rate = spec.maker_fee if maker else spec.taker_fee
        if order.side == "BUY":
            self._debit_spot(account, order, spec.quote, cost)
            fee, fee_asset = money(qty * rate), spec.base
            account.balance(spec.base).free += qty - fee
        else:
            self._debit_spot(account, order, spec.base, qty)
            fee, fee_asset = money(cost * rate), spec.quote
            account.balance(spec.quote).free += cost - fee
        self._release_lock(account, order)
        now = self.clock.now_ms()
        trade = Trade(
            trade_id=next(self._trade_ids),
            kind="spot",
            symbol=spec.symbol_id,
            order_id=order.order_id,
            side=order.side,
            price=price,
            qty=qty,
            quote_qty=cost,
            commission=fee,
            commission_asset=fee_asset,
            realized_pnl=ZERO,
            maker=maker,
            time_ms=now,
        )
        order.executed_qty += qty
        order.cum_quote += cost
        order.status = "FILLED"
        order.updated_ms = now
        self._record_trade(account, order, trade)

    def _spot_on_price(self, account: Account, spec: MarketSpec) -> None:
        price = self.mark(spec)
        orders = sorted(account.open_orders("spot", spec.symbol_id), key=lambda o: o.order_id)
        for order in orders:
            if (
                order.working
                and order.type in SPOT_LIMIT_TYPES
                and marketable(order.side, order.price, price)
            ):
                self._fill_spot(account, spec, order, order.price, maker=True)
        for order in orders:
            if (
                not order.is_open
                or order.working
                or not conditional_hit(order.type, order.side, order.stop_price, price)
            ):
                continue
            order.working = True
            order.working_ms = order.updated_ms = self.clock.now_ms()
            if order.type in ("STOP_LOSS", "TAKE_PROFIT"):
                # A market buy locks nothing while it waits: without the funds now, it expires.
                if order.side == "BUY" and account.balance(spec.quote).free < money(order.quantity * price):
                    self._cancel(account, order, "EXPIRED")
                    continue
                self._fill_spot(account, spec, order, price, maker=False)
            elif marketable(order.side, order.price, price):
                self._fill_spot(account, spec, order, price, maker=False)

    def cancel_spot_order(self, account: Account, order: Order) -> Order:
        with self.lock:
            if not order.is_open:
                raise errors.unknown_order()
            self._cancel(account, order)
            return order

    def cancel_all_spot(self, account: Account, spec: MarketSpec) -> list[Order]:
        with self.lock:
            orders = account.open_orders("spot", spec.symbol_id)
            if not orders:
                # Binance answers -2011 rather than an empty list when nothing is open.
                raise errors.unknown_order()
            for order in orders:
                self._cancel(account, order)
            return orders
