"""The operator facade inside the service's own process.

Every read goes through the same use cases and the same JSON views as the
operator API, and is parsed with the records' ``from_json``: the console shows
the same thing whether it runs in the process or is attached over HTTP.
Inputs are checked with the operator API's own query models, so both facades
refuse the same things.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.exc import SQLAlchemyError

from outbox import TaskState
from paycon.api.context import ApiContext
from paycon.api.operator import TaskListQuery, overview_json
from paycon.api.schemas import ResolveIn, parse_model
from paycon.api.transactions import TransactionListQuery
from paycon.api.views import (
    ledger_line_json,
    replay_count_json,
    task_detail_json,
    task_json,
    transaction_detail_json,
)
from paycon.domain.errors import FacadeUnavailable, NotFound
from paycon.domain.reconcile import BreakRecord, RunRecord
from paycon.domain.status import Status
from paycon.domain.transactions import is_transaction_id
from paycon.facade.checks import check_search_limit, check_task_id, replayable_state
from paycon.facade.models import (
    GatewayStatus,
    LedgerLine,
    MatchingTasks,
    Overview,
    Page,
    TaskDetailView,
    TaskQuery,
    TaskSummary,
    TimelineEvent,
    TransactionDetail,
    TransactionQuery,
    TransactionSummary,
)
from paycon.facade.protocol import CONSOLE_FAULTS_REASON
from paycon.facade.reconciliation import BREAKS_SHOWN, RUNS_SHOWN
from paycon.storage.database import Database, DatabaseUnavailable
from paycon.storage.queries import TransactionFilter
from paycon.usecases.reconcile import Reconciliation


class Started(Protocol):
    """What the facade needs of a started service (``paycon.runtime.service.Service``)."""

    @property
    def context(self) -> ApiContext | None: ...

    @property
    def url(self) -> str: ...

    @property
    def db(self) -> Database: ...


def _drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


class LocalFacade:
    """``OperatorFacade`` on a started service's own use cases.

    Actions are audited as ``actor`` (like ``console:alice``). Database
    errors become ``FacadeUnavailable``.
    """

    def __init__(self, context: ApiContext, *, actor: str, where: str) -> None:
        self._ctx = context
        self._actor = actor
        self._where = where

    @classmethod
    def for_service(cls, service: Started, *, actor: str) -> LocalFacade:
        """The facade of a started ``service``. Raises RuntimeError before ``start``."""
        if service.context is None:
            raise RuntimeError("the service is not started")
        # The title names both what merchants call and where the data lives.
        return cls(service.context, actor=actor, where=f"{service.url} · {service.db.safe_url()}")

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

    async def overview(self) -> Overview:
        async with self._reading():
            body = await overview_json(self._ctx, now=datetime.now(UTC))
        return Overview.from_json(body)

    async def transactions(
        self, query: TransactionQuery, *, limit: int = 50, cursor: str | None = None
    ) -> Page[TransactionSummary]:
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
            items, next_cursor = await self._ctx.queries.transactions(
                where, limit=checked.limit, cursor=checked.cursor
            )
        return Page(tuple(TransactionSummary.from_json(t.as_json()) for t in items), next_cursor)

    async def search_transactions(
        self, text: str, *, limit: int = 50
    ) -> tuple[TransactionSummary, ...]:
        check_search_limit(limit)
        async with self._reading():
            found = await self._ctx.queries.search(text, limit=limit)
        return tuple(TransactionSummary.from_json(t.as_json()) for t in found)

    async def transaction(self, transaction_id: str) -> TransactionDetail:
        async with self._reading():
            transaction, events = await self._ctx.queries.transaction(transaction_id)
            ledger = await self._ctx.queries.ledger(transaction_id)
            tasks = await self._ctx.queries.tasks(transaction_id)
        body = transaction_detail_json(transaction, events)
        return TransactionDetail(
            transaction=TransactionSummary.from_json(body),
            events=tuple(TimelineEvent.from_json(e) for e in body["events"]),
            ledger=tuple(LedgerLine.from_json(ledger_line_json(line)) for line in ledger),
            tasks=tuple(TaskSummary.from_json(task_json(task)) for task in tasks),
        )

    async def tasks(
        self, query: TaskQuery, *, limit: int = 50, cursor: str | None = None
    ) -> Page[TaskSummary]:
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
            page = await self._ctx.operations.tasks(
                state=checked.state,
                kind=checked.kind,
                gateway=checked.gateway,
                limit=checked.limit,
                cursor=checked.cursor,
            )
        items = tuple(TaskSummary.from_json(task_json(t)) for t in page.items)
        return Page(items, page.next_cursor)

    async def task(self, task_id: int) -> TaskDetailView:
        check_task_id(task_id)
        async with self._reading():
            detail = await self._ctx.operations.task(task_id)
        return TaskDetailView.from_json(task_detail_json(detail))

    async def replay(self, task_id: int, *, reason: str) -> TaskSummary:
        check_task_id(task_id)
        async with self._reading():
            task = await self._ctx.operations.replay(task_id, actor=self._actor, reason=reason)
        return TaskSummary.from_json(task_json(task))

    async def discard(self, task_id: int, *, reason: str) -> TaskSummary:
        check_task_id(task_id)
        async with self._reading():
            task = await self._ctx.operations.discard(task_id, actor=self._actor, reason=reason)
        return TaskSummary.from_json(task_json(task))

    async def resolve(self, transaction_id: str, *, status: str, reason: str) -> TransactionDetail:
        checked = parse_model(ResolveIn, {"status": status, "reason": reason})
        if not is_transaction_id(transaction_id):
            raise NotFound(f"no transaction {transaction_id!r}")
        async with self._reading():
            await self._ctx.review.resolve(
                transaction_id, Status(checked.status), reason=checked.reason, actor=self._actor
            )
        return await self.transaction(transaction_id)

    async def count_matching(self, query: TaskQuery) -> MatchingTasks:
        state = TaskState(replayable_state(query))
        async with self._reading():
            count = await self._ctx.operations.count_matching(
                state=state, kind=query.kind, gateway=query.gateway
            )
        return MatchingTasks.from_json(replay_count_json(count))

    async def replay_matching(
        self, query: TaskQuery, *, reason: str, as_of: datetime | None = None
    ) -> int:
        state = TaskState(replayable_state(query))
        async with self._reading():
            return await self._ctx.operations.replay_matching(
                state=state,
                kind=query.kind,
                gateway=query.gateway,
                actor=self._actor,
                reason=reason,
                as_of=as_of,
            )

    async def gateways(self) -> tuple[GatewayStatus, ...]:
        async with self._reading():
            bodies = await self._ctx.gateway_control.statuses_json()
        return tuple(GatewayStatus.from_json(body) for body in bodies)

    async def set_gateway_enabled(self, name: str, *, enabled: bool, reason: str) -> GatewayStatus:
        async with self._reading():
            body = await self._ctx.gateway_control.set_enabled(
                name, enabled=enabled, actor=self._actor, reason=reason
            )
        return GatewayStatus.from_json(body)

    async def set_faults(self, name: str, changes: Mapping[str, Any]) -> Mapping[str, Any]:
        async with self._reading():
            return await self._ctx.gateway_control.set_faults(
                name, changes, actor=self._actor, reason=CONSOLE_FAULTS_REASON
            )

    def _reconciliation(self) -> Reconciliation:
        return Reconciliation(self._ctx.db, self._ctx.settings.gateways)

    async def reconciliation_runs(self) -> tuple[RunRecord, ...]:
        async with self._reading():
            return tuple(await self._reconciliation().runs(limit=RUNS_SHOWN))

    async def reconciliation_breaks(self) -> tuple[BreakRecord, ...]:
        async with self._reading():
            return tuple(await self._reconciliation().breaks(limit=BREAKS_SHOWN))

    async def resolve_break(self, break_id: int, *, reason: str) -> BreakRecord:
        async with self._reading():
            return await self._reconciliation().resolve_break(
                break_id, reason=reason, actor=self._actor
            )

    async def aclose(self) -> None:
        """Nothing to release: the service owns the database and stops it."""
