"""End-to-end tier: the local stack (`python -m local run`) started once, driven over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import RunningStack, start_stack, stop_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("local-stack"))
    yield running
    stop_stack(running)
