"""Writes each layer's ``requirements.lock``: the exact wheels ``sam build`` installs into the layer.

    .venv/bin/python layers/lock.py          # (``make lock``) after a change to requirements/constraints.txt

A layer ships exactly the versions the tests ran with: every version comes from
``requirements/constraints.txt`` (the dev virtualenv's freeze), and every line carries the sha256 of the
wheel for each Lambda platform the template may name (arm64 and x86_64, CPython 3.11, manylinux2014:
the python3.11 runtime is Amazon Linux 2, glibc 2.26), so ``pip install --require-hashes --no-deps``
refuses anything else. The hashes are those of the files PyPI serves, fetched with ``pip download``.

What each layer holds is listed here, not resolved: a layer installs with ``--no-deps``, so a package
is in it only because a module the functions import needs it at run time. The packages every function
has (typing-extensions, urllib3) are in the core layer only; the adapters layer relies on them.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tempfile
from pathlib import Path

LAYERS_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = LAYERS_DIR.parent
CONSTRAINTS = PROJECT_ROOT / "requirements" / "constraints.txt"
PYTHON_VERSION = "3.11"
PLATFORMS = ("manylinux2014_aarch64", "manylinux2014_x86_64")

LAYERS: dict[str, tuple[str, ...]] = {
    # shared/requirements.txt and what it needs at run time. boto3 and botocore ship together, at the
    # tested version: pynamodb needs botocore, and a layer's botocore would otherwise shadow the
    # runtime's while boto3 (and s3transfer) came from the runtime, a pair never tested together.
    "core": (
        "aws-lambda-powertools",
        "jmespath",
        "typing-extensions",
        "pydantic",
        "pydantic-core",
        "annotated-types",
        "typing-inspection",
        "pynamodb",
        "boto3",
        "botocore",
        "s3transfer",
        "python-dateutil",
        "six",
        "urllib3",
        "tzdata",
        # Powertools' Tracer (core.observability.traced): the X-Ray SDK and its wrapt.
        "aws-xray-sdk",
        "wrapt",
    ),
    # layers/adapters/requirements.txt and what its sync path imports. ccxt's async stack (aiohttp,
    # yarl, multidict, frozenlist, aiosignal, aiohappyeyeballs, propcache, aiohttp-fast-zlib, zlib-ng,
    # uvloop) is never imported by ``ccxt.binance``; coincurve only signs secp256k1 (not Binance's
    # HMAC); pycparser is cffi's compile-time parser. orjson is what ccxt parses JSON with when present,
    # as in the tests. cryptography (and cffi's backend under it) is imported by ccxt's base exchange.
    "adapters": (
        "ccxt",
        "cryptography",
        "cffi",
        "orjson",
        "requests",
        "certifi",
        "charset-normalizer",
        "idna",
        "stripe",
    ),
}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    """``name==version`` lines of a requirements or lock file, by canonical name."""
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", line)
        if match:
            found[canonical(match.group(1))] = match.group(2)
    return found


def lock_path(layer: str) -> Path:
    return LAYERS_DIR / layer / "requirements.lock"


def _wheel_name(filename: str) -> str:
    return canonical(filename.split("-", 1)[0])


def _download(requirements: list[str], platform: str, into: Path) -> dict[str, tuple[str, str]]:
    subprocess.run(  # noqa: S603 - pip, with the pinned names of this file
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--platform",
            platform,
            "--python-version",
            PYTHON_VERSION,
            "--implementation",
            "cp",
            "--abi",
            "cp" + PYTHON_VERSION.replace(".", ""),
            "--dest",
            str(into),
            *requirements,
        ],
        check=True,
    )
    return {
        _wheel_name(wheel.name): (wheel.name, hashlib.sha256(wheel.read_bytes()).hexdigest())
        for wheel in sorted(into.glob("*.whl"))
    }


def write_lock(layer: str, versions: dict[str, str]) -> None:
    packages = LAYERS[layer]
    requirements = [f"{name}=={versions[canonical(name)]}" for name in packages]
    wheels: dict[str, dict[str, tuple[str, str]]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for platform in PLATFORMS:
            wheels[platform] = _download(requirements, platform, Path(scratch) / platform)
    lines = [
        f"# The {layer} layer's wheels, written by layers/lock.py from requirements/constraints.txt: do not edit.",
        f"# CPython {PYTHON_VERSION}, {' and '.join(PLATFORMS)}; installed with --require-hashes --no-deps.",
    ]
    for name in sorted(packages, key=canonical):
        files = {wheels[platform][canonical(name)] for platform in PLATFORMS}
        lines.append(f"{canonical(name)}=={versions[canonical(name)]} \\")
        hashes = sorted({digest for _, digest in files})
        for index, digest in enumerate(hashes):
            lines.append(f"    --hash=sha256:{digest}" + (" \\" if index < len(hashes) - 1 else ""))
        for filename in sorted(filename for filename, _ in files):
            lines.append(f"    # {filename}")
    lock_path(layer).write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    versions = pins(CONSTRAINTS)
    for layer, packages in LAYERS.items():
        missing = [name for name in packages if canonical(name) not in versions]
        if missing:
            raise SystemExit(f"{layer}: not pinned in {CONSTRAINTS.name}: {', '.join(missing)}")
        write_lock(layer, versions)
        print(f"wrote {lock_path(layer).relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
