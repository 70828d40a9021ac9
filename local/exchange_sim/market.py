"""Tradable symbols, their exchange filters, leverage brackets and the shared market prices.

Filter values follow what Binance publishes for these symbols (spot ``/api/v3/exchangeInfo`` and USD-M
``/fapi/v1/exchangeInfo``), because ccxt derives ``market['precision']`` and ``market['limits']``
from them and the project's order sizing must be exercised against realistic steps and minimums.
Everything is ``Decimal``: the engine compares quantities against step sizes, and binary floats would
make ``0.025`` fail a ``0.001`` step check.

One price per base/quote pair is shared by the spot and the perpetual market (the simulator has no
basis or funding), so ``set_price("BTC/USDT", ...)`` moves both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Literal

from local.exchange_sim import errors

MarketKind = Literal["spot", "futures"]

ZERO = Decimal(0)
ONE = Decimal(1)
# Balances, fees and PnL are kept (and rendered) with Binance's 8 decimals.
MONEY = Decimal("0.00000001")


def to_decimal(value: object) -> Decimal:
    """Exact decimal for an int, str or float (floats through ``str`` so 0.1 stays 0.1)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"not a number: {value!r}")
    try:
        result = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def money(value: Decimal) -> Decimal:
    return value.quantize(MONEY)


def fmt(value: Decimal, places: int) -> str:
    """Fixed-point string with ``places`` decimals, the way Binance renders numbers."""
    return f"{value.quantize(Decimal(1).scaleb(-places)):f}" if places > 0 else f"{value.quantize(ONE):f}"


def is_multiple(value: Decimal, step: Decimal) -> bool:
    return step == 0 or (value % step) == 0


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    if step == 0:
        return value
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


@dataclass(frozen=True)
class Bracket:
    """One row of ``/fapi/v1/leverageBracket``: notional range, max leverage, maintenance rate."""

    bracket: int
    initial_leverage: int
    notional_floor: Decimal
    notional_cap: Decimal
    maint_margin_ratio: Decimal
    cum: Decimal  # maintenance amount, makes maintenance margin continuous across brackets


def make_brackets(rows: Iterable[tuple[int, str, str, str]]) -> tuple[Bracket, ...]:
    """Build brackets from (max leverage, floor, cap, maintenance ratio), computing ``cum`` like Binance."""
    result: list[Bracket] = []
    cum = ZERO
    previous_ratio = ZERO
    for index, (leverage, floor, cap, ratio) in enumerate(rows, start=1):
        floor_d, ratio_d = Decimal(floor), Decimal(ratio)
        cum += floor_d * (ratio_d - previous_ratio)
        result.append(Bracket(index, leverage, floor_d, Decimal(cap), ratio_d, cum))
        previous_ratio = ratio_d
    return tuple(result)


@dataclass(frozen=True)
class MarketSpec:
    """One market of one kind (spot or USD-M perpetual) and the filters Binance enforces on it."""

    kind: MarketKind
    symbol_id: str  # "BTCUSDT"
    base: str
    quote: str
    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    market_max_qty: Decimal
    min_notional: Decimal
    price_precision: int
    quantity_precision: int
    maker_fee: Decimal
    taker_fee: Decimal
    brackets: tuple[Bracket, ...] = field(default=())
    # Futures PERCENT_PRICE: a BUY limit may not exceed mark * up, a SELL limit not undercut mark * down.
    percent_up: Decimal = Decimal("1.0500")
    percent_down: Decimal = Decimal("0.9500")
    percent_decimal: int = 4

    @property
    def pair(self) -> str:
        return f"{self.base}/{self.quote}"

    @property
    def unified_symbol(self) -> str:
        return self.pair if self.kind == "spot" else f"{self.pair}:{self.quote}"

    @property
    def max_leverage(self) -> int:
        return max((b.initial_leverage for b in self.brackets), default=1)

    # Spot renders every price and quantity with 8 decimals; futures with the symbol's precision.
    def fmt_price(self, value: Decimal) -> str:
        return fmt(value, 8 if self.kind == "spot" else self.price_precision)

    def fmt_qty(self, value: Decimal) -> str:
        return fmt(value, 8 if self.kind == "spot" else self.quantity_precision)

    def bracket_for(self, notional: Decimal) -> Bracket:
        for bracket in self.brackets:
            if notional < bracket.notional_cap:
                return bracket
        return self.brackets[-1]

    # -- filters: the checks Binance runs before accepting an order ------------------------------

    def check_price(self, price: Decimal, name: str = "price") -> None:
        if price <= 0:
            raise (
                errors.filter_failure("PRICE_FILTER") if self.kind == "spot" else errors.price_not_positive()
            )
        if not is_multiple(price, self.tick_size):
            raise errors.filter_failure("PRICE_FILTER") if self.kind == "spot" else errors.price_not_on_tick()

    def check_quantity(self, qty: Decimal, *, market_order: bool) -> None:
        lot = "MARKET_LOT_SIZE" if market_order else "LOT_SIZE"
        max_qty = self.market_max_qty if market_order else self.max_qty
        if self.kind == "spot":
            # LOT_SIZE applies to every order, MARKET_LOT_SIZE adds its own maximum for market orders.
            if (
                qty < self.min_qty
                or qty > self.max_qty
                or not is_multiple(qty - self.min_qty, self.step_size)
            ):
                raise errors.filter_failure("LOT_SIZE")
            if qty > max_qty:
                raise errors.filter_failure(lot)
            return
        if qty <= 0:
            raise errors.quantity_not_positive()
        if not is_multiple(qty, self.step_size):
            raise errors.precision_over_max()
        if qty < self.min_qty:
            raise errors.filter_failure(lot)
        if qty > max_qty:
            raise errors.quantity_above_max()

    def check_percent_price(
        self, side: str, price: Decimal, reference: Decimal, *, stop: bool = False
    ) -> None:
        """Futures PERCENT_PRICE, one-sided as Binance applies it.

        ``reference`` is the mark price for LIMIT orders (-4016 / -4024) and the trigger price for the
        limit price of STOP / TAKE_PROFIT orders (-4183 / -4184, "stop price multiplier").
        """
        if side == "BUY":
            bound = reference * self.percent_up
            if price > bound:
                raise (errors.stop_limit_price_above if stop else errors.limit_price_above)(_bound(bound))
        else:
            bound = reference * self.percent_down
            if price < bound:
                raise (errors.stop_limit_price_below if stop else errors.limit_price_below)(_bound(bound))

    def check_notional(self, notional: Decimal) -> None:
        if notional >= self.min_notional:
            return
        if self.kind == "spot":
            raise errors.filter_failure("NOTIONAL")
        raise errors.notional_too_small(f"{self.min_notional.normalize():f}")


def _bound(value: Decimal) -> str:
    # Binance prints the computed bound itself (e.g. "0.7720058"), not a tick-rounded price.
    return f"{value.quantize(MONEY, rounding=ROUND_DOWN).normalize():f}"


def _spot(base: str, tick: str, step: str, market_max: str) -> MarketSpec:
    return MarketSpec(
        kind="spot",
        symbol_id=f"{base}USDT",
        base=base,
        quote="USDT",
        tick_size=Decimal(tick),
        step_size=Decimal(step),
        min_qty=Decimal(step),
        max_qty=Decimal("9000"),
        market_max_qty=Decimal(market_max),
        min_notional=Decimal("5"),
        price_precision=8,
        quantity_precision=8,
        maker_fee=Decimal("0.001"),
        taker_fee=Decimal("0.001"),
    )


def _perp(
    base: str,
    tick: str,
    step: str,
    max_qty: str,
    market_max: str,
    min_notional: str,
    precisions: tuple[int, int],
    brackets: tuple[Bracket, ...],
) -> MarketSpec:
    return MarketSpec(
        kind="futures",
        symbol_id=f"{base}USDT",
        base=base,
        quote="USDT",
        tick_size=Decimal(tick),
        step_size=Decimal(step),
        min_qty=Decimal(step),
        max_qty=Decimal(max_qty),
        market_max_qty=Decimal(market_max),
        min_notional=Decimal(min_notional),
        price_precision=precisions[0],
        quantity_precision=precisions[1],
        maker_fee=Decimal("0.0002"),
        taker_fee=Decimal("0.0004"),
        brackets=brackets,
    )


_BTC_BRACKETS = make_brackets(
    [
        (125, "0", "50000", "0.004"),
        (100, "50000", "600000", "0.005"),
        (75, "600000", "3000000", "0.0065"),
        (50, "3000000", "12000000", "0.01"),
        (25, "12000000", "70000000", "0.02"),
        (20, "70000000", "100000000", "0.025"),
        (10, "100000000", "230000000", "0.05"),
        (5, "230000000", "480000000", "0.1"),
        (4, "480000000", "600000000", "0.125"),
        (3, "600000000", "800000000", "0.15"),
        (2, "800000000", "1200000000", "0.25"),
        (1, "1200000000", "1800000000", "0.5"),
    ]
)
_ETH_BRACKETS = make_brackets(
    [
        (100, "0", "10000", "0.005"),
        (75, "10000", "100000", "0.0065"),
        (50, "100000", "500000", "0.01"),
        (25, "500000", "1000000", "0.02"),
        (10, "1000000", "2000000", "0.05"),
        (5, "2000000", "5000000", "0.1"),
        (4, "5000000", "10000000", "0.125"),
        (3, "10000000", "20000000", "0.15"),
        (2, "20000000", "50000000", "0.25"),
        (1, "50000000", "100000000", "0.5"),
    ]
)
_BNB_BRACKETS = make_brackets(
    [
        (75, "0", "10000", "0.005"),
        (50, "10000", "50000", "0.01"),
        (25, "50000", "250000", "0.02"),
        (10, "250000", "1000000", "0.05"),
        (5, "1000000", "2000000", "0.1"),
        (4, "2000000", "5000000", "0.125"),
        (3, "5000000", "10000000", "0.15"),
        (2, "10000000", "20000000", "0.25"),
        (1, "20000000", "50000000", "0.5"),
    ]
)

DEFAULT_MARKETS: tuple[MarketSpec, ...] = (
    _spot("BTC", "0.01", "0.00001", "100"),
    _spot("ETH", "0.01", "0.0001", "2000"),
    _spot("BNB", "0.01", "0.001", "5000"),
    _perp("BTC", "0.10", "0.001", "1000", "120", "100", (2, 3), _BTC_BRACKETS),
    _perp("ETH", "0.01", "0.001", "10000", "2000", "20", (2, 3), _ETH_BRACKETS),
    _perp("BNB", "0.010", "0.01", "10000", "2000", "5", (3, 2), _BNB_BRACKETS),
)

DEFAULT_PRICES: Mapping[str, Decimal] = {
    "BTC/USDT": Decimal("19200"),
    "ETH/USDT": Decimal("1300"),
    "BNB/USDT": Decimal("280"),
}


class MarketRegistry:
    """Lookup of market specs by kind and exchange id, and of pairs by any symbol spelling."""

    def __init__(self, specs: Iterable[MarketSpec]) -> None:
        self._specs: dict[tuple[MarketKind, str], MarketSpec] = {}
        for spec in specs:
            self._specs[(spec.kind, spec.symbol_id)] = spec

    def find(self, kind: MarketKind, symbol_id: str) -> MarketSpec | None:
        return self._specs.get((kind, symbol_id))

    def get(self, kind: MarketKind, symbol_id: str | None) -> MarketSpec:
        spec = self._specs.get((kind, symbol_id or ""))
        if spec is None:
            raise errors.invalid_symbol()
        return spec

    def of_kind(self, kind: MarketKind) -> list[MarketSpec]:
        return [spec for (k, _), spec in self._specs.items() if k == kind]

    def for_pair(self, pair: str) -> list[MarketSpec]:
        return [spec for spec in self._specs.values() if spec.pair == pair]

    def pairs(self) -> set[str]:
        return {spec.pair for spec in self._specs.values()}

    def resolve_pair(self, symbol: str) -> str:
        """Map "BTC/USDT", "BTC/USDT:USDT" or "BTCUSDT" to "BTC/USDT"; ValueError when unknown."""
        for spec in self._specs.values():
            if symbol in (spec.pair, spec.unified_symbol, spec.symbol_id):
                return spec.pair
        raise ValueError(f"unknown symbol: {symbol!r}")


@dataclass
class PairStats:
    """Rolling-day statistics of one pair's price, for the 24hr tickers."""

    last: Decimal
    open: Decimal
    high: Decimal
    low: Decimal
    open_time_ms: int


class PriceBook:
    """The last price of every pair. Not locked itself: the engine's lock guards it."""

    def __init__(self, prices: Mapping[str, Decimal], now_ms: int) -> None:
        self._stats = {pair: PairStats(p, p, p, p, now_ms) for pair, p in prices.items()}

    def price(self, pair: str) -> Decimal:
        return self._stats[pair].last

    def stats(self, pair: str) -> PairStats:
        return self._stats[pair]

    def set(self, pair: str, price: Decimal) -> None:
        stats = self._stats[pair]
        stats.last = price
        stats.high = max(stats.high, price)
        stats.low = min(stats.low, price)
