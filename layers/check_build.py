"""Checks built layers against what was tested: ``python layers/check_build.py .aws-sam/build`` (``make build-check``).

For each layer the template builds from a lock (CoreLayer, AdaptersLayer), in ``<build>/<LogicalId>/python``:
- the installed distributions (their ``*.dist-info``) are exactly the lock's, at the lock's versions, and
  those are the versions of requirements/constraints.txt, the dev virtualenv the tests ran in;
- none of ccxt's async stack is there, and ccxt holds only the modules of layers/adapters/ccxt-modules.txt;
- every ``.py`` has its bytecode beside it in ``__pycache__``, hash-based and unchecked (valid on
  Lambda's read-only file system whatever the zip does to mtimes), for the CPython 3.11 it runs on.

Exits 1 with one line per problem. Standard library only.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lock import CONSTRAINTS, LAYERS_DIR, canonical, lock_path, pins
from trim import read_list

BUILT_LAYERS = {"CoreLayer": "core", "AdaptersLayer": "adapters"}
NEVER_SHIPPED = (
    "aiohttp",
    "aiodns",
    "aiosignal",
    "aiohappyeyeballs",
    "frozenlist",
    "multidict",
    "propcache",
    "uvloop",
    "yarl",
    "matplotlib",
    "numpy",
)
CPYTHON_311_MAGIC = b"\xa7\r\r\n"  # importlib.util.MAGIC_NUMBER of CPython 3.11
UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, source not checked


def installed(site: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for metadata in site.glob("*.dist-info/METADATA"):
        fields = dict(
            line.split(": ", 1)
            for line in metadata.read_text(encoding="utf-8").splitlines()[:20]
            if ": " in line
        )
        found[canonical(fields["Name"])] = fields["Version"]
    return found


def bytecode_problems(site: Path) -> list[str]:
    problems = []
    for source in site.rglob("*.py"):
        compiled = source.parent / "__pycache__" / f"{source.stem}.cpython-311.pyc"
        if not compiled.is_file():
            problems.append(f"no bytecode for {source.relative_to(site)}")
            continue
        header = compiled.read_bytes()[:8]
        if header[:4] != CPYTHON_311_MAGIC or int.from_bytes(header[4:8], "little") != UNCHECKED_HASH:
            problems.append(f"{compiled.relative_to(site)} is not CPython 3.11 unchecked-hash bytecode")
    return problems


def layer_problems(build: Path, logical_id: str, layer: str) -> list[str]:
    site = build / logical_id / "python"
    if not site.is_dir():
        return [f"{logical_id}: not built ({site} is missing)"]
    problems = []
    tested = pins(CONSTRAINTS)
    locked = pins(lock_path(layer))
    shipped = installed(site)
    for name in sorted(set(locked) | set(shipped)):
        where = f"{logical_id}: {name}"
        if name not in shipped:
            problems.append(f"{where} {locked[name]} is locked but not installed")
        elif name not in locked:
            problems.append(f"{where} {shipped[name]} is installed but not in the lock")
        elif shipped[name] != locked[name]:
            problems.append(f"{where} {shipped[name]} installed, {locked[name]} locked")
        elif tested.get(name) != shipped[name]:
            problems.append(f"{where} {shipped[name]} installed, {tested.get(name)} tested (constraints.txt)")
    for name in NEVER_SHIPPED:
        if (site / name).exists():
            problems.append(f"{logical_id}: ships {name}")
    if layer == "adapters":
        allowed = set()
        for module in read_list(LAYERS_DIR / "adapters" / "ccxt-modules.txt"):
            relative = Path(*module.split("."))
            allowed.add(
                relative / "__init__.py" if (site / relative).is_dir() else relative.with_suffix(".py")
            )
        for source in sorted((site / "ccxt").rglob("*.py")):
            if source.relative_to(site) not in allowed:
                problems.append(f"{logical_id}: ships {source.relative_to(site)}, not in ccxt-modules.txt")
    problems += [f"{logical_id}: {problem}" for problem in bytecode_problems(site)]
    return problems


def main(argv: list[str]) -> int:
    build = Path(argv[0] if argv else ".aws-sam/build")
    problems = [
        problem
        for logical_id, layer in BUILT_LAYERS.items()
        for problem in layer_problems(build, logical_id, layer)
    ]
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{', '.join(BUILT_LAYERS)} in {build}: the locked, tested versions, trimmed and compiled")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
