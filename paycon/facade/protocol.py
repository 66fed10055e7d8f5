"""The operator facade: everything the console and the CLI read and do, and nothing else.

Two implementations keep to it: ``LocalFacade`` (in the service's own process,
through the use cases) and ``RemoteFacade`` (a running paycon's operator API
over HTTP). Both raise the same errors from ``paycon.domain.errors``:
``NotFound`` (no such task, transaction or gateway), ``Conflict`` (the task's
state does not allow the action), ``InvalidInput`` (a bad filter, reason or
fault), and ``FacadeUnavailable`` (the service or database cannot be reached;
the console shows it and keeps retrying).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from paycon.models.gateways import GatewayOut, OverviewOut
from paycon.models.outbox import OutboxCountOut, OutboxStatsOut, OutboxTaskDetailOut, OutboxTaskOut
from paycon.models.queries import Page, TaskQuery, TransactionDetail, TransactionQuery
from paycon.models.reconciliation import ReconciliationBreakOut, ReconciliationRunOut
from paycon.models.transactions import TransactionOut

# What a fault switch through a facade (the console's) is audited with.
CONSOLE_FAULTS_REASON = "faults switched from the console"


class OperatorFacade(Protocol):
    """What operators read and do. Every read is indexed and bounded."""

    @property
    def where(self) -> str:
        """What the facade is attached to, for the console's title (a URL or a file)."""
        ...

    async def overview(self) -> OverviewOut:
        """Traffic, outbox figures and every gateway, in one read."""
        ...

    async def outbox_stats(self) -> OutboxStatsOut:
        """Outbox tasks by state, the backlog, the oldest due task's age, done per second."""
        ...

    async def transactions(
        self, query: TransactionQuery, *, limit: int = 50, cursor: str | None = None
    ) -> Page[TransactionOut]:
        """Transactions matching ``query``, newest first."""
        ...

    async def search_transactions(
        self, text: str, *, limit: int = 50
    ) -> tuple[TransactionOut, ...]:
        """Transactions whose id or merchant reference is exactly ``text`` (case-sensitive)."""
        ...

    async def transaction(self, transaction_id: str) -> TransactionDetail:
        """The transaction with its timeline, ledger lines and outbox tasks. Raises NotFound."""
        ...

    async def tasks(
        self, query: TaskQuery, *, limit: int = 50, cursor: str | None = None
    ) -> Page[OutboxTaskOut]:
        """Outbox tasks matching ``query``, newest first."""
        ...

    async def task(self, task_id: int) -> OutboxTaskDetailOut:
        """The task with its attempts and audit trail. Raises NotFound."""
        ...

    async def replay(self, task_id: int, *, reason: str) -> OutboxTaskOut:
        """A dead task runs again with fresh attempts; a scheduled one runs now.

        Raises NotFound, Conflict (running or done).
        """
        ...

    async def discard(self, task_id: int, *, reason: str) -> OutboxTaskOut:
        """A dead task is closed, its last error kept. Raises NotFound, Conflict."""
        ...

    async def resolve(self, transaction_id: str, *, status: str, reason: str) -> TransactionDetail:
        """Decide a held payment's outcome (``completed`` or ``failed``), audited.

        Raises InvalidInput, NotFound, Conflict (not held, or the booking is refused).
        """
        ...

    async def count_matching(self, query: TaskQuery) -> OutboxCountOut:
        """How many tasks ``replay_matching`` with the same query would touch now.

        Raises InvalidInput unless the state is dead or pending.
        """
        ...

    async def replay_matching(
        self, query: TaskQuery, *, reason: str, as_of: datetime | None = None
    ) -> int:
        """Replay every task matching ``query`` in one server-side step; returns how many.

        With the ``as_of`` of a ``count_matching``, tasks changed since are left
        alone: the replay touches at most the tasks counted.
        """
        ...

    async def gateways(self) -> tuple[GatewayOut, ...]:
        """Every configured gateway, by name."""
        ...

    async def set_gateway_enabled(self, name: str, *, enabled: bool, reason: str) -> GatewayOut:
        """Take a gateway out of routing for new payments, or bring it back (audited).

        Payments already submitted there still finish there. Raises NotFound.
        """
        ...

    async def set_faults(self, name: str, changes: Mapping[str, Any]) -> Mapping[str, Any]:
        """Switch an embedded mock gateway's faults; returns the faults now in force.

        Audited with each value before and after, and CONSOLE_FAULTS_REASON.
        Raises NotFound when the gateway is not an embedded mock, InvalidInput
        (changing nothing) for an unknown fault or a bad value.
        """
        ...

    async def reconciliation_runs(self) -> tuple[ReconciliationRunOut, ...]:
        """The latest reconciliation runs, newest first."""
        ...

    async def reconciliation_breaks(self) -> tuple[ReconciliationBreakOut, ...]:
        """The open reconciliation breaks, newest first."""
        ...

    async def resolve_break(self, break_id: int, *, reason: str) -> ReconciliationBreakOut:
        """Mark an open break that no payment carries resolved, with a reason (audited).

        Raises NotFound, Conflict when it is not open, InvalidInput for the reason.
        """
        ...

    async def aclose(self) -> None:
        """Release connections; the facade is not used afterwards."""
        ...
