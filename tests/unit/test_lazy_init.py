"""layers/trim.py lazy-init: the Powertools packages the core layer rewrites keep their names, import a
name's module only when it is used, and a package that does more than re-export fails the build."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import aws_lambda_powertools
import pytest

from layers import trim

# What layers/core/Makefile rewrites.
LAZY = [
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.data_classes",
    "aws_lambda_powertools.utilities.batch",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tested Powertools, copied and rewritten as the layer build does."""
    root = tmp_path_factory.mktemp("site")
    shutil.copytree(
        Path(aws_lambda_powertools.__file__).parent,
        root / "aws_lambda_powertools",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    for package in LAZY:
        trim.lazy_init(root, package)
    return root


def _run(site: Path, code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(site)!r}); {code}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize("package", LAZY)
def test_every_name_the_package_exported_is_still_there(site: Path, package: str) -> None:
    original = _run(Path("/nonexistent"), f"import {package} as p; print(sorted(p.__all__))")
    rewritten = _run(
        site,
        f"import {package} as p; assert p.__file__.startswith({str(site)!r}); "
        "[getattr(p, name) for name in p.__all__]; print(sorted(p.__all__))",
    )
    assert rewritten == original


def test_importing_the_rest_resolver_no_longer_loads_appsync_nor_asyncio(site: Path) -> None:
    loaded = _run(
        site,
        "from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver; "
        "from aws_lambda_powertools.event_handler import Response; "
        "print('aws_lambda_powertools.event_handler.appsync' in sys.modules, 'asyncio' in sys.modules)",
    )
    assert loaded == "False False"


def test_a_name_is_imported_from_its_own_module(site: Path) -> None:
    same = _run(
        site,
        "from aws_lambda_powertools.utilities.data_classes import SQSRecord; "
        "from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord as Direct; "
        "print(SQSRecord is Direct)",
    )
    assert same == "True"


def test_a_name_that_is_also_a_submodule_stays_the_name_not_the_module(site: Path) -> None:
    kinds = _run(
        site,
        "import aws_lambda_powertools.utilities.data_classes.event_source; "
        "from aws_lambda_powertools.utilities.data_classes import event_source; "
        "print(callable(event_source), type(event_source).__name__ != 'module')",
    )
    assert kinds == "True True"


def test_an_unknown_name_is_an_attribute_error(site: Path) -> None:
    assert (
        _run(
            site,
            "import aws_lambda_powertools.event_handler as p; print(getattr(p, 'Nothing', 'missing'))",
        )
        == "missing"
    )


def test_a_package_init_that_does_more_than_re_export_fails_the_build(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text('from .a import A\n__all__ = ["A"]\nSETUP = run()\n')
    with pytest.raises(SystemExit, match="not a plain re-export"):
        trim.lazy_init(tmp_path, "pkg")
    (package / "__init__.py").write_text('from .a import A\n__all__ = ["A", "B"]\n')
    with pytest.raises(SystemExit, match="names what it does not import"):
        trim.lazy_init(tmp_path, "pkg")
