"""Trims an installed layer (``$(ARTIFACTS_DIR)/python``) to what the functions import; the layer Makefiles call it.

    python layers/trim.py keep-modules SITE PACKAGE LIST   # only LIST's modules of PACKAGE stay
    python layers/trim.py keep-services SITE LIST          # only LIST's botocore service models stay
    python layers/trim.py drop SITE PATH...                # remove these paths under SITE
    python layers/trim.py lazy-init SITE PACKAGE...        # these packages import their names on first use

A LIST file has one entry a line; ``#`` starts a comment. Standard library only: it runs with the build's
Python before anything is installed for it.
"""

from __future__ import annotations

import ast
import shutil
import sys
from pathlib import Path


def read_list(path: Path) -> list[str]:
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            entries.append(entry)
    return entries


def keep_modules(site: Path, package: str, modules: list[str]) -> None:
    """Every ``.py`` of ``package`` that no listed module (``ccxt.base.errors``) names is removed, and
    so is every other file in it (data, native helpers of code that is gone)."""
    keep: set[Path] = set()
    for module in modules:
        if module != package and not module.startswith(package + "."):
            raise SystemExit(f"{module} is not in {package}")
        relative = Path(*module.split("."))
        if (site / relative).is_dir():
            keep.add(relative / "__init__.py")
        else:
            keep.add(relative.with_suffix(".py"))
    missing = sorted(str(path) for path in keep if not (site / path).is_file())
    if missing:
        raise SystemExit(f"listed but not installed: {', '.join(missing)}")
    root = site / package
    for path in sorted(root.rglob("*"), reverse=True):
        if path.is_file() and path.relative_to(site) not in keep:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def keep_services(site: Path, services: list[str]) -> None:
    data = site / "botocore" / "data"
    unknown = sorted(name for name in services if not (data / name).is_dir())
    if unknown:
        raise SystemExit(f"botocore has no service model named {', '.join(unknown)}")
    for path in data.iterdir():
        if path.is_dir() and path.name not in services:
            shutil.rmtree(path)


def drop(site: Path, paths: list[str]) -> None:
    for relative in paths:
        path = site / relative
        if not path.exists():
            raise SystemExit(f"nothing to drop at {path}")
        shutil.rmtree(path) if path.is_dir() else path.unlink()


LAZY_INIT = '''"""{doc}

Rewritten by layers/trim.py lazy-init: each name is imported from its module on first use (PEP 562), not all
of them when the package is imported; the names, ``__all__`` and the modules are the package's own."""

import importlib
{eager}
__all__ = {names!r}
_SOURCES = {sources!r}


def __getattr__(name):
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module {{__name__!r}} has no attribute {{name!r}}")
    value = getattr(importlib.import_module(source, __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({{*globals(), *_SOURCES}})
'''


def lazy_init(site: Path, package: str) -> None:
    """Rewrites ``package/__init__.py``, which must only re-export names (a docstring, ``from M import N``
    and ``__all__``: anything else fails the build), so that a function importing one of its modules
    (``aws_lambda_powertools.event_handler.api_gateway``) no longer imports all the others with it."""
    path = site / Path(*package.split(".")) / "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    doc, sources, names = ast.get_docstring(tree) or package, {}, None
    for node in tree.body:
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            continue
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and not any(a.asname or a.name == "*" for a in node.names)
        ):
            module = "." * node.level + node.module
            sources.update({alias.name: module for alias in node.names})
        elif (
            isinstance(node, ast.Assign)
            and [getattr(t, "id", None) for t in node.targets] == ["__all__"]
            and isinstance(node.value, ast.List | ast.Tuple)
        ):
            names = [ast.literal_eval(element) for element in node.value.elts]
        else:
            raise SystemExit(f"{path}:{node.lineno}: not a plain re-export; lazy-init would change it")
    if names is None or set(names) - set(sources):
        raise SystemExit(f"{path}: __all__ is missing or names what it does not import")
    if '"""' in doc or "\\" in doc:
        raise SystemExit(f"{path}: its docstring cannot be copied as it is")
    # A name that is also a submodule (data_classes' ``event_source``) is imported now, as before: left to
    # __getattr__, importing the submodule would bind the module to that name instead.
    folder = path.parent
    eager = {
        name: module
        for name, module in sources.items()
        if (folder / f"{name}.py").is_file() or (folder / name / "__init__.py").is_file()
    }
    lines = "".join(f"from {module} import {name}\n" for name, module in eager.items())
    lazy = {name: module for name, module in sources.items() if name not in eager}
    path.write_text(
        LAZY_INIT.format(doc=doc.strip(), eager=lines, names=names, sources=lazy), encoding="utf-8"
    )


def main(argv: list[str]) -> None:
    command, site, *rest = argv
    if command == "keep-modules":
        package, listing = rest
        keep_modules(Path(site), package, read_list(Path(listing)))
    elif command == "keep-services":
        (listing,) = rest
        keep_services(Path(site), read_list(Path(listing)))
    elif command == "drop":
        drop(Path(site), rest)
    elif command == "lazy-init":
        for package in rest:
            lazy_init(Path(site), package)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
