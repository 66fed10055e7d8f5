"""Shared test setup: keep each test away from the developer's own config and data."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["tests.paycon_fixtures"]


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in tmp_path without PAYCON_* variables, so data/ and the shell's settings stay out."""
    for name in list(os.environ):
        if name.startswith("PAYCON_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def _heap_unfrozen() -> Iterator[None]:
    """Undo ``paycon.heap.settle`` after a test that started paycon's session, so what the
    test left behind can still be collected."""
    yield
    gc.unfreeze()


pytest_plugins = [*pytest_plugins, "tests.mock_gateway_fixtures"]
