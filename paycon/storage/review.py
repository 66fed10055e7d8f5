"""Holding payments for review and resolving them (the rules are ``paycon.domain.review``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from outbox import TaskState
from outbox import tasks as outbox_tasks
from paycon.domain.balances import Payment
from paycon.domain.errors import Conflict, NotFound
from paycon.domain.review import ResolutionRefused, ReviewReason, resolve
from paycon.domain.status import Kind, Status
from paycon.storage.delivery import STATUS_CHECK_TASK, notify_merchant
from paycon.storage.holds import hold_for_review
from paycon.storage.ledger import book_movement
from paycon.storage.payments import SUBMIT_TASK, append_event
from paycon.storage.reconcile import close_breaks_of
from paycon.storage.schema import operator_audit, transactions

RESOLVED_EVENT = "review_resolved"
# Tasks whose death strands a payment: nothing else will move it.
CARRYING_TASKS = (SUBMIT_TASK, STATUS_CHECK_TASK)


@dataclass(frozen=True)
class ResolveRequest:
    """An operator's decision on a held payment."""

    transaction_id: str
    status: Status
    reason: str
    actor: str


def resolve_held(
    conn: Connection, request: ResolveRequest, *, now: datetime, max_attempts: int
) -> Status:
    """Book an operator's decision on a held payment and lift the hold, audited;
    returns the payment's status afterwards.

    The booking follows ``paycon.domain.review.resolve`` and the same ledger as
    a gateway's word, so a withdrawal's hold is released exactly once. A
    payment that reaches a final status this way notifies its merchant.
    Its open reconciliation breaks are resolved with it (the next run of their
    report books what matches then).
    A reversal larger than ``available`` takes ``available`` down to zero and
    books the rest as ``owed``. Raises NotFound, Conflict when the payment is
    not held (a second resolve) or the decision cannot be booked.
    """
    row = conn.execute(
        select(
            transactions.c.status,
            transactions.c.kind,
            transactions.c.customer_id,
            transactions.c.amount_minor,
            transactions.c.currency,
            transactions.c.gateway,
            transactions.c.review_reason,
        )
        .where(transactions.c.id == request.transaction_id)
        .with_for_update()
    ).first()
    if row is None:
        raise NotFound(f"transaction {request.transaction_id} does not exist")
    if row.review_reason is None:
        raise Conflict(f"transaction {request.transaction_id} is not held for review")
    current = Status(row.status)
    try:
        resolution = resolve(Kind(row.kind), current, request.status)
    except ResolutionRefused as exc:
        raise Conflict(str(exc)) from None
    book_movement(
        conn,
        resolution.movement,
        Payment(row.customer_id, row.gateway, row.currency, row.amount_minor),
        transaction_id=request.transaction_id,
        now=now,
    )
    values: dict[str, object] = {
        "review_reason": None, "review_detail": None, "review_since": None, "updated_at": now,
    }  # fmt: skip
    if resolution.status is not current:
        values["status"] = resolution.status.value
        if resolution.status is Status.FAILED:
            values["failure_reason"] = f"resolved by an operator: {request.reason}"[:512]
    conn.execute(
        update(transactions).where(transactions.c.id == request.transaction_id).values(**values)
    )
    moved = (
        f"{current.value} → {resolution.status.value}"
        if resolution.status is not current
        else (f"{current.value} confirmed")
    )
    append_event(
        conn, request.transaction_id, RESOLVED_EVENT, f"{moved}: {request.reason}",
        request.actor, now,
    )  # fmt: skip
    conn.execute(
        insert(operator_audit),
        {
            "at": now,
            "actor": request.actor,
            "action": "resolve",
            "subject": f"transaction:{request.transaction_id}",
            "reason": request.reason,
            "detail": json.dumps({"from": current.value, "to": resolution.status.value}),
        },
    )
    close_breaks_of(
        conn, request.transaction_id, actor=request.actor, reason=request.reason, now=now
    )
    if resolution.status is not current:
        notify_merchant(conn, request.transaction_id, now=now, max_attempts=max_attempts)
    return resolution.status


# --- what the review watch looks for ----------------------------------------


@dataclass(frozen=True)
class DeadTask:
    """A dead task that carried a payment."""

    task_id: int
    kind: str
    transaction_id: str
    last_error: str | None
    updated_at: datetime


def dead_carrying_tasks(
    conn: Connection, *, changed_since: datetime | None, limit: int
) -> list[DeadTask]:
    """Dead submit and status-check tasks, oldest change first, changed after
    ``changed_since`` (all when None). Reads the (kind, state, id) index."""
    query = (
        select(
            outbox_tasks.c.id,
            outbox_tasks.c.kind,
            outbox_tasks.c.payload,
            outbox_tasks.c.last_error,
            outbox_tasks.c.updated_at,
        )
        .where(
            outbox_tasks.c.kind.in_(CARRYING_TASKS),
            outbox_tasks.c.state == TaskState.DEAD.value,
        )
        .order_by(outbox_tasks.c.updated_at, outbox_tasks.c.id)
        .limit(limit)
    )
    if changed_since is not None:
        query = query.where(outbox_tasks.c.updated_at > changed_since)
    found = []
    for row in conn.execute(query):
        payload = row.payload if isinstance(row.payload, dict) else json.loads(row.payload)
        found.append(
            DeadTask(
                row.id, row.kind, str(payload.get("transaction_id", "")), row.last_error,
                row.updated_at,
            )
        )  # fmt: skip
    return found


def in_flight_before(conn: Connection, id_bound: str, *, limit: int) -> list[str]:
    """Ids of pending or submitted payments created before ``id_bound`` (ids sort by
    creation time) that are not held yet. Reads the (status, id) index."""
    found: list[str] = []
    for status in (Status.PENDING, Status.SUBMITTED):
        found += conn.execute(
            select(transactions.c.id)
            .where(
                transactions.c.status == status.value,
                transactions.c.id < id_bound,
                transactions.c.review_reason.is_(None),
            )
            .order_by(transactions.c.id)
            .limit(limit)
        ).scalars()
    return found[:limit]


def hold_stranded(
    conn: Connection,
    transaction_ids: Sequence[str],
    reason: ReviewReason,
    detail: str,
    *,
    now: datetime,
) -> int:
    """Hold each of these payments that is still in flight and not held; returns how many."""
    held = 0
    for transaction_id in transaction_ids:
        row = conn.execute(
            select(transactions.c.status, transactions.c.review_reason).where(
                transactions.c.id == transaction_id
            )
        ).first()
        if row is None or row.review_reason is not None or Status(row.status).is_final:
            continue
        held += hold_for_review(conn, transaction_id, reason, detail, actor="paycon", now=now)
    return held
