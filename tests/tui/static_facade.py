"""A deterministic operator facade held in memory: fixed records at a fixed time.

Snapshot tests draw the console from it, so every run draws the same
screens. It keeps to ``OperatorFacade`` (mypy checks that) and its actions
change its records the way the service's would, so a screen can be drawn
before and after one. Functional tests use the real ``LocalFacade`` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from paycon.domain.errors import Conflict, FacadeUnavailable, InvalidInput, NotFound
from paycon.facade.protocol import OperatorFacade
from paycon.models.gateways import (
    BreakerOut,
    FaultChangeOut,
    FaultsOut,
    GatewayOut,
    GatewayRecentOut,
    OverviewOut,
    TrafficOut,
)
from paycon.models.outbox import (
    OutboxAttemptOut,
    OutboxAuditOut,
    OutboxCountOut,
    OutboxCountsOut,
    OutboxStatsOut,
    OutboxTaskDetailOut,
    OutboxTaskOut,
)
from paycon.models.queries import Page, TaskQuery, TransactionDetail, TransactionQuery
from paycon.models.reconciliation import (
    CurrencyTotalsOut,
    ReconciliationBreakOut,
    ReconciliationRunOut,
)
from paycon.models.transactions import (
    AccountRefOut,
    EventOut,
    LedgerLineOut,
    ReviewOut,
    TransactionOut,
)

NOW = datetime(2026, 11, 27, 9, 30, 0, tzinfo=UTC)
CUSTOMERS = ("cus_42", "cus_7", "cus_1001")
STATUSES = ("completed", "completed", "submitted", "pending", "failed", "completed")
FAILED_ERROR = "GatewayTransient: 502 from gateway_b [bold]not markup[/bold]"
# Held for review: a late failure after success, and a callback with another amount.
HELD = {
    1: ("conflicting_status", "gateway_a says failed for 25.00 EUR (R05 return)", 6),
    2: ("amount_mismatch", "gateway_b says completed for 0.01 JPY", 13),
}


def at(seconds_ago: float) -> datetime:
    return NOW - timedelta(seconds=seconds_ago)


def _transactions() -> list[TransactionOut]:
    found = []
    for n in range(24):
        status = STATUSES[n % len(STATUSES)]
        found.append(
            TransactionOut(
                id=f"tx_01STATIC{n:017d}",
                kind="withdrawal" if n % 3 == 2 else "deposit",
                status=status,
                customer_id=CUSTOMERS[n % len(CUSTOMERS)],
                amount=Decimal("12.50") * (n + 1),
                currency="EUR" if n % 4 else "GBP",
                country="DE" if n % 4 else "GB",
                gateway="gateway_a" if n % 2 else "gateway_b",
                reference=f"order-{1000 + n}" if n % 5 else None,
                notify_url=None,
                failure_reason="declined by gateway_b" if status == "failed" else None,
                created_at=at(3 + 7 * n),
                updated_at=at(1 + 7 * n),
                review=_review(n),
            )
        )
    return found


def _review(n: int) -> ReviewOut | None:
    if n not in HELD:
        return None
    reason, detail, seconds_ago = HELD[n]
    return ReviewOut(reason=reason, detail=detail, since=at(seconds_ago))


def _task(
    task_id: int, transaction: TransactionOut, state: str, *, kind: str = "submit"
) -> OutboxTaskOut:
    dead = state == "dead"
    return OutboxTaskOut(
        id=task_id,
        kind=kind,
        state=state,
        attempts=10 if dead else (1 if state in ("done", "running") else 0),
        max_attempts=10,
        run_at=at(-12) if state == "pending" and task_id % 4 == 1 else at(40),
        dedupe_key=f"{kind}:{transaction.gateway}:{transaction.id}",
        lease_owner="worker-1" if state == "running" else None,
        lease_expires_at=None,
        last_error=FAILED_ERROR if dead else None,
        payload={
            "transaction_id": transaction.id,
            "route": [transaction.gateway],
            "destination": {"iban": "DE89 **** **** 3000", "holder": "J*** D**"},
        },
        created_at=at(600 + task_id),
        updated_at=at(30 + task_id),
    )


def _tasks(transactions: list[TransactionOut]) -> list[OutboxTaskOut]:
    states = ("done", "done", "running", "pending", "dead", "pending", "dead", "done")
    return [_task(100 + n, t, states[n % len(states)]) for n, t in enumerate(transactions)]


def _runs() -> list[ReconciliationRunOut]:
    """The latest reconciliation runs, newest first: two of gateway_a's, one of gateway_b's."""

    def run(run_id: int, gateway: str, seconds_ago: float, **counts: Any) -> ReconciliationRunOut:
        figures = {"lines": 40, "matched": 38, "booked": 2, "new_breaks": 0, "open_breaks": 1,
                   **counts}  # fmt: skip
        totals = CurrencyTotalsOut(
            lines=40, gross=Decimal("1250.00"), fee=Decimal("19.75"), net=Decimal("980.25")
        )
        return ReconciliationRunOut(
            id=run_id, gateway=gateway, report_date="2026-11-27", at=at(seconds_ago),
            actor="demo", source="http://127.0.0.1:8081/_mock/settlements?date=2026-11-27",
            breaks={"reversal": 1} if gateway == "gateway_a" else {"unknown_transaction": 1},
            totals={"EUR": totals}, **figures,
        )  # fmt: skip

    return [run(12, "gateway_a", 20), run(11, "gateway_b", 21, lines=7, matched=6, booked=0),
            run(10, "gateway_a", 80, booked=38, new_breaks=1)]  # fmt: skip


def _breaks() -> list[ReconciliationBreakOut]:
    """Open breaks: a reversal of a held payment, and a line paycon never heard of."""
    return [
        ReconciliationBreakOut(
            id=8, gateway="gateway_b", kind="unknown_transaction", state="open",
            transaction_id="tx_01ELSEWHERE0000000000000", gateway_reference="GB0000000077",
            type="deposit", currency="EUR", value_date="2026-11-27",
            report_says="deposit 3.00 EUR (fee 0.00, net 3.00), GB0000000077, value date "
            "2026-11-27", paycon_says="no such payment", suspense=Decimal("-3.00"), booked=True,
            first_run_id=11, last_run_id=11, resolution=None,
        ),
        ReconciliationBreakOut(
            id=7, gateway="gateway_a", kind="reversal", state="open",
            transaction_id="tx_01STATIC00000000000000001", gateway_reference="GA0000000002",
            type="reversal", currency="EUR", value_date="2026-11-27",
            report_says="reversal 25.00 EUR (fee 0.00, net -25.00), GA0000000002, value date "
            "2026-11-27", paycon_says="completed deposit 25.00 EUR through gateway_a",
            suspense=Decimal("0.00"), booked=False, first_run_id=10, last_run_id=12,
            resolution=None,
        ),
    ]  # fmt: skip


def _gateways() -> list[GatewayOut]:
    healthy = GatewayRecentOut(
        calls=240,
        success_rate=0.9917,
        latency_p50_ms=38.0,
        latency_p99_ms=121.0,
        outcomes={"success": 238, "unavailable": 2},
    )
    failing = GatewayRecentOut(
        calls=57,
        success_rate=0.4035,
        latency_p50_ms=512.0,
        latency_p99_ms=2950.0,
        outcomes={"success": 23, "unavailable": 34},
    )
    faults = {
        "latency_ms": 0,
        "latency_jitter_ms": 0,
        "error_rate": 0.0,
        "timeout_rate": 0.0,
        "timeout_hang_ms": 0,
        "outage": False,
        "decline_rate": 0.0,
        "callback_delay_ms": 200,
        "callback_drop_rate": 0.0,
        "callback_duplicate_rate": 0.0,
        "callback_reorder": False,
    }
    return [
        GatewayOut(
            name="gateway_a",
            protocol="json",
            enabled=True,
            breaker=BreakerOut(
                state="closed", failures=0, fail_max=5, opened_at=None, may_half_open_at=None
            ),
            recent=healthy,
            recent_errors=[
                "GatewayCredentialsRefused: 401 from gateway_a",
                "GatewayUnavailable: connection reset by peer",
            ],
            # Its payments wait: a rotated secret, say (the breaker is not what holds them).
            credentials_refused_since=at(420),
            faults=FaultsOut.model_validate(faults),
            routing_changes=[],
        ),
        GatewayOut(
            name="gateway_b",
            protocol="xml",
            enabled=False,
            # Reopened 18 s ago by its second failed trial: the count has passed fail_max.
            breaker=BreakerOut(
                state="open",
                failures=7,
                fail_max=5,
                opened_at=at(18),
                may_half_open_at=at(-12),
                open_since=at(200),
                failed_trials=2,
            ),
            recent=failing,
            recent_errors=[
                "GatewayUnavailable: 503 from gateway_b",
                "GatewayUnavailable: 503 from gateway_b",
                "GatewayAmbiguous: read timeout after 5.0 s",
            ],
            credentials_refused_since=None,
            faults=FaultsOut.model_validate({**faults, "outage": "503", "error_rate": 0.3}),
            routing_changes=[
                OutboxAuditOut(
                    at=at(90),
                    actor="operator:key_ops1",
                    action="disable",
                    reason="provider incident INC-42",
                    detail=None,
                ),
            ],
            fault_changes=[
                FaultChangeOut(
                    at=at(60),
                    actor="console:alice",
                    action="faults",
                    reason="faults switched from the console",
                    detail="outage: off → 503; error_rate: 0 → 0.3",
                ),
            ],
        ),
    ]


class StaticFacade:
    """Fixed transactions, tasks and gateways; actions change them and are recorded."""

    def __init__(self) -> None:
        self.transactions_ = _transactions()
        self.tasks_ = _tasks(self.transactions_)
        self.gateways_ = _gateways()
        self.runs_ = _runs()
        self.breaks_ = _breaks()
        self.backlog = [3, 5, 9, 14, 12, 8]
        self.reads = 0
        self.overviews = 0
        self.unavailable = False
        self.calls: list[tuple[str, Any]] = []

    @property
    def where(self) -> str:
        return "static://snapshot"

    def arrive(self, at_time: datetime) -> TransactionOut:
        """A new transaction, created at ``at_time``: the newest from now on."""
        newest = self.transactions_[-1].model_copy(
            update={
                "id": f"tx_01ARRIVED{len(self.transactions_):016d}",
                "status": "pending",
                "created_at": at_time,
                "updated_at": at_time,
            }
        )
        self.transactions_.insert(0, newest)
        return newest

    def _read(self) -> None:
        if self.unavailable:
            raise FacadeUnavailable("database is locked")
        self.reads += 1

    async def overview(self) -> OverviewOut:
        self._read()
        counts = {"pending": 0, "running": 0, "dead": 0, "done": 0}
        for task in self.tasks_:
            counts[task.state] += 1
        counts["done"] += 12_480
        backlog = self.backlog[min(self.overviews, len(self.backlog) - 1)]
        scheduled = sum(1 for t in self.tasks_ if t.state == "pending" and t.run_at > NOW)
        self.overviews += 1
        return OverviewOut(
            at=NOW,
            traffic=TrafficOut(payments_per_s=14.2, error_rate=0.013, window_s=60),
            outbox=OutboxStatsOut(
                counts=OutboxCountsOut.model_validate(counts),
                backlog=backlog,
                scheduled=scheduled,
                oldest_due_age_s=12.4,
                done_per_s=13.9,
                window_s=60,
            ),
            gateways=list(self.gateways_),
            held_for_review=sum(1 for t in self.transactions_ if t.review is not None),
            ledger_breaks=None,
        )

    async def outbox_stats(self) -> OutboxStatsOut:
        return (await self.overview()).outbox

    async def transactions(
        self, query: TransactionQuery, *, limit: int = 50, cursor: str | None = None
    ) -> Page[TransactionOut]:
        self._read()
        matching = [
            t
            for t in self.transactions_
            if query.status in (None, t.status)
            and query.kind in (None, t.kind)
            and query.gateway in (None, t.gateway)
            and query.customer_id in (None, t.customer_id)
            and (not query.review or t.review is not None)
        ]
        start = int(cursor or 0)
        end = start + limit
        return Page(tuple(matching[start:end]), str(end) if end < len(matching) else None)

    async def search_transactions(
        self, text: str, *, limit: int = 50
    ) -> tuple[TransactionOut, ...]:
        self._read()
        return tuple(t for t in self.transactions_ if text in (t.id, t.reference))[:limit]

    async def transaction(self, transaction_id: str) -> TransactionDetail:
        self._read()
        found = next((t for t in self.transactions_ if t.id == transaction_id), None)
        if found is None:
            raise NotFound(f"no transaction {transaction_id}")
        events: tuple[EventOut, ...] = (
            EventOut(
                at=found.created_at,
                type="accepted",
                detail="deposit accepted",
                actor="client:key_shop",
            ),
            EventOut(
                at=found.created_at + timedelta(seconds=1),
                type="submitted",
                detail=f"{found.gateway} acknowledged",
                actor="worker",
            ),
            EventOut(
                at=found.updated_at, type=found.status, detail="callback applied", actor="gateway"
            ),
        )
        if found.review is not None:
            events += (
                EventOut(
                    at=found.review.since,
                    type="held_for_review",
                    detail=f"{found.review.reason}: {found.review.detail}",
                    actor="gateway",
                ),
            )
        ledger = (
            LedgerLineOut(
                at=found.updated_at,
                entry_id="je_static",
                customer_id=found.customer_id,
                account=AccountRefOut(holder="customer", owner=found.customer_id, name="available"),
                currency=found.currency,
                bucket="available",
                delta=found.amount,
                posting=-found.amount,
                reason="deposit completed",
            ),
        )
        tasks = tuple(
            t
            for t in self.tasks_
            if isinstance(t.payload, Mapping) and t.payload.get("transaction_id") == found.id
        )
        return TransactionDetail(found, events, ledger, tasks)

    async def tasks(
        self, query: TaskQuery, *, limit: int = 50, cursor: str | None = None
    ) -> Page[OutboxTaskOut]:
        self._read()
        matching = [
            t
            for t in sorted(self.tasks_, key=lambda t: -t.id)
            if query.state in (None, t.state)
            and query.kind in (None, t.kind)
            and (query.gateway is None or f":{query.gateway}:" in (t.dedupe_key or ""))
        ]
        start = int(cursor or 0)
        end = start + limit
        return Page(tuple(matching[start:end]), str(end) if end < len(matching) else None)

    def _find(self, task_id: int) -> OutboxTaskOut:
        found = next((t for t in self.tasks_ if t.id == task_id), None)
        if found is None:
            raise NotFound(f"no task {task_id}")
        return found

    async def task(self, task_id: int) -> OutboxTaskDetailOut:
        self._read()
        task = self._find(task_id)
        attempts = tuple(
            OutboxAttemptOut(
                number=n,
                started_at=at(400 - 30 * n),
                finished_at=at(399 - 30 * n),
                outcome="retry",
                error_class="GatewayTransient",
                error_message="502 from gateway_b",
                duration_ms=812,
            )
            for n in range(1, min(task.attempts, 3) + 1)
        )
        audit = (
            [
                OutboxAuditOut(
                    at=at(100),
                    actor="operator:key_ops1",
                    action="replay",
                    reason="gateway fixed",
                    detail=None,
                )
            ]
            if task.state == "dead"
            else []
        )
        return OutboxTaskDetailOut(**task.model_dump(), attempts_log=list(attempts), audit=audit)

    def _replace(self, task: OutboxTaskOut, **changes: Any) -> OutboxTaskOut:
        new = task.model_copy(update=changes)
        self.tasks_[self.tasks_.index(task)] = new
        return new

    async def replay(self, task_id: int, *, reason: str) -> OutboxTaskOut:
        task = self._find(task_id)
        if task.state not in ("dead", "pending"):
            raise Conflict(f"task {task_id} is {task.state}")
        self.calls.append(("replay", (task_id, reason)))
        return self._replace(task, state="pending", attempts=0, run_at=NOW)

    async def discard(self, task_id: int, *, reason: str) -> OutboxTaskOut:
        task = self._find(task_id)
        if task.state != "dead":
            raise Conflict(f"task {task_id} is {task.state}")
        self.calls.append(("discard", (task_id, reason)))
        return self._replace(task, state="done")

    async def resolve(self, transaction_id: str, *, status: str, reason: str) -> TransactionDetail:
        found = next((t for t in self.transactions_ if t.id == transaction_id), None)
        if found is None:
            raise NotFound(f"no transaction {transaction_id}")
        if found.review is None:
            raise Conflict(f"transaction {transaction_id} is not held for review")
        self.calls.append(("resolve", (transaction_id, status, reason)))
        # Its open reconciliation breaks are resolved with it, as the service does.
        self.breaks_ = [b for b in self.breaks_ if b.transaction_id != transaction_id]
        index = self.transactions_.index(found)
        self.transactions_[index] = found.model_copy(update={"status": status, "review": None})
        return await self.transaction(transaction_id)

    def _matching(self, query: TaskQuery) -> list[OutboxTaskOut]:
        if query.state not in ("dead", "pending"):
            raise InvalidInput("state: only dead or pending tasks are replayed in bulk")
        return [t for t in self.tasks_ if t.state == query.state and query.kind in (None, t.kind)]

    async def count_matching(self, query: TaskQuery) -> OutboxCountOut:
        return OutboxCountOut(matching=len(self._matching(query)), as_of=NOW)

    async def replay_matching(
        self, query: TaskQuery, *, reason: str, as_of: datetime | None = None
    ) -> int:
        matching = [t for t in self._matching(query) if as_of is None or t.updated_at <= as_of]
        for task in matching:
            self._replace(task, state="pending", attempts=0, run_at=NOW)
        self.calls.append(("replay_matching", (query, reason)))
        return len(matching)

    async def gateways(self) -> tuple[GatewayOut, ...]:
        self._read()
        return tuple(self.gateways_)

    def _gateway(self, name: str) -> GatewayOut:
        found = next((g for g in self.gateways_ if g.name == name), None)
        if found is None:
            raise NotFound(f"no gateway {name}")
        return found

    async def set_gateway_enabled(self, name: str, *, enabled: bool, reason: str) -> GatewayOut:
        gateway = self._gateway(name)
        new = gateway.model_copy(update={"enabled": enabled})
        self.gateways_[self.gateways_.index(gateway)] = new
        self.calls.append(("set_gateway_enabled", (name, enabled, reason)))
        return new

    async def set_faults(self, name: str, changes: Mapping[str, Any]) -> Mapping[str, Any]:
        gateway = self._gateway(name)
        if gateway.faults is None:
            raise NotFound(f"{name} is not an embedded mock")
        faults = {**gateway.faults.model_dump(), **changes}
        self.gateways_[self.gateways_.index(gateway)] = gateway.model_copy(
            update={"faults": FaultsOut.model_validate(faults)}
        )
        self.calls.append(("set_faults", (name, dict(changes))))
        return faults

    async def reconciliation_runs(self) -> tuple[ReconciliationRunOut, ...]:
        self._read()
        return tuple(self.runs_)

    async def reconciliation_breaks(self) -> tuple[ReconciliationBreakOut, ...]:
        self._read()
        return tuple(self.breaks_)

    async def resolve_break(self, break_id: int, *, reason: str) -> ReconciliationBreakOut:
        found = next((b for b in self.breaks_ if b.id == break_id), None)
        if found is None:
            raise NotFound(f"reconciliation break {break_id} does not exist")
        self.calls.append(("resolve_break", (break_id, reason)))
        self.breaks_.remove(found)
        return found.model_copy(update={"state": "resolved", "resolution": reason})

    async def aclose(self) -> None:
        pass


def _keeps_protocol(facade: StaticFacade) -> OperatorFacade:
    return facade  # mypy proves StaticFacade keeps the protocol
