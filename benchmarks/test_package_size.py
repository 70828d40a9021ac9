"""Unzipped size of every function as deployed: its code plus its layers, built for the template's arm64.

The layers are built as `sam build` builds them (layers/build_local.py: the same Makefiles and hashed
locks, aarch64 wheels), and checked to hold the tested versions. A function's code is its folder
without caches, as sam copies it. Sizes are the files' bytes, 1 MB = 10^6 bytes (Lambda's limit,
250 MB for code and layers together, counts in MiB: this is the stricter reading).

Target: every function with its layers at most 75 MB.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from layers.build_local import build_layers, function_layers
from layers.check_build import main as check_build
from local.template import load_template

LIMIT_MB = 75.0
TEMPLATE = load_template()
FUNCTIONS = TEMPLATE.functions()


def layers_of(logical_id: str) -> list[str]:
    return function_layers(TEMPLATE.document, logical_id)


def size_mb(folder: Path) -> float:
    files = (path for path in folder.rglob("*") if path.is_file() and "__pycache__" not in path.parts)
    return sum(path.stat().st_size for path in files) / 1e6


def built_size_mb(folder: Path) -> float:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) / 1e6


@pytest.fixture(scope="module")
def layer_sizes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, float]:
    out = tmp_path_factory.mktemp("arm64")
    sites = build_layers(TEMPLATE.resources, out, "aarch64")
    assert check_build([str(out)]) == 0
    return {logical_id: built_size_mb(site.parent) for logical_id, site in sites.items()}


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_function_and_layers_unzipped(
    logical_id: str, layer_sizes: dict[str, float], bench_report: Any
) -> None:
    code = size_mb(FUNCTIONS[logical_id].code_dir)
    layers = {layer: layer_sizes[layer] for layer in layers_of(logical_id)}
    total = code + sum(layers.values())
    parts = ", ".join(f"{layer} {mb:.1f}" for layer, mb in layers.items())
    bench_report.add(
        f"Unzipped size: {logical_id} with its layers",
        target=f"<= {LIMIT_MB:.0f} MB",
        measured=f"{total:.1f} MB (code {code:.2f}, {parts})",
        ratio=total / LIMIT_MB,
        met=total <= LIMIT_MB,
    )
    print(f"{logical_id}: {total:.1f} MB ({parts})")
    assert total <= LIMIT_MB
