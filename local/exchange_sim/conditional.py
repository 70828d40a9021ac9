"""USD-M conditional orders, held by Binance's *algo* service since 2025-11.

``POST /fapi/v1/algoOrder`` returns an ``algoId`` (a sequence of its own, apart from order ids). When
the trigger condition is met the algo order becomes a regular MARKET or LIMIT order
(``actualOrderId``) which then fills as such. Conditional reduce-only orders are accepted before the
position exists (a stop or take-profit placed with a resting entry) and checked when they trigger,
where nothing to reduce rejects them.
"""

from __future__ import annotations

from decimal import Decimal

from local.exchange_sim import errors
from local.exchange_sim.futures import FuturesTrading
from local.exchange_sim.market import ONE, ZERO, MarketSpec
from local.exchange_sim.model import (
    CALLBACK_RATE_RANGE,
    FUTURES_CLIENT_ID,
    FUTURES_CONDITIONAL_TYPES,
    FUTURES_MARKET_LIKE,
    MAX_NUM_ALGO_ORDERS,
    TIME_IN_FORCE,
    Account,
    AlgoOrder,
    AlgoOrderRequest,
    Order,
    conditional_hit,
    random_token,
    reducible,
    trailing_activated,
)


class ConditionalOrders(FuturesTrading):
    def place_algo_order(self, account: Account, request: AlgoOrderRequest) -> AlgoOrder:
        with self.lock:
            spec, side, order_type = request.spec, request.side, request.type
            now = self.clock.now_ms()
            price_now = self.mark(spec)
            if order_type not in FUTURES_CONDITIONAL_TYPES:
                raise errors.invalid_order_type()
            client_id = self._client_algo_id(account, request.client_algo_id)
            trailing = order_type == "TRAILING_STOP_MARKET"
            if request.close_position:
                if trailing:
                    raise errors.close_position_conflict()
                if order_type not in FUTURES_MARKET_LIKE:
                    raise errors.invalid_param_value("closePosition")
                if request.quantity is not None:
                    raise errors.BinanceError(-4137, "Quantity must be zero with closePosition equals true")
                if request.reduce_only:
                    raise errors.BinanceError(-1106, "Parameter 'reduceOnly' sent when not required.")
            elif request.quantity is None:
                raise errors.mandatory_param("quantity")
            else:
                spec.check_quantity(request.quantity, market_order=order_type in FUTURES_MARKET_LIKE)
            price = ZERO
            if order_type in ("STOP", "TAKE_PROFIT"):
                if request.price is None:
                    raise errors.mandatory_param("price")
                spec.check_price(request.price)
                price = request.price
            trigger = ZERO
            if not trailing:
                if request.trigger_price is None:
                    raise errors.mandatory_param("triggerPrice")
                spec.check_price(request.trigger_price, "triggerPrice")
                trigger = request.trigger_price
                if conditional_hit(order_type, side, trigger, price_now):
                    raise errors.would_immediately_trigger()
                if price:
                    # The limit of a STOP / TAKE_PROFIT is banded around its trigger (-4183 / -4184).
                    spec.check_percent_price(side, price, trigger, stop=True)
            else:
                rate = request.callback_rate
                if rate is None:
                    raise errors.mandatory_param("callbackRate")
                if not CALLBACK_RATE_RANGE[0] <= rate <= CALLBACK_RATE_RANGE[1]:
                    raise errors.invalid_param_value("callbackRate")
                if request.activate_price is not None:
                    spec.check_price(request.activate_price, "activatePrice")
            tif = request.time_in_force or "GTC"
            if tif not in TIME_IN_FORCE:
                raise errors.invalid_time_in_force()
            if len(account.open_algos(spec.symbol_id)) >= MAX_NUM_ALGO_ORDERS:
                raise errors.max_stop_orders()
            # Conditional reduce-only orders are checked when they trigger, not here (see the docstring).
            if not request.reduce_only and not request.close_position and request.quantity is not None:
                spec.check_notional(request.quantity * (price or trigger or price_now))
            algo = AlgoOrder(
                algo_id=next(self._algo_ids),
                client_algo_id=client_id,
                symbol=spec.symbol_id,
                side=side,
                order_type=order_type,
                quantity=request.quantity,
                price=price,
                trigger_price=trigger,
                time_in_force=tif,
                working_type=request.working_type,
                reduce_only=request.reduce_only,
                close_position=request.close_position,
                price_protect=request.price_protect,
                callback_rate=request.callback_rate if trailing else None,
                activate_price=request.activate_price if trailing else None,
                created_ms=now,
                updated_ms=now,
                stp_mode=request.stp_mode,
            )
            if trailing:
                activation = algo.activate_price
                if activation is None or trailing_activated(side, activation, price_now):
                    algo.trailing_active = True
                    algo.trailing_extreme = price_now
            account.algo_orders[algo.algo_id] = algo
            return algo

    def _client_algo_id(self, account: Account, client_id: str | None) -> str:
        if client_id is None:
            return random_token(22)
        if not FUTURES_CLIENT_ID.match(client_id):
            raise errors.client_order_id_invalid()
        if any(a.client_algo_id == client_id for a in account.open_algos()):
            raise errors.client_algo_id_duplicated()
        return client_id

    def cancel_algo(self, account: Account, algo: AlgoOrder) -> AlgoOrder:
        with self.lock:
            if not algo.is_open:
                raise errors.unknown_order()
            algo.status = "CANCELED"
            algo.updated_ms = self.clock.now_ms()
            return algo

    def cancel_all_algos(self, account: Account, spec: MarketSpec) -> list[AlgoOrder]:
        with self.lock:
            algos = account.open_algos(spec.symbol_id)
            for algo in algos:
                self.cancel_algo(account, algo)
            return algos

    def _fire_triggers(self, account: Account, spec: MarketSpec) -> None:
        price = self.mark(spec)
        algos = sorted(account.open_algos(spec.symbol_id), key=lambda a: a.algo_id)
        for algo in algos:
            if (
                algo.order_type != "TRAILING_STOP_MARKET"
                and algo.is_open
                and conditional_hit(algo.order_type, algo.side, algo.trigger_price, price)
            ):
                self._trigger_algo(account, spec, algo)
        for algo in algos:
            if algo.order_type == "TRAILING_STOP_MARKET" and algo.is_open and self._trail(algo, price):
                self._trigger_algo(account, spec, algo)

    @staticmethod
    def _trail(algo: AlgoOrder, price: Decimal) -> bool:
        """Track the best price since activation; True once the price retraces ``callbackRate`` %."""
        if not algo.trailing_active:
            if algo.activate_price is not None and trailing_activated(algo.side, algo.activate_price, price):
                algo.trailing_active = True
                algo.trailing_extreme = price
            return False
        assert algo.trailing_extreme is not None
        assert algo.callback_rate is not None
        rate = algo.callback_rate / 100
        if algo.side == "SELL":
            algo.trailing_extreme = max(algo.trailing_extreme, price)
            return price <= algo.trailing_extreme * (ONE - rate)
        algo.trailing_extreme = min(algo.trailing_extreme, price)
        return price >= algo.trailing_extreme * (ONE + rate)

    def _trigger_algo(self, account: Account, spec: MarketSpec, algo: AlgoOrder) -> None:
        """Turn a fired conditional order into a regular one (``actualOrderId``) that fills as such."""
        now = self.clock.now_ms()
        algo.trigger_ms = algo.updated_ms = now
        position = account.position(spec.symbol_id).amount
        can_reduce = reducible(position, algo.side)
        if algo.close_position:
            quantity = can_reduce
        elif algo.reduce_only:
            assert algo.quantity is not None
            quantity = min(algo.quantity, can_reduce)
        else:
            assert algo.quantity is not None
            quantity = algo.quantity
        if not quantity:
            algo.status = "REJECTED"  # the matching engine refuses a reduce-only order with nothing to reduce
            return
        is_market = algo.order_type in FUTURES_MARKET_LIKE
        order = Order(
            order_id=0,
            client_order_id=algo.client_algo_id,
            kind="futures",
            symbol=spec.symbol_id,
            side=algo.side,
            type="MARKET" if is_market else "LIMIT",
            orig_type=algo.order_type,
            time_in_force="GTC" if is_market else algo.time_in_force,
            quantity=quantity,
            price=ZERO if is_market else algo.price,
            stop_price=algo.trigger_price,
            reduce_only=algo.reduce_only,
            close_position=algo.close_position,
            created_ms=now,
            updated_ms=now,
            algo_id=algo.algo_id,
            stp_mode=algo.stp_mode,
        )
        try:
            if not (algo.reduce_only or algo.close_position):
                reference = self.mark(spec) if is_market else algo.price
                self._check_margin(account, spec, algo.side, quantity, reference)
            algo.status = "TRIGGERED"
            self._submit_futures(account, spec, order)
        except errors.BinanceError:
            algo.status = "REJECTED"
            return
        algo.actual_order_id = order.order_id
        if not order.is_open:
            algo.status = "FINISHED"
