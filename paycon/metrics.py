"""In-process figures: a traffic window for the dashboard and counters for Prometheus.

Prometheus' text format is written by ``prometheus-client``.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

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


# How gateway breakers are exposed: a number per state.
BREAKER_STATES = {"closed": 0, "half_open": 1, "open": 2}
TRANSACTION_STATUSES = ("pending", "submitted", "completed", "failed")


class Metrics:
    """This process's figures, kept as things happen, in a Prometheus registry of its own.

    Counting is cheap enough for every request. ``/metrics`` renders the
    registry (``exposition``) after setting the few figures read when it is
    scraped (``observe_scrape``); nothing there grows with the number of
    transactions.
    """

    def __init__(self, *, traffic: TrafficWindow | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        # Plain tallies too, for the process's own readers (tests, the overview).
        self.requests: collections.Counter[tuple[str, str, int]] = collections.Counter()
        self.callbacks: collections.Counter[tuple[str, str]] = collections.Counter()
        self.traffic = traffic or TrafficWindow()
        self._by_status: collections.Counter[str] = collections.Counter()
        r = self.registry
        self._requests = Counter(
            "paycon_http_requests", "HTTP requests answered, by route and status",
            ["method", "route", "status"], registry=r,
        )  # fmt: skip
        self._callbacks = Counter(
            "paycon_callbacks", "Gateway callbacks received, by outcome",
            ["gateway", "outcome"], registry=r,
        )  # fmt: skip
        self._transactions = Gauge(
            "paycon_transactions",
            "Transactions by status: counted from the database at start, then moved by "
            "this process's changes",
            ["status"], registry=r,
        )  # fmt: skip
        self._entered = Counter(
            "paycon_transaction_status_changes",
            "Transactions that entered each status in this process (accepted: pending)",
            ["status"], registry=r,
        )  # fmt: skip
        for status in TRANSACTION_STATUSES:
            self._transactions.labels(status)
            self._entered.labels(status)
        self.outbox_tasks = Gauge(
            "paycon_outbox_tasks", "Outbox tasks by state", ["state"], registry=r
        )
        self.outbox_oldest_due_age_s = Gauge(
            "paycon_outbox_oldest_due_age_seconds", "How long the oldest due task has waited",
            registry=r,
        )  # fmt: skip
        self.outbox_done_per_s = Gauge(
            "paycon_outbox_done_per_second", "Tasks done per second over the last minute",
            registry=r,
        )  # fmt: skip
        self.task_duration_ms = Gauge(
            "paycon_outbox_task_duration_ms", "Handler run time of the newest attempts",
            ["quantile"], registry=r,
        )  # fmt: skip
        self.breaker_state = Gauge(
            "paycon_gateway_breaker_state", "Circuit breaker: 0 closed, 1 half-open, 2 open",
            ["gateway"], registry=r,
        )  # fmt: skip
        self.breaker_failures = Gauge(
            "paycon_gateway_breaker_failures", "Consecutive failures counted by the breaker",
            ["gateway"], registry=r,
        )  # fmt: skip
        self.gateway_success_ratio = Gauge(
            "paycon_gateway_success_ratio", "Share of recent gateway calls that got an answer",
            ["gateway"], registry=r,
        )  # fmt: skip
        self.gateway_credentials_refused = Gauge(
            "paycon_gateway_credentials_refused",
            "1 while the gateway refuses paycon's credentials (401/403); its payments wait",
            ["gateway"], registry=r,
        )  # fmt: skip
        self.held_for_review = Gauge(
            "paycon_transactions_held_for_review",
            "Payments held for an operator's decision (GET /v1/transactions?review=true)",
            registry=r,
        )
        self.ledger_breaks = Gauge(
            "paycon_ledger_breaks",
            "Broken ledger invariants found by the last check (paycon ledger verify lists them)",
            registry=r,
        )
        # The same figure for the overview; None until the first check has run.
        self.ledger_breaks_found: int | None = None
        self.gateway_latency_ms = Gauge(
            "paycon_gateway_latency_ms", "Latency of recent gateway calls",
            ["gateway", "quantile"], registry=r,
        )  # fmt: skip

    def report_ledger_breaks(self, count: int) -> None:
        """The ledger check found ``count`` breaks."""
        self.ledger_breaks_found = count
        self.ledger_breaks.set(count)

    def count_request(self, method: str, route: str, status: int) -> None:
        self.requests[(method, route, status)] += 1
        self._requests.labels(method, route, str(status)).inc()
        if method == "POST" and route in PAYMENT_ROUTES:
            self.traffic.count(status)

    def count_callback(self, gateway: str, outcome: str) -> None:
        self.callbacks[(gateway, outcome)] += 1
        self._callbacks.labels(gateway, outcome).inc()

    def seed_statuses(self, counts: Mapping[str, int]) -> None:
        """Transactions by status as the database holds them (once, at start)."""
        for status in TRANSACTION_STATUSES:
            self._set_status(status, counts.get(status, 0))

    def count_status_change(self, before: str | None, after: str) -> None:
        """A committed change: a new transaction (``before`` None) or a status move."""
        if before is not None:
            self._set_status(before, self._by_status[before] - 1)
        self._set_status(after, self._by_status[after] + 1)
        self._entered.labels(after).inc()

    def _set_status(self, status: str, count: int) -> None:
        self._by_status[status] = count
        self._transactions.labels(status).set(count)

    def transactions(self) -> dict[str, int]:
        """Transactions by status as this process counts them."""
        return dict(self._by_status)

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)
