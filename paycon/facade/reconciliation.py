"""How much reconciliation the operator facade reads at once."""

from __future__ import annotations

RUNS_SHOWN = 50
BREAKS_SHOWN = 200
