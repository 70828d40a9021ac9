"""Deployable exactly as tested: the layers' locks, the dev freeze and the dev virtualenv agree.

requirements/constraints.txt is the freeze the tests install; layers/<layer>/requirements.lock is what
``sam build`` installs (hashed, --no-deps). These tests read files only: nothing is built or downloaded.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from layers import check_build, lock, trim

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TESTED = lock.pins(lock.CONSTRAINTS)
LOCKS = {layer: lock.pins(lock.lock_path(layer)) for layer in lock.LAYERS}
TOP_LEVEL = [
    PROJECT_ROOT / "shared" / "requirements.txt",
    PROJECT_ROOT / "layers" / "adapters" / "requirements.txt",
    PROJECT_ROOT / "requirements" / "dev.txt",
]


def lock_entries(layer: str) -> dict[str, tuple[list[str], list[str]]]:
    """Each locked package's hashes and the wheel files named under it."""
    entries: dict[str, tuple[list[str], list[str]]] = {}
    current = ""
    for line in lock.lock_path(layer).read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^([a-z0-9-]+)==", line):
            current = match.group(1)
            entries[current] = ([], [])
        elif match := re.search(r"--hash=sha256:([0-9a-f]{64})", line):
            entries[current][0].append(match.group(1))
        elif match := re.match(r"^\s+# (\S+\.whl)$", line):
            entries[current][1].append(match.group(1))
    return entries


@pytest.mark.parametrize("layer", sorted(lock.LAYERS))
def test_a_layer_lock_holds_the_tested_versions_of_exactly_its_packages(layer: str) -> None:
    locked = LOCKS[layer]
    assert sorted(locked) == sorted(lock.canonical(name) for name in lock.LAYERS[layer]), "run `make lock`"
    drifted = {
        name: (version, TESTED.get(name)) for name, version in locked.items() if TESTED.get(name) != version
    }
    assert not drifted, f"lock version vs constraints.txt: {drifted}; run `make lock`"


@pytest.mark.parametrize("layer", sorted(lock.LAYERS))
def test_every_locked_wheel_is_hashed_for_both_lambda_architectures(layer: str) -> None:
    for name, (hashes, wheels) in lock_entries(layer).items():
        assert hashes, name
        assert wheels, name
        if any(not wheel.endswith("-none-any.whl") for wheel in wheels):
            assert any("aarch64" in wheel for wheel in wheels), name
            assert any("x86_64" in wheel for wheel in wheels), name
            assert len(hashes) == 2, name
        assert all(f"-{TESTED[name]}-" in wheel for wheel in wheels), (name, wheels)


def test_no_package_is_in_two_layers() -> None:
    core, adapters = set(LOCKS["core"]), set(LOCKS["adapters"])
    assert not core & adapters


def test_boto3_and_botocore_ship_together_at_one_version() -> None:
    # boto3 X.Y.Z is released with botocore X.Y.Z and requires it; both ship in the core layer.
    assert TESTED["boto3"] == TESTED["botocore"]
    assert LOCKS["core"]["boto3"] == LOCKS["core"]["botocore"] == TESTED["boto3"]
    assert "s3transfer" in LOCKS["core"]
    for path in TOP_LEVEL:
        pinned = lock.pins(path)
        if "boto3" in pinned or "botocore" in pinned:
            assert pinned.get("boto3") == pinned.get("botocore") == TESTED["boto3"], path


@pytest.mark.parametrize("path", TOP_LEVEL, ids=lambda path: str(path.relative_to(PROJECT_ROOT)))
def test_the_top_level_requirements_pin_the_tested_versions(path: Path) -> None:
    pinned = lock.pins(path)
    assert pinned
    assert {name: TESTED.get(name) for name in pinned} == pinned


@pytest.mark.parametrize("layer", sorted(lock.LAYERS))
def test_the_dev_virtualenv_has_the_layers_versions(layer: str) -> None:
    # What `make` installs in .venv (-c constraints.txt) is what the layers ship.
    for name, version in LOCKS[layer].items():
        assert importlib.metadata.version(name) == version, f"{name}: re-run `make` (the venv is stale)"


def test_nothing_pins_the_old_chart_stack() -> None:
    for name in ("matplotlib", "numpy", "pillow", "contourpy", "kiwisolver", "fonttools"):
        assert name not in TESTED


def test_every_aws_service_the_code_calls_keeps_its_botocore_model() -> None:
    kept = set(trim.read_list(PROJECT_ROOT / "layers" / "core" / "botocore-services.txt"))
    called = {"dynamodb", "secretsmanager"}  # pynamodb's client and Powertools' get_secret
    for folder in ("shared", "functions", "layers"):
        for source in (PROJECT_ROOT / folder).rglob("*.py"):
            called |= set(
                re.findall(r"""boto3\.client\(\s*["']([a-z0-9-]+)["']""", source.read_text("utf-8"))
            )
    assert called <= kept, f"add to layers/core/botocore-services.txt: {sorted(called - kept)}"


def test_the_shipped_ccxt_modules_exist_in_the_tested_ccxt() -> None:
    spec = importlib.util.find_spec("ccxt")  # finds the package without running its __init__
    assert spec is not None
    assert spec.submodule_search_locations
    root = Path(next(iter(spec.submodule_search_locations))).parent
    for module in trim.read_list(PROJECT_ROOT / "layers" / "adapters" / "ccxt-modules.txt"):
        relative = Path(*module.split("."))
        assert (root / relative / "__init__.py").is_file() or (root / relative).with_suffix(".py").is_file()


def fake_build(tmp_path: Path, versions: dict[str, dict[str, str]]) -> Path:
    """A build folder like sam's, with only the dist-info and one compiled module per layer."""
    for logical_id, packages in versions.items():
        site = tmp_path / logical_id / "python"
        (site / "ccxt").mkdir(parents=True)
        for name, version in packages.items():
            info = site / f"{name.replace('-', '_')}-{version}.dist-info"
            info.mkdir()
            (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        (site / "ccxt" / "__init__.py").write_text("")
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(tmp_path)],
        check=True,
    )
    return tmp_path


def test_the_build_check_accepts_the_locked_versions_and_names_a_drift(tmp_path: Path) -> None:
    good = {"CoreLayer": dict(LOCKS["core"]), "AdaptersLayer": dict(LOCKS["adapters"])}
    assert check_build.main([str(fake_build(tmp_path / "good", good))]) == 0

    drifted = {"CoreLayer": {**LOCKS["core"], "botocore": "1.0.0"}, "AdaptersLayer": dict(LOCKS["adapters"])}
    problems = check_build.layer_problems(fake_build(tmp_path / "bad", drifted), "CoreLayer", "core")
    assert problems == [f"CoreLayer: botocore 1.0.0 installed, {LOCKS['core']['botocore']} locked"]


def test_the_build_check_refuses_timestamped_bytecode(tmp_path: Path) -> None:
    site = tmp_path / "CoreLayer" / "python"
    site.mkdir(parents=True)
    (site / "module.py").write_text("VALUE = 1\n")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(site)], check=True)  # timestamp .pyc
    assert check_build.bytecode_problems(site) == [
        "__pycache__/module.cpython-311.pyc is not CPython 3.11 unchecked-hash bytecode"
    ]
