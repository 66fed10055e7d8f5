"""The operator facade inside the process: the use cases themselves.

Reads hand out the same models the operator API answers with, built from the
records in the same place, so the console shows the same thing whether it
runs in the process or is attached over HTTP. Inputs are checked with the
operator API's own request models, so both facades refuse the same things.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.exc import SQLAlchemyError

from outbox import TaskState
from paycon.domain.errors import FacadeUnavailable, NotFound
from paycon.domain.status import Status
from paycon.domain.transactions import is_transaction_id
from paycon.facade.checks import check_search_limit, check_task_id, replayable_state
from paycon.facade.protocol import CONSOLE_FAULTS_REASON
from paycon.facade.reconciliation import BREAKS_SHOWN, RUNS_SHOWN
from paycon.models.gateways import GatewayOut, OverviewOut
from paycon.models.outbox import (
    OutboxCountOut,
    OutboxStatsOut,
    OutboxTaskDetailOut,
    OutboxTaskOut,
)
from paycon.models.queries import Page, TaskQuery, TransactionDetail, TransactionQuery
from paycon.models.reconciliation import ReconciliationBreakOut, ReconciliationRunOut
from paycon.models.requests import ResolveIn, TaskListQuery, TransactionListQuery, parse_model
from paycon.models.transactions import EventOut, LedgerLineOut, TransactionOut
from paycon.storage.database import Database, DatabaseUnavailable
from paycon.storage.queries import TransactionFilter
from paycon.usecases.operator_desk import OperatorDesk
from paycon.usecases.overview import read_overview


class Started(Protocol):
    """What the facade needs of a started service (``paycon.runtime.service.Service``)."""

    @property
    def desk(self) -> OperatorDesk | None: ...

    @property
    def url(self) -> str: ...

    @property
    def db(self) -> Database: ...


def _drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


class LocalFacade:
    """``OperatorFacade`` on the use cases of ``desk``.

    Actions are audited as ``actor`` (like ``console:alice``). Database
    errors become ``FacadeUnavailable``.
    """

    def __init__(self, desk: OperatorDesk, *, actor: str, where: str) -> None:
        self._desk = desk
        self._actor = actor
        self._where = where

    @classmethod
    def for_service(cls, service: Started, *, actor: str) -> LocalFacade:
        """The facade of a started ``service``. Raises RuntimeError before ``start``."""
        if service.desk is None:
            raise RuntimeError("the service is not started")
        # The title names both what merchants call and where the data lives.
        return cls(service.desk, actor=actor, where=f"{service.url} · {service.db.safe_url()}")

    @property
    def where(self) -> str:
        return self._where

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[None]:
        """Database failures as FacadeUnavailable, naming the database."""
        try:
            yield
        except (SQLAlchemyError, DatabaseUnavailable, OSError) as exc:
            raise FacadeUnavailable(f"the database {self._where} failed: {exc}") from exc
        except RuntimeError as exc:  # the database was closed under us (the service stopped)
            raise FacadeUnavailable(f"the database {self._where} is closed: {exc}") from exc

    async def overview(self) -> OverviewOut:
        desk = self._desk
        async with self._reading():
            return await read_overview(
                operations=desk.operations,
                queries=desk.queries,
                gateway_control=desk.gateway_control,
                metrics=desk.metrics,
                now=datetime.now(UTC),
            )

    async def outbox_stats(self) -> OutboxStatsOut:
        async with self._reading():
            return OutboxStatsOut.of(await self._desk.operations.stats())

    async def transactions(
        self, query: TransactionQuery, *, limit: int = 50, cursor: str | None = None
    ) -> Page[TransactionOut]:
        checked = parse_model(
            TransactionListQuery,
            _drop_none(
                {
                    "status": query.status,
                    "kind": query.kind,
                    "gateway": query.gateway,
                    "customer_id": query.customer_id,
                    "review": "true" if query.review else None,
                    "limit": limit,
                    "cursor": cursor,
                }
            ),
        )
        where = TransactionFilter(
            status=checked.status,
            kind=checked.kind,
            gateway=checked.gateway,
            customer_id=checked.customer_id,
            held=checked.review is not None,
        )
        async with self._reading():
            items, next_cursor = await self._desk.queries.transactions(
                where, limit=checked.limit, cursor=checked.cursor
            )
        return Page(tuple(TransactionOut.of(t) for t in items), next_cursor)

    async def search_transactions(
        self, text: str, *, limit: int = 50
    ) -> tuple[TransactionOut, ...]:
        check_search_limit(limit)
        async with self._reading():
            found = await self._desk.queries.search(text, limit=limit)
        return tuple(TransactionOut.of(t) for t in found)

    async def transaction(self, transaction_id: str) -> TransactionDetail:
        queries = self._desk.queries
        async with self._reading():
            transaction, events = await queries.transaction(transaction_id)
            ledger = await queries.ledger(transaction_id)
            tasks = await queries.tasks(transaction_id)
        return TransactionDetail(
            transaction=TransactionOut.of(transaction),
            events=tuple(EventOut.of(e) for e in events),
            ledger=tuple(LedgerLineOut.of(line) for line in ledger),
            tasks=tuple(OutboxTaskOut.of(task) for task in tasks),
        )

    async def tasks(
        self, query: TaskQuery, *, limit: int = 50, cursor: str | None = None
    ) -> Page[OutboxTaskOut]:
        checked = parse_model(
            TaskListQuery,
            _drop_none(
                {
                    "state": query.state,
                    "kind": query.kind,
                    "gateway": query.gateway,
                    "limit": limit,
                    "cursor": cursor,
                }
            ),
        )
        async with self._reading():
            page = await self._desk.operations.tasks(
                state=checked.state,
                kind=checked.kind,
                gateway=checked.gateway,
                limit=checked.limit,
                cursor=checked.cursor,
            )
        return Page(tuple(OutboxTaskOut.of(t) for t in page.items), page.next_cursor)

    async def task(self, task_id: int) -> OutboxTaskDetailOut:
        check_task_id(task_id)
        async with self._reading():
            detail = await self._desk.operations.task(task_id)
        return OutboxTaskDetailOut.of_detail(detail)

    async def replay(self, task_id: int, *, reason: str) -> OutboxTaskOut:
        check_task_id(task_id)
        async with self._reading():
            task = await self._desk.operations.replay(task_id, actor=self._actor, reason=reason)
        return OutboxTaskOut.of(task)

    async def discard(self, task_id: int, *, reason: str) -> OutboxTaskOut:
        check_task_id(task_id)
        async with self._reading():
            task = await self._desk.operations.discard(task_id, actor=self._actor, reason=reason)
        return OutboxTaskOut.of(task)

    async def resolve(self, transaction_id: str, *, status: str, reason: str) -> TransactionDetail:
        checked = parse_model(ResolveIn, {"status": status, "reason": reason})
        if not is_transaction_id(transaction_id):
            raise NotFound(f"no transaction {transaction_id!r}")
        async with self._reading():
            await self._desk.review.resolve(
                transaction_id, Status(checked.status), reason=checked.reason, actor=self._actor
            )
        return await self.transaction(transaction_id)

    async def count_matching(self, query: TaskQuery) -> OutboxCountOut:
        state = TaskState(replayable_state(query))
        async with self._reading():
            return await self._desk.operations.count_matching(
                state=state, kind=query.kind, gateway=query.gateway
            )

    async def replay_matching(
        self, query: TaskQuery, *, reason: str, as_of: datetime | None = None
    ) -> int:
        state = TaskState(replayable_state(query))
        async with self._reading():
            return await self._desk.operations.replay_matching(
                state=state,
                kind=query.kind,
                gateway=query.gateway,
                actor=self._actor,
                reason=reason,
                as_of=as_of,
            )

    async def gateways(self) -> tuple[GatewayOut, ...]:
        async with self._reading():
            return tuple(await self._desk.gateway_control.statuses())

    async def set_gateway_enabled(self, name: str, *, enabled: bool, reason: str) -> GatewayOut:
        async with self._reading():
            return await self._desk.gateway_control.set_enabled(
                name, enabled=enabled, actor=self._actor, reason=reason
            )

    async def set_faults(self, name: str, changes: Mapping[str, Any]) -> Mapping[str, Any]:
        async with self._reading():
            return await self._desk.gateway_control.set_faults(
                name, changes, actor=self._actor, reason=CONSOLE_FAULTS_REASON
            )

    async def reconciliation_runs(self) -> tuple[ReconciliationRunOut, ...]:
        async with self._reading():
            runs = await self._desk.reconciliation.runs(limit=RUNS_SHOWN)
        return tuple(ReconciliationRunOut.of(run) for run in runs)

    async def reconciliation_breaks(self) -> tuple[ReconciliationBreakOut, ...]:
        async with self._reading():
            found = await self._desk.reconciliation.breaks(limit=BREAKS_SHOWN)
        return tuple(ReconciliationBreakOut.of(b) for b in found)

    async def resolve_break(self, break_id: int, *, reason: str) -> ReconciliationBreakOut:
        async with self._reading():
            found = await self._desk.reconciliation.resolve_break(
                break_id, reason=reason, actor=self._actor
            )
        return ReconciliationBreakOut.of(found)

    async def aclose(self) -> None:
        """Nothing to release: whoever built the desk owns the database and closes it."""
