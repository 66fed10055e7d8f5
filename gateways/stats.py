"""Recent outcomes of one gateway's calls: success rate and latency over the last N.

The operator API and the console read ``GatewayStats`` snapshots; the window is
a plain bounded deque, so recording is O(1) and a snapshot sorts at most N
latencies.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Outcome = Literal[
    "answered",
    "declined",
    "not_reached",
    "transient",
    "ambiguous",
    "protocol_error",
    "server_error",
    "request_refused",
    "credentials_refused",
]
# The gateway did its job in these: it answered coherently, even if the answer was "no".
HEALTHY_OUTCOMES: frozenset[Outcome] = frozenset({"answered", "declined"})


@dataclass(frozen=True)
class GatewayStats:
    """Outcomes of the last ``calls`` calls (at most ``window_size``).

    ``success_rate`` is the share that got a coherent answer (declines included:
    the gateway worked); it and the latencies are ``None`` before the first call.
    ``credentials_refused_since`` (aware UTC) is when the gateway began refusing
    our credentials (401/403), ``None`` while it accepts them: set by the first
    refusal, cleared by the next 2xx answer.
    """

    window_size: int
    calls: int
    success_rate: float | None
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    outcomes: dict[str, int]
    credentials_refused_since: datetime | None = None


class OutcomeWindow:
    """The last ``size`` call outcomes with their latencies."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("the window must hold at least one call")
        self._size = size
        self._calls: deque[tuple[Outcome, float]] = deque(maxlen=size)

    def record(self, outcome: Outcome, latency_ms: float) -> None:
        """Add one call; the oldest falls out once the window is full."""
        self._calls.append((outcome, latency_ms))

    def snapshot(self, *, credentials_refused_since: datetime | None = None) -> GatewayStats:
        """The stats over the calls in the window now, with the credentials state given."""
        outcomes = Counter(outcome for outcome, _ in self._calls)
        latencies_ms = sorted(latency_ms for _, latency_ms in self._calls)
        healthy = sum(outcomes[outcome] for outcome in HEALTHY_OUTCOMES)
        calls = len(self._calls)
        return GatewayStats(
            window_size=self._size,
            calls=calls,
            success_rate=healthy / calls if calls else None,
            latency_p50_ms=percentile(latencies_ms, 50),
            latency_p99_ms=percentile(latencies_ms, 99),
            outcomes={str(outcome): count for outcome, count in outcomes.items()},
            credentials_refused_since=credentials_refused_since,
        )


def percentile(sorted_values: Sequence[float], rank: float) -> float | None:
    """The nearest-rank percentile of ascending ``sorted_values`` (``None`` when empty).

    Nearest rank always answers a value that was observed, which is what an
    operator reading "p99 latency" expects from a few hundred calls.
    """
    if not sorted_values:
        return None
    if not 0 < rank <= 100:
        raise ValueError("rank must be in (0, 100]")
    index = max(math.ceil(rank / 100 * len(sorted_values)) - 1, 0)
    return sorted_values[index]
