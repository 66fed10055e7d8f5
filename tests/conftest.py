"""Shared test setup: keep each test away from the developer's own config and data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from paycon.runtime import heap

pytest_plugins = ["tests.paycon_fixtures", "tests.mock_gateway_fixtures"]


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in tmp_path without PAYCON_* variables, so data/ and the shell's settings stay out."""
    for name in list(os.environ):
        if name.startswith("PAYCON_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True, scope="module")
def _settled_heap() -> None:
    """Before each test module, collect what earlier ones left and freeze what lives on.

    A full collection stops the event loop of whichever test triggers it, and over
    the whole suite the heap grows to some 600,000 objects: one such collection
    took 0.7 s, longer than the leases and bounds some tests use. paycon freezes
    its own heap once started (``paycon.runtime.heap``); the suite does the same for itself,
    module by module, so a collection only ever scans one module's objects.
    """
    heap.settle()
