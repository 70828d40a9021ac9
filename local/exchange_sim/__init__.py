"""A Binance REST simulator (spot ``/api/v3``, ``/sapi`` and USD-M futures ``/fapi``) for local runs and tests.

The real ccxt talks to it unchanged once its URLs are pointed at the server
(``adapters.exchange.endpoints.point_at``)::

    running = start_simulator()
    keys = running.simulator.create_account({"USDT": 10000})
    running.simulator.set_price("BTC/USDT", 19250)
    running.simulator.used_weight("127.0.0.1")  # request weight of that IP in the last minute
    running.stop()
"""

from local.exchange_sim.server import RunningSimulator, start_simulator
from local.exchange_sim.simulator import BinanceSimulator

__all__ = ["BinanceSimulator", "RunningSimulator", "start_simulator"]
