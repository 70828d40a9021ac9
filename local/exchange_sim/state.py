"""The engine's shared state: accounts, prices and their history, id sequences and bookkeeping.

``EngineState`` holds everything; the trading parts (``spot``, ``futures``, ``conditional``) are
mixins over it, composed into ``engine.Engine``. Every public method takes ``lock`` (re-entrant).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping
from decimal import Decimal

from local.exchange_sim import errors
from local.exchange_sim.candles import PairHistory
from local.exchange_sim.market import (
    ZERO,
    MarketKind,
    MarketRegistry,
    MarketSpec,
    PriceBook,
    money,
    to_decimal,
)
from local.exchange_sim.model import (
    FIRST_ALGO_ID,
    Account,
    AlgoOrder,
    Balance,
    Clock,
    MarketVolume,
    Order,
    Permissions,
    Trade,
    random_token,
)


class EngineState:
    """All simulator state. Thread-safe through ``lock``."""

    def __init__(self, markets: MarketRegistry, prices: Mapping[str, Decimal], clock: Clock) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.markets = markets
        missing = markets.pairs() - set(prices)
        if missing:
            raise ValueError(f"no initial price for {sorted(missing)}")
        now = clock.now_ms()
        self.book = PriceBook({pair: prices[pair] for pair in markets.pairs()}, now)
        self.history = {pair: PairHistory(prices[pair], now) for pair in markets.pairs()}
        self.accounts: dict[str, Account] = {}
        self.volumes: dict[tuple[MarketKind, str], MarketVolume] = {}
        self._order_ids = itertools.count(1)
        self._algo_ids = itertools.count(FIRST_ALGO_ID)
        self._trade_ids = itertools.count(1)

    # -- accounts ----------------------------------------------------------------------------------

    def create_account(
        self, balances: Mapping[str, object] | None = None, permissions: Mapping[str, object] | None = None
    ) -> Account:
        now = self.clock.now_ms()
        seeded = {"USDT": 10000} if balances is None else dict(balances)
        account = Account(
            api_key=random_token(64),
            secret=random_token(64),
            permissions=Permissions.from_mapping(permissions),
            created_ms=now,
            futures_updated_ms=now,
        )
        for asset, amount in seeded.items():
            value = to_decimal(amount)
            if value < 0:
                raise ValueError(f"negative balance for {asset}")
            # Two independent wallets seeded alike: the spot account and the USD-M futures wallet.
            account.spot[asset] = Balance(free=money(value))
            account.futures_wallet[asset] = money(value)
        with self.lock:
            self.accounts[account.api_key] = account
        return account

    def account_by_key(self, api_key: str) -> Account | None:
        with self.lock:
            return self.accounts.get(api_key)

    # -- prices ------------------------------------------------------------------------------------

    def mark(self, spec: MarketSpec) -> Decimal:
        return self.book.price(spec.pair)

    # -- ids & bookkeeping -------------------------------------------------------------------------

    def _record_trade(self, account: Account, order: Order, trade: Trade) -> None:
        account.trades.append(trade)
        order.fills.append(trade)
        volume = self.volumes.setdefault((order.kind, order.symbol), MarketVolume())
        volume.volume += trade.qty
        volume.quote_volume += trade.quote_qty
        volume.count += 1
        if volume.first_trade_id < 0:
            volume.first_trade_id = trade.trade_id
        volume.last_trade_id = trade.trade_id
        volume.last_qty = trade.qty

    def _store(self, account: Account, order: Order) -> Order:
        order.order_id = next(self._order_ids)
        account.orders[order.order_id] = order
        return order

    def _release_lock(self, account: Account, order: Order) -> None:
        if order.locked_asset is None or not order.locked_amount:
            return
        balance = account.balance(order.locked_asset)
        balance.locked -= order.locked_amount
        balance.free += order.locked_amount
        order.locked_amount = ZERO

    def _cancel(self, account: Account, order: Order, status: str = "CANCELED") -> None:
        order.status = status
        order.updated_ms = self.clock.now_ms()
        if order.kind == "spot":
            self._release_lock(account, order)
        elif order.algo_id is not None:
            algo = account.algo_orders.get(order.algo_id)
            if algo is not None:
                algo.status = "FINISHED"
                algo.updated_ms = order.updated_ms

    # -- order lookups (spot and futures) ----------------------------------------------------------

    def find_order(
        self,
        account: Account,
        kind: MarketKind,
        spec: MarketSpec,
        order_id: int | None,
        client_id: str | None,
    ) -> Order:
        with self.lock:
            if order_id is not None:
                order = account.orders.get(order_id)
                if order is not None and order.kind == kind and order.symbol == spec.symbol_id:
                    return order
                raise errors.order_does_not_exist()
            matches = [o for o in account.orders_of(kind, spec.symbol_id) if o.client_order_id == client_id]
            if not matches:
                raise errors.order_does_not_exist()
            # A client id can be reused once the earlier order is closed: the latest one wins.
            return max(matches, key=lambda o: o.order_id)

    def find_algo(self, account: Account, algo_id: int | None, client_algo_id: str | None) -> AlgoOrder:
        with self.lock:
            if algo_id is not None:
                algo = account.algo_orders.get(algo_id)
                if algo is None:
                    raise errors.order_does_not_exist()
                return algo
            matches = [a for a in account.algo_orders.values() if a.client_algo_id == client_algo_id]
            if not matches:
                raise errors.order_does_not_exist()
            return max(matches, key=lambda a: a.algo_id)
