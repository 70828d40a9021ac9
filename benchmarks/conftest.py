"""Benchmarks run with `make bench`; they report numbers and fail only when a target is missed.

Every benchmark adds its figures to one table through the ``bench_report`` fixture:

    bench_report.add("Manual order, 3 take-profits: exchange requests", target="<= 7", measured="7",
                     ratio=7 / 7, met=True)

At the end of the run the table is printed and, with ``--benchmarks-doc PATH`` (``make bench`` passes
``docs/benchmarks.md``), written there, so a reader sees where the project stands without running it.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Figure:
    figure: str
    target: str
    measured: str
    ratio: str
    met: bool


@dataclass
class BenchReport:
    figures: list[Figure] = field(default_factory=list)

    def add(self, figure: str, target: str, measured: str, ratio: float | str | None, met: bool) -> None:
        """``ratio``: measured against the target (or the comparison the target names), e.g. 0.42."""
        shown = f"{ratio:.2f}" if isinstance(ratio, float) else "" if ratio is None else str(ratio)
        self.figures.append(Figure(figure, target, measured, shown, met))

    def table(self) -> str:
        rows = [
            "| Figure | Target | Measured | Ratio | Met |",
            "|---|---|---|---|---|",
            *(
                f"| {f.figure} | {f.target} | {f.measured} | {f.ratio} | {'yes' if f.met else '**no**'} |"
                for f in self.figures
            ),
        ]
        return "\n".join(rows)


_REPORT = BenchReport()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--benchmarks-doc", default=None, help="write the table of figures to this Markdown file"
    )


@pytest.fixture(scope="session")
def bench_report() -> BenchReport:
    return _REPORT


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _REPORT.figures:
        return
    table = _REPORT.table()
    print("\n\n" + table)
    target = session.config.getoption("--benchmarks-doc")
    if target:
        header = (
            "# Benchmarks\n\n"
            "Written by `make bench` (every figure measured in the same run; ratios compare the measured\n"
            "value with its target or with the figure the target names). Run it again to refresh.\n\n"
            f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, Python {platform.python_version()}, "
            f"{platform.machine()}, {os.cpu_count()} cores.\n\n"
        )
        Path(target).write_text(header + table + "\n", encoding="utf-8")
