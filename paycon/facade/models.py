"""What the console and the CLI read: frozen records built from the operator API's JSON.

Both facades (in-process and HTTP) produce these from the same JSON views the
API answers with, so the console shows the same thing whichever it is attached
through. Amounts stay ``Decimal``; times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def parse_time(text: str | None) -> datetime | None:
    """An RFC 3339 time from the API (``...Z``) as an aware datetime, or None."""
    if text is None:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _time(text: str) -> datetime:
    moment = parse_time(text)
    assert moment is not None
    return moment


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a newest-first list, and where the next one starts (None: no more)."""

    items: tuple[T, ...]
    next_cursor: str | None


@dataclass(frozen=True)
class ReviewView:
    """Why a payment is held for review, what was said last, and since when."""

    reason: str
    detail: str
    since: datetime

    @classmethod
    def from_json(cls, body: Mapping[str, Any] | None) -> ReviewView | None:
        if body is None:
            return None
        return cls(body["reason"], body["detail"], _time(body["since"]))


@dataclass(frozen=True)
class TransactionSummary:
    """A transaction as lists show it (account data already masked by the server)."""

    id: str
    kind: str
    status: str
    customer_id: str
    amount: Decimal
    currency: str
    country: str
    gateway: str
    reference: str | None
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime
    review: ReviewView | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> TransactionSummary:
        return cls(
            id=body["id"],
            kind=body["kind"],
            status=body["status"],
            customer_id=body["customer_id"],
            amount=Decimal(body["amount"]),
            currency=body["currency"],
            country=body["country"],
            gateway=body["gateway"],
            reference=body.get("reference"),
            failure_reason=body.get("failure_reason"),
            created_at=_time(body["created_at"]),
            updated_at=_time(body["updated_at"]),
            review=ReviewView.from_json(body.get("review")),
        )


@dataclass(frozen=True)
class TimelineEvent:
    """One entry of a transaction's timeline."""

    at: datetime
    type: str
    detail: str
    actor: str

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> TimelineEvent:
        return cls(_time(body["at"]), body["type"], body["detail"], body["actor"])


@dataclass(frozen=True)
class LedgerLine:
    """One movement a transaction made on a customer's balance (``bucket``: available|held)."""

    at: datetime
    customer_id: str
    currency: str
    bucket: str
    delta: Decimal
    reason: str

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> LedgerLine:
        return cls(
            at=_time(body["at"]),
            customer_id=body["customer_id"],
            currency=body["currency"],
            bucket=body["bucket"],
            delta=Decimal(body["delta"]),
            reason=body["reason"],
        )


@dataclass(frozen=True)
class TaskSummary:
    """An outbox task as lists show it; the payload is masked by the server."""

    id: int
    kind: str
    state: str
    attempts: int
    max_attempts: int
    run_at: datetime
    dedupe_key: str | None
    lease_owner: str | None
    last_error: str | None
    payload: Mapping[str, Any]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> TaskSummary:
        return cls(
            id=int(body["id"]),
            kind=body["kind"],
            state=body["state"],
            attempts=int(body["attempts"]),
            max_attempts=int(body["max_attempts"]),
            run_at=_time(body["run_at"]),
            dedupe_key=body.get("dedupe_key"),
            lease_owner=body.get("lease_owner"),
            last_error=body.get("last_error"),
            payload=dict(body.get("payload") or {}),
            created_at=_time(body["created_at"]),
            updated_at=_time(body["updated_at"]),
        )


@dataclass(frozen=True)
class TransactionDetail:
    """A transaction with its timeline, the balance movements it made and its outbox tasks."""

    transaction: TransactionSummary
    events: tuple[TimelineEvent, ...]
    ledger: tuple[LedgerLine, ...]
    tasks: tuple[TaskSummary, ...]


@dataclass(frozen=True)
class AttemptView:
    """One run of a task: when, how it ended, the error, how long it took."""

    number: int
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None
    error_class: str | None
    error_message: str | None
    duration_ms: int | None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> AttemptView:
        return cls(
            number=int(body["number"]),
            started_at=_time(body["started_at"]),
            finished_at=parse_time(body.get("finished_at")),
            outcome=body.get("outcome"),
            error_class=body.get("error_class"),
            error_message=body.get("error_message"),
            duration_ms=body.get("duration_ms"),
        )


@dataclass(frozen=True)
class AuditView:
    """One audited operator action: when, who, what and why."""

    at: datetime
    actor: str
    action: str
    reason: str | None
    detail: str | None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> AuditView:
        return cls(
            at=_time(body["at"]),
            actor=body["actor"],
            action=body["action"],
            reason=body.get("reason"),
            detail=body.get("detail"),
        )


@dataclass(frozen=True)
class MatchingTasks:
    """How many tasks a filtered replay would take, counted ``as_of`` then.

    A replay given ``as_of`` leaves out tasks changed since, so it never takes
    more than ``count``.
    """

    count: int
    as_of: datetime

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> MatchingTasks:
        return cls(count=int(body["matching"]), as_of=_time(body["as_of"]))


@dataclass(frozen=True)
class TaskDetailView:
    """A task with its attempts and audit trail, both oldest first."""

    task: TaskSummary
    attempts: tuple[AttemptView, ...]
    audit: tuple[AuditView, ...]

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> TaskDetailView:
        return cls(
            task=TaskSummary.from_json(body),
            attempts=tuple(AttemptView.from_json(a) for a in body.get("attempts_log", ())),
            audit=tuple(AuditView.from_json(e) for e in body.get("audit", ())),
        )


@dataclass(frozen=True)
class OutboxFigures:
    """Counts by state (pending, running, done, dead), backlog (work due: pending tasks due
    by now and running ones), oldest due age, throughput, and ``scheduled``: pending tasks
    not due yet, which are not backlog."""

    counts: Mapping[str, int]
    backlog: int
    oldest_due_age_s: float | None
    done_per_s: float
    window_s: float
    scheduled: int = 0

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> OutboxFigures:
        return cls(
            counts={k: int(v) for k, v in body["counts"].items()},
            backlog=int(body["backlog"]),
            oldest_due_age_s=body.get("oldest_due_age_s"),
            done_per_s=float(body["done_per_s"]),
            window_s=float(body["window_s"]),
            scheduled=int(body.get("scheduled", 0)),
        )


@dataclass(frozen=True)
class BreakerView:
    """A gateway's circuit breaker: ``state`` is closed, open or half_open.

    ``failures`` counts consecutive failures, failed trials included (so it passes
    ``fail_max`` while open); ``opened_at`` is when it last (re)opened,
    ``may_half_open_at`` when an open one lets the next trial through,
    ``open_since`` when it first opened without closing since, and
    ``failed_trials`` how many trials failed since then.
    """

    state: str
    failures: int
    fail_max: int
    opened_at: datetime | None
    may_half_open_at: datetime | None
    open_since: datetime | None = None
    failed_trials: int = 0

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> BreakerView:
        return cls(
            state=body["state"],
            failures=int(body["failures"]),
            fail_max=int(body["fail_max"]),
            opened_at=parse_time(body.get("opened_at")),
            may_half_open_at=parse_time(body.get("may_half_open_at")),
            open_since=parse_time(body.get("open_since")),
            failed_trials=int(body.get("failed_trials", 0)),
        )


@dataclass(frozen=True)
class GatewayFigures:
    """A gateway's recent calls: how many, share that succeeded, latency, outcomes by name."""

    calls: int
    success_rate: float | None
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    outcomes: Mapping[str, int]

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> GatewayFigures:
        return cls(
            calls=int(body["calls"]),
            success_rate=body.get("success_rate"),
            latency_p50_ms=body.get("latency_p50_ms"),
            latency_p99_ms=body.get("latency_p99_ms"),
            outcomes=dict(body.get("outcomes") or {}),
        )


@dataclass(frozen=True)
class GatewayStatus:
    """One gateway as operators see it.

    ``enabled`` is False when an operator took it out of routing for new
    payments. ``faults`` holds the embedded mock gateway's fault settings, or
    None when the gateway is not an embedded mock (then faults cannot be
    switched from the console). ``recent_errors`` are the last error messages
    of its calls, newest first. ``routing_changes`` and ``fault_changes`` are
    the latest audited routing switches and (embedded mocks only) fault
    switches, newest first; a fault switch's ``detail`` says each value before
    and after.
    """

    name: str
    protocol: str
    enabled: bool
    breaker: BreakerView
    recent: GatewayFigures
    recent_errors: tuple[str, ...] = ()
    # Since when the gateway refuses our credentials (401/403); None while it accepts them.
    credentials_refused_since: datetime | None = None
    faults: Mapping[str, Any] | None = None
    routing_changes: tuple[AuditView, ...] = field(default=())
    fault_changes: tuple[AuditView, ...] = field(default=())

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> GatewayStatus:
        faults = body.get("faults")
        return cls(
            name=body["name"],
            protocol=body["protocol"],
            enabled=bool(body.get("enabled", True)),
            breaker=BreakerView.from_json(body["breaker"]),
            recent=GatewayFigures.from_json(body["recent"]),
            recent_errors=tuple(body.get("recent_errors") or ()),
            credentials_refused_since=_time(refused)
            if (refused := body.get("credentials_refused_since"))
            else None,
            faults=None if faults is None else dict(faults),
            routing_changes=tuple(
                AuditView.from_json(e) for e in body.get("routing_changes") or ()
            ),
            fault_changes=tuple(AuditView.from_json(e) for e in body.get("fault_changes") or ()),
        )


@dataclass(frozen=True)
class Traffic:
    """Payment requests this process answered over the last ``window_s`` seconds.

    ``payments_per_s`` counts accepted payments (2xx answers to POST
    deposits/withdrawals); ``error_rate`` is the share of those requests
    answered 4xx or 5xx (None when there were none).
    """

    payments_per_s: float
    error_rate: float | None
    window_s: float

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Traffic:
        return cls(
            payments_per_s=float(body["payments_per_s"]),
            error_rate=body.get("error_rate"),
            window_s=float(body["window_s"]),
        )


@dataclass(frozen=True)
class Overview:
    """Everything the dashboard shows except the live transactions, in one read.

    ``held_for_review`` counts the payments waiting for a person's decision.
    """

    at: datetime
    traffic: Traffic
    outbox: OutboxFigures
    gateways: tuple[GatewayStatus, ...]
    held_for_review: int
    # Broken ledger invariants found by the service's last check (None: not checked yet).
    ledger_breaks: int | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Overview:
        return cls(
            at=_time(body["at"]),
            traffic=Traffic.from_json(body["traffic"]),
            outbox=OutboxFigures.from_json(body["outbox"]),
            gateways=tuple(GatewayStatus.from_json(g) for g in body["gateways"]),
            held_for_review=int(body["held_for_review"]),
            ledger_breaks=body.get("ledger_breaks"),
        )


@dataclass(frozen=True)
class TransactionQuery:
    """Filters of the transactions list; None means any."""

    status: str | None = None
    kind: str | None = None
    gateway: str | None = None
    customer_id: str | None = None
    # Only payments held for review (an operator's view).
    review: bool = False


@dataclass(frozen=True)
class TaskQuery:
    """Filters of the outbox task list; None means any. ``gateway`` only with submit tasks."""

    state: str | None = None
    kind: str | None = None
    gateway: str | None = None
