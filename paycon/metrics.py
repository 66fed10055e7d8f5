"""In-process counters, and the Prometheus text format they are exposed in."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

# The routes whose POSTs are payment requests (their traffic is what the dashboard shows).
PAYMENT_ROUTES = frozenset({"/v1/deposits", "/v1/withdrawals"})
TRAFFIC_WINDOW_S = 60


class TrafficWindow:
    """Payment requests over the last ``window_s`` seconds, in one bucket per second.

    Counting is two list updates; a snapshot sums at most ``window_s`` buckets.
    """

    def __init__(
        self, window_s: int = TRAFFIC_WINDOW_S, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if window_s < 1:
            raise ValueError("the window must be at least one second")
        self.window_s = window_s
        self._clock = clock
        self._started_s = clock()
        self._second = [-1] * window_s  # which second each bucket holds now
        self._accepted = [0] * window_s
        self._refused = [0] * window_s

    def count(self, status: int) -> None:
        """One payment request answered with ``status`` (4xx and 5xx are refusals)."""
        second = int(self._clock())
        slot = second % self.window_s
        if self._second[slot] != second:
            self._second[slot] = second
            self._accepted[slot] = 0
            self._refused[slot] = 0
        if status >= 400:
            self._refused[slot] += 1
        else:
            self._accepted[slot] += 1

    def totals(self) -> tuple[int, int]:
        """(accepted, refused) over the window, the current second included."""
        oldest = int(self._clock()) - self.window_s
        accepted = refused = 0
        for slot, second in enumerate(self._second):
            if second > oldest:
                accepted += self._accepted[slot]
                refused += self._refused[slot]
        return accepted, refused

    def as_json(self) -> dict[str, Any]:
        """``payments_per_s`` (accepted), ``error_rate`` (refused share; None without
        requests) and ``window_s`` (the window, or the process's age when it is
        younger), as the overview answers them."""
        accepted, refused = self.totals()
        answered = accepted + refused
        # A process younger than the window divides by its age, not by a full window.
        span_s = min(float(self.window_s), max(1.0, self._clock() - self._started_s))
        return {
            "payments_per_s": round(accepted / span_s, 3),
            "error_rate": round(refused / answered, 4) if answered else None,
            "window_s": round(span_s, 1),
        }


class Metrics:
    """Counters of this process since it started. Cheap enough for every request."""

    def __init__(self, *, traffic: TrafficWindow | None = None) -> None:
        self.requests: Counter[tuple[str, str, int]] = Counter()
        self.callbacks: Counter[tuple[str, str]] = Counter()
        self.traffic = traffic or TrafficWindow()

    def count_request(self, method: str, route: str, status: int) -> None:
        self.requests[(method, route, status)] += 1
        if method == "POST" and route in PAYMENT_ROUTES:
            self.traffic.count(status)

    def count_callback(self, gateway: str, outcome: str) -> None:
        self.callbacks[(gateway, outcome)] += 1


def _escape(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: Mapping[str, object]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{name}="{_escape(value)}"' for name, value in labels.items()) + "}"


class Exposition:
    """Builds one Prometheus text exposition, family by family."""

    def __init__(self) -> None:
        self._lines: list[str] = []

    def family(
        self,
        name: str,
        kind: str,
        help_text: str,
        samples: Iterable[tuple[Mapping[str, object], float | int | None]],
    ) -> None:
        self._lines.append(f"# HELP {name} {help_text}")
        self._lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            if value is not None:
                self._lines.append(f"{name}{_labels(labels)} {value}")

    def text(self) -> str:
        return "\n".join(self._lines) + "\n"
