"""JSON shapes of the Binance responses, rendered from the engine's state.

Field names, string-vs-number choices and the presence of marker fields follow Binance because ccxt
keys its parsing on them: e.g. ``parse_order`` treats an order as a contract order only when it has
``positionSide`` or ``cumQuote``, futures balances are skipped when an asset's ``updateTime`` is 0,
and ``fetch_positions`` keeps only entries whose ``entryPrice`` is above zero. Numbers are strings
except ids, times and leverage, exactly as Binance sends them.
"""

from __future__ import annotations

import zlib
from decimal import Decimal
from typing import Any

from local.exchange_sim.candles import Candle
from local.exchange_sim.engine import (
    MAX_NUM_ALGO_ORDERS,
    MAX_NUM_ORDERS,
    SPOT_MAX_NUM_ALGO_ORDERS,
    SPOT_MAX_NUM_ORDERS,
    Account,
    AlgoOrder,
    Engine,
    FuturesSummary,
    Order,
    PositionMetrics,
    Trade,
)
from local.exchange_sim.market import ZERO, MarketSpec, fmt

Json = dict[str, Any]

_SPOT_ORDER_TYPES = [
    "LIMIT",
    "LIMIT_MAKER",
    "MARKET",
    "STOP_LOSS",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
]
_FUTURES_ORDER_TYPES = [
    "LIMIT",
    "MARKET",
    "STOP",
    "STOP_MARKET",
    "TAKE_PROFIT",
    "TAKE_PROFIT_MARKET",
    "TRAILING_STOP_MARKET",
]
_PERPETUAL_DELIVERY_DATE = 4133404800000  # what Binance puts in deliveryDate for perpetuals


def m8(value: Decimal) -> str:
    return fmt(value, 8)


def _decimals(step: Decimal) -> int:
    exponent = step.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


# -- market data -----------------------------------------------------------------------------------


def spot_exchange_info(specs: list[MarketSpec], now_ms: int) -> Json:
    return {
        "timezone": "UTC",
        "serverTime": now_ms,
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
        ],
        "exchangeFilters": [],
        "symbols": [_spot_symbol(spec) for spec in specs],
    }


def _spot_symbol(spec: MarketSpec) -> Json:
    return {
        "symbol": spec.symbol_id,
        "status": "TRADING",
        "baseAsset": spec.base,
        "baseAssetPrecision": 8,
        "quoteAsset": spec.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": _SPOT_ORDER_TYPES,
        "icebergAllowed": False,
        "ocoAllowed": False,
        "otoAllowed": False,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": False,
        "cancelReplaceAllowed": False,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": m8(spec.tick_size),
                "maxPrice": "1000000.00000000",
                "tickSize": m8(spec.tick_size),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": m8(spec.min_qty),
                "maxQty": m8(spec.max_qty),
                "stepSize": m8(spec.step_size),
            },
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": "0.00000000",
                "maxQty": m8(spec.market_max_qty),
                "stepSize": "0.00000000",
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": m8(spec.min_notional),
                "applyMinToMarket": True,
                "maxNotional": "9000000.00000000",
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": SPOT_MAX_NUM_ORDERS},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": SPOT_MAX_NUM_ALGO_ORDERS},
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


def futures_exchange_info(specs: list[MarketSpec], now_ms: int) -> Json:
    return {
        "timezone": "UTC",
        "serverTime": now_ms,
        "futuresType": "U_MARGINED",
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
        ],
        "exchangeFilters": [],
        "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
        "symbols": [_futures_symbol(spec) for spec in specs],
    }


def _futures_symbol(spec: MarketSpec) -> Json:
    tick = fmt(spec.tick_size, _decimals(spec.tick_size))
    step = fmt(spec.step_size, _decimals(spec.step_size))
    return {
        "symbol": spec.symbol_id,
        "pair": spec.symbol_id,
        "contractType": "PERPETUAL",
        "deliveryDate": _PERPETUAL_DELIVERY_DATE,
        "onboardDate": 1569398400000,
        "status": "TRADING",
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": spec.base,
        "quoteAsset": spec.quote,
        "marginAsset": spec.quote,
        "pricePrecision": spec.price_precision,
        "quantityPrecision": spec.quantity_precision,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": [],
        "triggerProtect": "0.0500",
        "liquidationFee": "0.012500",
        "marketTakeBound": "0.05",
        "maxMoveOrderLimit": 10000,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": tick, "maxPrice": "4529764", "tickSize": tick},
            {
                "filterType": "LOT_SIZE",
                "minQty": step,
                "maxQty": f"{spec.max_qty.normalize():f}",
                "stepSize": step,
            },
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": step,
                "maxQty": f"{spec.market_max_qty.normalize():f}",
                "stepSize": step,
            },
            {"filterType": "MAX_NUM_ORDERS", "limit": MAX_NUM_ORDERS},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": MAX_NUM_ALGO_ORDERS},
            {
                "filterType": "PERCENT_PRICE",
                "multiplierUp": fmt(spec.percent_up, spec.percent_decimal),
                "multiplierDown": fmt(spec.percent_down, spec.percent_decimal),
                "multiplierDecimal": str(spec.percent_decimal),
            },
            {"filterType": "MIN_NOTIONAL", "notional": f"{spec.min_notional.normalize():f}"},
        ],
        "orderTypes": _FUTURES_ORDER_TYPES,
        "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
        "permissionSets": ["GRID", "COPY"],
    }


def inverse_exchange_info(now_ms: int) -> Json:
    # ccxt.binance loads COIN-M markets too; the simulator lists none.
    return {"timezone": "UTC", "serverTime": now_ms, "rateLimits": [], "exchangeFilters": [], "symbols": []}


def ticker_24hr(engine: Engine, spec: MarketSpec) -> Json:
    stats = engine.book.stats(spec.pair)
    volume = engine.volumes.get((spec.kind, spec.symbol_id))
    change = stats.last - stats.open
    base_volume = volume.volume if volume else ZERO
    quote_volume = volume.quote_volume if volume else ZERO
    weighted = quote_volume / base_volume if base_volume else stats.last
    now = engine.clock.now_ms()
    result: Json = {
        "symbol": spec.symbol_id,
        "priceChange": spec.fmt_price(change),
        "priceChangePercent": fmt(change / stats.open * 100, 3),
        "weightedAvgPrice": spec.fmt_price(weighted),
        "lastPrice": spec.fmt_price(stats.last),
        "lastQty": spec.fmt_qty(volume.last_qty if volume else ZERO),
        "openPrice": spec.fmt_price(stats.open),
        "highPrice": spec.fmt_price(stats.high),
        "lowPrice": spec.fmt_price(stats.low),
        "volume": spec.fmt_qty(base_volume),
        "quoteVolume": m8(quote_volume),
        "openTime": max(stats.open_time_ms, now - 86_400_000),
        "closeTime": now,
        "firstId": volume.first_trade_id if volume else -1,
        "lastId": volume.last_trade_id if volume else -1,
        "count": volume.count if volume else 0,
    }
    if spec.kind == "spot":
        bid, ask = _best_bid_ask(spec, stats.last)
        result.update(
            {
                "prevClosePrice": spec.fmt_price(stats.open),
                "bidPrice": spec.fmt_price(bid),
                "bidQty": spec.fmt_qty(Decimal(10)),
                "askPrice": spec.fmt_price(ask),
                "askQty": spec.fmt_qty(Decimal(10)),
            }
        )
    return result


def _best_bid_ask(spec: MarketSpec, price: Decimal) -> tuple[Decimal, Decimal]:
    # The simulated book is one tick wide around the last price.
    return price - spec.tick_size, price + spec.tick_size


def premium_index(engine: Engine, spec: MarketSpec) -> Json:
    now = engine.clock.now_ms()
    mark = fmt(engine.mark(spec), 8)
    return {
        "symbol": spec.symbol_id,
        "markPrice": mark,
        "indexPrice": mark,
        "estimatedSettlePrice": mark,
        "lastFundingRate": "0.00000000",
        "interestRate": "0.00010000",
        "nextFundingTime": (now // 28_800_000 + 1) * 28_800_000,
        "time": now,
    }


def kline(spec: MarketSpec, candle: Candle) -> list[Any]:
    """One candle in Binance's array format; the simulator records prices, not traded volume."""
    zero_qty = spec.fmt_qty(ZERO)
    return [
        candle.open_time,
        spec.fmt_price(candle.open),
        spec.fmt_price(candle.high),
        spec.fmt_price(candle.low),
        spec.fmt_price(candle.close),
        zero_qty,
        candle.close_time,
        m8(ZERO),
        0,
        zero_qty,
        m8(ZERO),
        "0",
    ]


# -- spot account & orders -------------------------------------------------------------------------


def spot_account(account: Account, now_ms: int, omit_zero: bool) -> Json:
    balances = [
        {"asset": asset, "free": m8(b.free), "locked": m8(b.locked)}
        for asset, b in sorted(account.spot.items())
        if not omit_zero or b.free or b.locked
    ]
    can_trade = account.permissions.enable_spot_and_margin_trading
    return {
        "makerCommission": 10,
        "takerCommission": 10,
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": "0.00100000",
            "taker": "0.00100000",
            "buyer": "0.00000000",
            "seller": "0.00000000",
        },
        "canTrade": can_trade,
        "canWithdraw": account.permissions.enable_withdrawals,
        "canDeposit": True,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": now_ms,
        "accountType": "SPOT",
        "balances": balances,
        "permissions": ["SPOT"],
        "uid": zlib.crc32(account.api_key.encode()),
    }


def spot_order(order: Order, spec: MarketSpec, resp_type: str = "QUERY") -> Json:
    """``QUERY`` for GET/list endpoints, ``ACK``/``RESULT``/``FULL`` for POST, ``CANCEL`` for DELETE."""
    base: Json = {"symbol": order.symbol, "orderId": order.order_id, "orderListId": -1}
    if resp_type == "CANCEL":
        base["origClientOrderId"] = order.client_order_id
    base["clientOrderId"] = order.client_order_id
    if resp_type in ("ACK", "RESULT", "FULL", "CANCEL"):
        base["transactTime"] = order.updated_ms
    if resp_type == "ACK":
        return base
    base.update(
        {
            "price": spec.fmt_price(order.price),
            "origQty": spec.fmt_qty(order.quantity),
            "executedQty": spec.fmt_qty(order.executed_qty),
            "origQuoteOrderQty": m8(order.quote_order_qty),
            "cummulativeQuoteQty": m8(order.cum_quote),
            "status": order.status,
            "timeInForce": order.time_in_force,
            "type": order.type,
            "side": order.side,
        }
    )
    if order.stop_price:
        base["stopPrice"] = spec.fmt_price(order.stop_price)
    if resp_type == "QUERY":
        base.update(
            {
                "stopPrice": spec.fmt_price(order.stop_price),
                "icebergQty": "0.00000000",
                "time": order.created_ms,
                "updateTime": order.updated_ms,
                "isWorking": order.working,
            }
        )
    if resp_type != "CANCEL":
        base["workingTime"] = order.working_ms
    base["selfTradePreventionMode"] = order.stp_mode
    if resp_type == "FULL":
        base["fills"] = [
            {
                "price": spec.fmt_price(t.price),
                "qty": spec.fmt_qty(t.qty),
                "commission": m8(t.commission),
                "commissionAsset": t.commission_asset,
                "tradeId": t.trade_id,
            }
            for t in order.fills
        ]
    return base


def spot_trade(trade: Trade, spec: MarketSpec) -> Json:
    return {
        "symbol": trade.symbol,
        "id": trade.trade_id,
        "orderId": trade.order_id,
        "orderListId": -1,
        "price": spec.fmt_price(trade.price),
        "qty": spec.fmt_qty(trade.qty),
        "quoteQty": m8(trade.quote_qty),
        "commission": m8(trade.commission),
        "commissionAsset": trade.commission_asset,
        "time": trade.time_ms,
        "isBuyer": trade.side == "BUY",
        "isMaker": trade.maker,
        "isBestMatch": True,
    }


# -- futures orders --------------------------------------------------------------------------------


def futures_order(order: Order, spec: MarketSpec, *, with_time: bool = True) -> Json:
    result: Json = {
        "orderId": order.order_id,
        "symbol": order.symbol,
        "status": order.status,
        "clientOrderId": order.client_order_id,
        "price": spec.fmt_price(order.price),
        "avgPrice": spec.fmt_price(order.avg_price),
        "origQty": spec.fmt_qty(order.quantity),
        "executedQty": spec.fmt_qty(order.executed_qty),
        "cumQty": spec.fmt_qty(order.executed_qty),
        "cumQuote": m8(order.cum_quote),
        "timeInForce": order.time_in_force,
        "type": order.type,
        "reduceOnly": order.reduce_only,
        "closePosition": order.close_position,
        "side": order.side,
        "positionSide": "BOTH",
        "stopPrice": spec.fmt_price(order.stop_price),
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "origType": order.orig_type,
        "priceMatch": "NONE",
        "selfTradePreventionMode": order.stp_mode,
        "goodTillDate": 0,
        "updateTime": order.updated_ms,
    }
    if with_time:  # POST /fapi/v1/order answers without "time"; the queries include it
        result["time"] = order.created_ms
    return result


def algo_order(algo: AlgoOrder, spec: MarketSpec, actual: Order | None) -> Json:
    return {
        "algoId": algo.algo_id,
        "clientAlgoId": algo.client_algo_id,
        "algoType": "CONDITIONAL",
        "orderType": algo.order_type,
        "symbol": algo.symbol,
        "side": algo.side,
        "positionSide": "BOTH",
        "timeInForce": algo.time_in_force,
        "quantity": spec.fmt_qty(algo.quantity if algo.quantity is not None else ZERO),
        "algoStatus": algo.status,
        "actualOrderId": str(algo.actual_order_id) if algo.actual_order_id is not None else "",
        "actualPrice": spec.fmt_price(actual.avg_price) if actual is not None else spec.fmt_price(ZERO),
        "executedQty": spec.fmt_qty(actual.executed_qty if actual is not None else ZERO),
        "triggerPrice": spec.fmt_price(algo.trigger_price),
        "price": spec.fmt_price(algo.price),
        "icebergQuantity": None,
        "selfTradePreventionMode": algo.stp_mode,
        "workingType": algo.working_type,
        "priceMatch": "NONE",
        "closePosition": algo.close_position,
        "priceProtect": algo.price_protect,
        "reduceOnly": algo.reduce_only,
        "activatePrice": spec.fmt_price(algo.activate_price) if algo.activate_price is not None else "",
        "callbackRate": f"{algo.callback_rate.normalize():f}" if algo.callback_rate is not None else "",
        "createTime": algo.created_ms,
        "updateTime": algo.updated_ms,
        "triggerTime": algo.trigger_ms,
        "goodTillDate": 0,
    }


def futures_trade(trade: Trade, spec: MarketSpec) -> Json:
    return {
        "buyer": trade.side == "BUY",
        "commission": m8(trade.commission),
        "commissionAsset": trade.commission_asset,
        "id": trade.trade_id,
        "maker": trade.maker,
        "orderId": trade.order_id,
        "price": spec.fmt_price(trade.price),
        "qty": spec.fmt_qty(trade.qty),
        "quoteQty": m8(trade.quote_qty),
        "realizedPnl": m8(trade.realized_pnl),
        "side": trade.side,
        "positionSide": "BOTH",
        "symbol": trade.symbol,
        "time": trade.time_ms,
    }


# -- futures account -------------------------------------------------------------------------------


def _asset_entry(asset: str, wallet: Decimal, summary: FuturesSummary | None, update_ms: int) -> Json:
    unrealized = summary.unrealized_pnl if summary else ZERO
    initial = (summary.position_margin + summary.order_margin) if summary else ZERO
    available = max(ZERO, summary.available) if summary else wallet
    return {
        "asset": asset,
        "walletBalance": m8(wallet),
        "unrealizedProfit": m8(unrealized),
        "marginBalance": m8(wallet + unrealized),
        "maintMargin": m8(summary.maint_margin if summary else ZERO),
        "initialMargin": m8(initial),
        "positionInitialMargin": m8(summary.position_margin if summary else ZERO),
        "openOrderInitialMargin": m8(summary.order_margin if summary else ZERO),
        "crossWalletBalance": m8(wallet),
        "crossUnPnl": m8(unrealized),
        "availableBalance": m8(available),
        "maxWithdrawAmount": m8(min(wallet, available)),
        "marginAvailable": summary is not None,
        # ccxt skips assets whose updateTime is 0 as "uninitialised".
        "updateTime": update_ms,
    }


def futures_account(engine: Engine, account: Account) -> Json:
    """``GET /fapi/v3/account``: "only symbols with position or open orders will be returned" (Binance's
    documentation); conditional (algo) orders live in their own service and do not make a symbol appear."""
    summary = engine.futures_summary(account)
    assets = [
        _asset_entry(asset, wallet, summary if asset == "USDT" else None, account.futures_updated_ms)
        for asset, wallet in sorted(account.futures_wallet.items())
    ]
    metrics = [engine.position_metrics(account, spec) for spec in engine.markets.of_kind("futures")]
    positions = [
        _account_position(m) for m in metrics if m.amount or account.open_orders("futures", m.spec.symbol_id)
    ]
    available = max(ZERO, summary.available)
    return {
        "feeTier": 0,
        "feeBurn": False,
        "canTrade": True,
        "canDeposit": True,
        "canWithdraw": account.permissions.enable_withdrawals,
        "updateTime": 0,
        "multiAssetsMargin": False,
        "tradeGroupId": -1,
        "totalInitialMargin": m8(summary.position_margin + summary.order_margin),
        "totalMaintMargin": m8(summary.maint_margin),
        "totalWalletBalance": m8(summary.wallet),
        "totalUnrealizedProfit": m8(summary.unrealized_pnl),
        "totalMarginBalance": m8(summary.margin_balance),
        "totalPositionInitialMargin": m8(summary.position_margin),
        "totalOpenOrderInitialMargin": m8(summary.order_margin),
        "totalCrossWalletBalance": m8(summary.wallet),
        "totalCrossUnPnl": m8(summary.unrealized_pnl),
        "availableBalance": m8(available),
        "maxWithdrawAmount": m8(min(summary.wallet, available)),
        "assets": assets,
        "positions": positions,
    }


def _account_position(m: PositionMetrics) -> Json:
    return {
        "symbol": m.spec.symbol_id,
        "positionSide": "BOTH",
        "positionAmt": m.spec.fmt_qty(m.amount),
        "unrealizedProfit": m8(m.unrealized_pnl),
        "isolatedMargin": m8(m.isolated_wallet + m.unrealized_pnl if m.isolated_wallet else ZERO),
        "notional": m8(m.notional),
        "isolatedWallet": m8(m.isolated_wallet),
        "initialMargin": m8(m.initial_margin + m.open_order_margin),
        "maintMargin": m8(m.maint_margin),
        "updateTime": m.updated_ms,
    }


def position_risk(engine: Engine, m: PositionMetrics) -> Json:
    """One entry of ``GET /fapi/v2/positionRisk``."""
    return {
        "symbol": m.spec.symbol_id,
        "positionSide": "BOTH",
        "positionAmt": m.spec.fmt_qty(m.amount),
        "entryPrice": fmt(m.entry_price, 8),
        "breakEvenPrice": fmt(m.break_even_price, 8),
        "markPrice": fmt(m.mark_price, 8),
        "unRealizedProfit": m8(m.unrealized_pnl),
        "liquidationPrice": fmt(m.liquidation_price, 8),
        "isolatedMargin": m8(m.isolated_wallet + m.unrealized_pnl if m.isolated_wallet else ZERO),
        "notional": m8(m.notional),
        "marginAsset": m.spec.quote,
        "isolatedWallet": m8(m.isolated_wallet),
        "updateTime": m.updated_ms,
        "leverage": str(m.leverage),
        "maxNotionalValue": f"{engine.max_notional(m.spec, m.leverage).normalize():f}",
        "marginType": "isolated" if m.margin_type == "ISOLATED" else "cross",
        "isAutoAddMargin": "false",
        "isolated": m.margin_type == "ISOLATED",
        "adlQuantile": 0,
    }


def leverage_bracket(spec: MarketSpec) -> Json:
    return {
        "symbol": spec.symbol_id,
        "notionalCoef": 1.0,
        "brackets": [
            {
                "bracket": b.bracket,
                "initialLeverage": b.initial_leverage,
                "notionalCap": int(b.notional_cap),
                "notionalFloor": int(b.notional_floor),
                "maintMarginRatio": float(b.maint_margin_ratio),
                "cum": float(b.cum),
            }
            for b in spec.brackets
        ],
    }
