"""The process's heap, settled once paycon has started.

What is alive once paycon has started (modules and classes, Textual's among
them when the console runs, and the service) lives until the process exits,
yet every full collection would scan it again, with the event loop the API
and the console share stopped meanwhile (the figures measured are in
docs/architecture.md). ``settle`` freezes it (``gc.freeze``), so that full
collections scan only what came later.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


def settle() -> int:
    """Collect what start-up left behind, then freeze the rest; returns how many are frozen."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.debug("heap settled: %d objects frozen", frozen)
    return frozen
