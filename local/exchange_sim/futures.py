"""USD-M futures regular orders: MARKET and LIMIT, fills, positions and reduce-only rules.

Liquidity is infinite: a marketable order fills completely at the current price (taker), a resting
LIMIT fills completely at its own price once the price crosses it (maker). Reduce-only orders never
open or flip a position: they are refused (-2022) with nothing to reduce at placement, clamped to
the position when they fill and expired once the position they were reducing is gone. Fees are
charged in USDT from the futures wallet.
"""

from __future__ import annotations

from decimal import Decimal

from local.exchange_sim import errors
from local.exchange_sim.margin import FuturesMargin
from local.exchange_sim.market import ZERO, MarketSpec, money
from local.exchange_sim.model import (
    FUTURES_CLIENT_ID,
    MAX_NUM_ORDERS,
    Account,
    FuturesOrderRequest,
    Order,
    Side,
    Trade,
    marketable,
    random_token,
    reducible,
)


class FuturesTrading(FuturesMargin):
    def place_futures_order(self, account: Account, request: FuturesOrderRequest) -> Order:
        with self.lock:
            spec, side = request.spec, request.side
            now = self.clock.now_ms()
            price_now = self.mark(spec)
            client_id = self._futures_client_id(account, request.client_order_id)
            if request.quantity is None:
                raise errors.mandatory_param("quantity")
            quantity = request.quantity
            if request.type == "MARKET":
                spec.check_quantity(quantity, market_order=True)
                reference = price_now
                tif = "GTC"
                price = ZERO
            else:
                if request.price is None:
                    raise errors.mandatory_param("price")
                if request.time_in_force is None:
                    raise errors.mandatory_param("timeInForce")
                spec.check_price(request.price)
                spec.check_quantity(quantity, market_order=False)
                spec.check_percent_price(side, request.price, price_now)
                reference = price = request.price
                tif = request.time_in_force
            if len(account.open_orders("futures", spec.symbol_id)) >= MAX_NUM_ORDERS:
                raise errors.max_open_orders()
            position = account.position(spec.symbol_id).amount
            if request.reduce_only:
                if not reducible(position, side):
                    raise errors.reduce_only_rejected()
            else:
                spec.check_notional(quantity * reference)
                self._check_margin(account, spec, side, quantity, reference)
            order = Order(
                order_id=0,
                client_order_id=client_id,
                kind="futures",
                symbol=spec.symbol_id,
                side=side,
                type=request.type,
                orig_type=request.type,
                time_in_force=tif,
                quantity=quantity,
                price=price,
                stop_price=ZERO,
                reduce_only=request.reduce_only,
                close_position=False,
                created_ms=now,
                updated_ms=now,
                stp_mode=request.stp_mode,
            )
            self._submit_futures(account, spec, order)
            return order

    def _futures_client_id(self, account: Account, client_id: str | None) -> str:
        if client_id is None:
            return random_token(22)
        if not FUTURES_CLIENT_ID.match(client_id):
            raise errors.client_order_id_invalid()
        if any(o.client_order_id == client_id for o in account.open_orders("futures")):
            raise errors.client_order_id_duplicated()
        return client_id

    def _submit_futures(self, account: Account, spec: MarketSpec, order: Order) -> None:
        """Store a validated futures order and let it fill now, rest, or expire by its time in force."""
        price_now = self.mark(spec)
        if order.type == "MARKET":
            self._store(account, order)
            self._fill_futures(account, spec, order, price_now, maker=False)
            return
        crosses = marketable(order.side, order.price, price_now)
        if order.time_in_force == "GTX" and crosses:
            raise errors.post_only_rejected()
        self._store(account, order)
        if crosses:
            self._fill_futures(account, spec, order, price_now, maker=False)
        elif order.time_in_force in ("IOC", "FOK"):
            order.status = "EXPIRED"

    def _check_margin(
        self, account: Account, spec: MarketSpec, side: Side, quantity: Decimal, price: Decimal
    ) -> None:
        """Refuse an order whose position-opening part needs more initial margin than is available."""
        position = account.position(spec.symbol_id).amount
        opening = max(ZERO, quantity - reducible(position, side))
        if not opening:
            return
        settings = account.settings_for(spec.symbol_id)
        resulting_size = (ZERO if reducible(position, side) else abs(position)) + opening
        if resulting_size * price > self.max_notional(spec, settings.leverage):
            raise errors.BinanceError(-2027, "Exceeded the maximum allowable position at current leverage.")
        required = opening * price / settings.leverage + quantity * price * spec.taker_fee
        if self.futures_summary(account).available < required:
            raise errors.margin_insufficient()

    def _fill_futures(
        self, account: Account, spec: MarketSpec, order: Order, price: Decimal, *, maker: bool
    ) -> None:
        position = account.position(spec.symbol_id)
        qty = order.quantity - order.executed_qty
        now = self.clock.now_ms()
        if order.reduce_only or order.close_position:
            qty = min(qty, reducible(position.amount, order.side))
            if not qty:
                self._cancel(account, order, "EXPIRED")
                return
        signed = qty if order.side == "BUY" else -qty
        realized = ZERO
        old = position.amount
        if old == 0 or (old > 0) == (signed > 0):
            new_amount = old + signed
            position.entry_price = (abs(old) * position.entry_price + qty * price) / abs(new_amount)
        else:
            closing = min(qty, abs(old))
            realized = (price - position.entry_price) * closing * (1 if old > 0 else -1)
            new_amount = old + signed
            if new_amount == 0:
                position.entry_price = ZERO
            elif (new_amount > 0) != (old > 0):
                position.entry_price = price  # flipped: the remainder opened at this price
        position.amount = new_amount
        position.updated_ms = now
        quote_qty = money(qty * price)
        fee = money(quote_qty * (spec.maker_fee if maker else spec.taker_fee))
        realized = money(realized)
        wallet = account.futures_wallet
        wallet[spec.quote] = wallet.get(spec.quote, ZERO) + realized - fee
        account.futures_updated_ms = now
        trade = Trade(
            trade_id=next(self._trade_ids),
            kind="futures",
            symbol=spec.symbol_id,
            order_id=order.order_id,
            side=order.side,
            price=price,
            qty=qty,
            quote_qty=quote_qty,
            commission=fee,
            commission_asset=spec.quote,
            realized_pnl=realized,
            maker=maker,
            time_ms=now,
        )
        order.executed_qty += qty
        order.cum_quote += quote_qty
        # A reduce-only order clamped to the position ends EXPIRED with what it did fill, like IOC leftovers.
        order.status = "FILLED" if order.executed_qty == order.quantity else "EXPIRED"
        order.updated_ms = now
        self._record_trade(account, order, trade)
        if order.algo_id is not None:
            algo = account.algo_orders.get(order.algo_id)
            if algo is not None:
                algo.status = "FINISHED"
                algo.updated_ms = now
        self._expire_stale_reduce_only(account, spec)

    def _expire_stale_reduce_only(self, account: Account, spec: MarketSpec) -> None:
        position = account.position(spec.symbol_id).amount
        for order in account.open_orders("futures", spec.symbol_id):
            if order.reduce_only and not reducible(position, order.side):
                self._cancel(account, order, "EXPIRED")

    def cancel_futures_order(self, account: Account, order: Order) -> Order:
        with self.lock:
            if not order.is_open:
                raise errors.unknown_order()
            self._cancel(account, order)
            return order

    def cancel_all_futures(self, account: Account, spec: MarketSpec) -> list[Order]:
        with self.lock:
            orders = account.open_orders("futures", spec.symbol_id)
            for order in orders:
                self._cancel(account, order)
            return orders

    def _fill_crossed_limits(self, account: Account, spec: MarketSpec) -> None:
        price = self.mark(spec)
        for order in sorted(account.open_orders("futures", spec.symbol_id), key=lambda o: o.order_id):
            if order.is_open and order.type == "LIMIT" and marketable(order.side, order.price, price):
                self._fill_futures(account, spec, order, order.price, maker=True)
