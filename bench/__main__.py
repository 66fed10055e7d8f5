"""``python -m bench``: every benchmark, each against its own baseline measured in the same run."""

from __future__ import annotations

import importlib
import importlib.util

BENCHMARKS = (
    "bench.accept",
    "bench.outbox",
    "bench.hot_queries",
    "bench.e2e",
    "bench.console",
)

for name in BENCHMARKS:
    if importlib.util.find_spec(name) is None:
        continue
    module = importlib.import_module(name)
    module.main()
    print()
