"""Builds the template's layers as ``sam build`` does, without sam: for the benchmarks and for a look inside.

    python layers/build_local.py OUT [ARCH]     # OUT/<LogicalId>/python for every makefile layer

Like sam's makefile builder: the layer's ContentUri is copied to a scratch folder, and
``make -f <ContextPath or ContentUri>/Makefile build-<LogicalId>`` runs there with ARTIFACTS_DIR set.
ARCH is ``aarch64`` (template.yaml's arm64, what deploys) or ``x86_64`` (to import the layers on an
x86_64 machine); the versions are the same, from the same hashed locks.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def makefile_layers(resources: Mapping[str, Any]) -> dict[str, tuple[Path, Path]]:
    """Each makefile-built layer of the template: its ContentUri and the folder of its Makefile."""
    found = {}
    for logical_id, resource in resources.items():
        metadata = resource.get("Metadata", {})
        if (
            resource.get("Type") == "AWS::Serverless::LayerVersion"
            and metadata.get("BuildMethod") == "makefile"
        ):
            content = PROJECT_ROOT / resource["Properties"]["ContentUri"]
            found[logical_id] = (content, PROJECT_ROOT / metadata.get("ContextPath", content))
    return found


def function_layers(document: Mapping[str, Any], logical_id: str) -> list[str]:
    """The logical ids of a function's layers, the Globals' first, as Lambda stacks them."""
    refs = [
        *document.get("Globals", {}).get("Function", {}).get("Layers", []),
        *document["Resources"][logical_id]["Properties"].get("Layers", []),
    ]
    return [ref["Ref"] for ref in refs]


def build_layers(resources: Mapping[str, Any], out: Path, arch: str | None = None) -> dict[str, Path]:
    """Builds every makefile layer into ``out/<LogicalId>``; returns each layer's ``python`` folder."""
    arch = arch or platform.machine()
    make = shutil.which("make")
    if make is None:
        raise RuntimeError("the layers build with make, which is not on PATH")
    built = {}
    for logical_id, (content, makefile_dir) in makefile_layers(resources).items():
        artifacts = out / logical_id
        with tempfile.TemporaryDirectory() as scratch:
            source = Path(scratch) / "source"
            shutil.copytree(content, source, ignore=shutil.ignore_patterns("__pycache__", ".aws-sam"))
            subprocess.run(  # noqa: S603 - make, with this project's Makefiles
                [
                    make,
                    "--no-print-directory",
                    "-s",
                    "-f",
                    str(makefile_dir / "Makefile"),
                    f"build-{logical_id}",
                    f"ARTIFACTS_DIR={artifacts}",
                    f"ARCH={arch}",
                    f"PYTHON={sys.executable}",
                ],
                cwd=source,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        built[logical_id] = artifacts / "python"
    return built


def _template_resources() -> dict[str, Any]:
    sys.path.insert(0, str(PROJECT_ROOT))
    from local.template import load_template

    return dict(load_template().resources)


if __name__ == "__main__":
    target, *rest = sys.argv[1:]
    for logical_id, site in build_layers(_template_resources(), Path(target).resolve(), *rest).items():
        print(f"{logical_id}: {site}")
