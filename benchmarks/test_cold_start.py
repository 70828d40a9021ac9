"""Cold-start import time of every function, and what the first exchange call adds.

Targets (this machine, median of 5 fresh interpreters):
- any function's handler module imports in under 1.0 s;
- the exchange adapter's ccxt import (binance and binanceusdm only) costs at most half of `import ccxt`.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

import pytest

from local.template import PROJECT_ROOT, load_template

RUNS = 5
FUNCTIONS = load_template().functions()


def _seconds(code: str, *paths: str) -> float:
    timer = f"import sys, time; sys.path[:0] = {list(paths)!r}; start = time.perf_counter(); {code}; print(time.perf_counter() - start)"
    samples = [
        float(
            subprocess.run(
                [sys.executable, "-c", timer], capture_output=True, text=True, check=True
            ).stdout.split()[-1]
        )
        for _ in range(RUNS)
    ]
    return statistics.median(samples)


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_handler_import_time(logical_id, record_property):
    spec = FUNCTIONS[logical_id]
    seconds = _seconds(
        "import app",
        str(spec.code_dir),
        str(PROJECT_ROOT / "shared"),
        str(PROJECT_ROOT / "layers" / "adapters"),
    )
    record_property("seconds", seconds)
    print(f"{logical_id}: {seconds * 1000:.0f} ms")
    assert seconds < 1.0


def test_narrow_ccxt_import_is_at_most_half_of_the_whole_library():
    adapters = str(PROJECT_ROOT / "layers" / "adapters")
    narrow = _seconds(
        "from adapters.exchange.ccxt_loader import ccxt_module; ccxt_module('binance'); ccxt_module('binanceusdm')",
        adapters,
    )
    whole = _seconds("import ccxt")
    print(f"adapter's ccxt import: {narrow * 1000:.0f} ms, import ccxt: {whole * 1000:.0f} ms")
    assert narrow < 0.5 * whole
