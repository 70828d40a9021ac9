"""Cold start: a function imports only what it uses. ccxt and stripe load lazily, on the first call."""

import json
import subprocess
import sys

import pytest

from local.template import PROJECT_ROOT, load_template

FUNCTIONS = load_template().functions()
PROBE = """
import importlib, json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2], sys.argv[3]]
importlib.import_module("app")
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_importing_a_function_loads_neither_ccxt_nor_stripe(logical_id):
    spec = FUNCTIONS[logical_id]
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            str(spec.code_dir),
            str(PROJECT_ROOT / "shared"),
            str(PROJECT_ROOT / "layers" / "adapters"),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert not loaded & {"ccxt", "stripe", "moto", "local"}, logical_id


def test_the_adapter_imports_only_the_ccxt_exchanges_it_uses():
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from adapters.exchange.ccxt_loader import ccxt_module;"
        "usdm = ccxt_module('binanceusdm').binanceusdm({'options': {'fetchCurrencies': False}});"
        "print(usdm.id, 'ccxt.kraken' in sys.modules, 'ccxt.binanceusdm' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(PROJECT_ROOT / "layers" / "adapters")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.split() == ["binanceusdm", "False", "True"]
