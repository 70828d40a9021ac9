"""Cold-start import time of every function as deployed, against `import ccxt` and `import stripe`.

The layers are built first, as `sam build` builds them (layers/build_local.py: the same Makefiles and
hashed locks, for this machine's architecture). Then every function's module init (`import app`) runs in
a fresh `python -I -S`: its path is the function's folder (copied without caches, as Lambda gets it) and
the built layers' `python` folders, nothing of the source tree nor of the dev virtualenv, and the
environment Lambda gives it (``LAMBDA_TASK_ROOT`` and the rest: the tracer starts, as deployed). Interleaved in
the same runs: a fresh `import ccxt` and `import stripe` from the dev virtualenv (the whole libraries,
bytecode cached), the yardsticks. Medians of RUNS rounds.

Targets:
- an exchange function (the adapters layer and EXCHANGE_ settings) initialises in at most 0.5x `import ccxt`;
- any function initialises in under 1.0 s;
- a function initialises as deployed in at most 1.2x the time it takes in the dev checkout;
- the first exchange call's ccxt import from the built layer (binance and binanceusdm through
  adapters/exchange/ccxt_loader.py) costs at most 0.5x `import ccxt`.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from layers.build_local import build_layers, function_layers
from layers.check_build import main as check_build
from local.template import PROJECT_ROOT, load_template

RUNS = 7
NARROW_CCXT = "adapter's ccxt"
# The deployed layout against the dev checkout (source tree and .venv, bytecode cached) for one function:
# layers shipped without .pyc made this 2.2-2.8x.
COMPARED = "ExchangeFunction"
DEV_CHECKOUT = "dev checkout"
NARROW_CODE = "from adapters.exchange.ccxt_loader import ccxt_module; ccxt_module('binance'); ccxt_module('binanceusdm')"
TEMPLATE = load_template()
FUNCTIONS = TEMPLATE.functions()
LAMBDA_ENVIRONMENT = {
    "LAMBDA_TASK_ROOT": "/var/task",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
}
TIMER = "import sys, time; sys.path[:0] = {paths!r}; start = time.perf_counter(); {code}; print(time.perf_counter() - start)"


def layers_of(logical_id: str) -> list[str]:
    return function_layers(TEMPLATE.document, logical_id)


def is_exchange_function(logical_id: str) -> bool:
    environment = FUNCTIONS[logical_id].environment
    return "AdaptersLayer" in layers_of(logical_id) and any(
        name.startswith("EXCHANGE_") for name in environment
    )


def _seconds(flags: list[str], code: str, paths: list[str], cwd: Path, env: dict[str, str]) -> float:
    done = subprocess.run(
        [sys.executable, *flags, "-c", TIMER.format(paths=paths, code=code)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return float(done.stdout.split()[-1])


@pytest.fixture(scope="module")
def timings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("deployed")
    sites = build_layers(TEMPLATE.resources, root / "layers")
    assert check_build([str(root / "layers")]) == 0  # the built layers are the tested versions
    code_dirs = {}
    for logical_id, spec in FUNCTIONS.items():
        code_dirs[logical_id] = root / "functions" / logical_id
        shutil.copytree(spec.code_dir, code_dirs[logical_id], ignore=shutil.ignore_patterns("__pycache__"))

    names = [*FUNCTIONS, NARROW_CCXT, DEV_CHECKOUT, "import ccxt", "import stripe"]
    samples: dict[str, list[float]] = {name: [] for name in names}
    adapters = [str(sites["CoreLayer"]), str(sites["AdaptersLayer"])]
    base_env = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}
    # What Lambda sets (with it the functions start their tracer, as deployed); not for the yardsticks.
    lambda_env = {**base_env, **LAMBDA_ENVIRONMENT}
    for _ in range(RUNS):
        for logical_id in sorted(FUNCTIONS):
            paths = [str(code_dirs[logical_id]), *(str(sites[layer]) for layer in layers_of(logical_id))]
            env = {**FUNCTIONS[logical_id].environment, **lambda_env, "AWS_LAMBDA_FUNCTION_NAME": logical_id}
            # -S: no site-packages, so nothing but the function and its layers can be imported.
            samples[logical_id].append(_seconds(["-I", "-S"], "import app", paths, root, env))
        samples[NARROW_CCXT].append(_seconds(["-I", "-S"], NARROW_CODE, adapters, root, base_env))
        source_tree = [
            str(FUNCTIONS[COMPARED].code_dir),
            str(PROJECT_ROOT / "shared"),
            str(PROJECT_ROOT / "layers" / "adapters"),
        ]
        env = {**FUNCTIONS[COMPARED].environment, **lambda_env, "AWS_LAMBDA_FUNCTION_NAME": COMPARED}
        samples[DEV_CHECKOUT].append(_seconds(["-I"], "import app", source_tree, root, env))
        for library in ("ccxt", "stripe"):
            samples[f"import {library}"].append(_seconds(["-I"], f"import {library}", [], root, base_env))
    return {name: statistics.median(values) for name, values in samples.items()}


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_deployed_module_init(logical_id: str, timings: dict[str, Any], bench_report: Any) -> None:
    seconds, ccxt = timings[logical_id], timings["import ccxt"]
    if is_exchange_function(logical_id):
        target, limit = "<= 0.5x import ccxt", 0.5 * ccxt
    else:
        target, limit = "< 1000 ms", 1.0
    met = seconds <= limit if is_exchange_function(logical_id) else seconds < limit
    bench_report.add(
        f"Cold start as deployed: {logical_id} `import app`",
        target=target,
        measured=f"{seconds * 1000:.0f} ms (import ccxt {ccxt * 1000:.0f} ms, import stripe {timings['import stripe'] * 1000:.0f} ms)",
        ratio=seconds / ccxt,
        met=met,
    )
    print(f"{logical_id}: {seconds * 1000:.0f} ms, {seconds / ccxt:.2f}x import ccxt")
    assert met, f"{logical_id}: {seconds * 1000:.0f} ms, target {target} ({limit * 1000:.0f} ms)"


def test_the_adapters_ccxt_import_from_the_built_layer(timings: dict[str, Any], bench_report: Any) -> None:
    seconds, ccxt = timings[NARROW_CCXT], timings["import ccxt"]
    met = seconds <= 0.5 * ccxt
    bench_report.add(
        "Cold start as deployed: first exchange call's ccxt import (binance, binanceusdm) from the adapters layer",
        target="<= 0.5x import ccxt",
        measured=f"{seconds * 1000:.0f} ms (import ccxt {ccxt * 1000:.0f} ms)",
        ratio=seconds / ccxt,
        met=met,
    )
    assert met


def test_deployed_init_is_as_fast_as_in_the_dev_checkout(timings: dict[str, Any], bench_report: Any) -> None:
    deployed, checkout = timings[COMPARED], timings[DEV_CHECKOUT]
    met = deployed <= 1.2 * checkout
    bench_report.add(
        f"Cold start: {COMPARED} `import app` deployed vs the dev checkout",
        target="<= 1.2x dev checkout",
        measured=f"{deployed * 1000:.0f} ms vs {checkout * 1000:.0f} ms",
        ratio=deployed / checkout,
        met=met,
    )
    assert met
