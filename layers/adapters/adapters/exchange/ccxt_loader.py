"""Imports only the ccxt modules in use.

``ccxt/__init__.py`` imports all of its ~100 exchanges, so even ``from ccxt.binanceusdm import
binanceusdm`` pays for every one of them (about 0.3 s and 200 modules here, more on a cold Lambda).
Registering the ``ccxt`` package without running its ``__init__`` lets Python import just the
submodules asked for (binance, binanceusdm and their base: about 0.13 s and 12 modules). If ccxt was
already imported in full (a test, a script), that module is used as it is.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

_lock = threading.Lock()


def _register_package() -> None:
    with _lock:
        if "ccxt" in sys.modules:
            return
        spec = importlib.util.find_spec("ccxt")
        if spec is None or not spec.submodule_search_locations:
            raise ImportError("ccxt is not installed")
        package = types.ModuleType("ccxt")
        package.__path__ = list(spec.submodule_search_locations)
        package.__file__ = spec.origin
        package.__spec__ = spec
        package.__package__ = "ccxt"
        sys.modules["ccxt"] = package


def ccxt_module(name: str) -> Any:
    """``ccxt_module("binanceusdm")`` is the module ``ccxt.binanceusdm``, imported narrowly."""
    _register_package()
    return importlib.import_module(f"ccxt.{name}")


def ccxt_errors() -> Any:
    return ccxt_module("base.errors")
