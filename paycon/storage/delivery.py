"""Units of work for carrying a payment to its gateway and recording what it said."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update

from outbox import enqueue
from paycon.domain.status import Status, Transition
from paycon.storage.payments import SUBMIT_TASK, append_event, submit_dedupe_prefix
from paycon.storage.schema import transactions
from paycon.storage.status_changes import change_status

STATUS_CHECK_TASK = "status_check"
NOTIFY_TASK = "notify"


def record_gateway_status(
    conn: Connection,
    transaction_id: str,
    gateway: str,
    proposed: Status,
    *,
    reason: str | None,
    source: str,
    now: datetime,
    check_after_s: float,
    max_attempts: int,
) -> Transition:
    """Apply what ``gateway`` says about a transaction (forward only, settled if final).

    A transaction that became ``submitted`` gets a status check, due after
    ``check_after_s`` unless its final callback comes first. ``source`` says
    where the word came from (``submit``, ``callback``, ``status check``).
    """
    decision = change_status(
        conn,
        transaction_id,
        proposed,
        actor=f"gateway:{gateway}",
        now=now,
        reason=reason if proposed is Status.FAILED else None,
        note=f"{source} via {gateway}",
    )
    if decision.applies and proposed.is_final:
        _notify_merchant(conn, transaction_id, now=now, max_attempts=max_attempts)
    if decision.applies and proposed is Status.SUBMITTED:
        enqueue(
            conn,
            STATUS_CHECK_TASK,
            {"transaction_id": transaction_id, "gateway": gateway},
            dedupe_key=f"{STATUS_CHECK_TASK}:{gateway}:{transaction_id}",
            run_at=now + timedelta(seconds=check_after_s),
            max_attempts=max_attempts,
            now=now,
        )
    return decision


def fail_over(
    conn: Connection,
    transaction_id: str,
    *,
    from_gateway: str,
    to_gateway: str,
    route: Sequence[str],
    why: str,
    now: datetime,
    max_attempts: int,
) -> None:
    """Move a pending transaction to the next gateway of its route and submit it there.

    Only for outcomes that prove the previous gateway never took the payment.
    """
    conn.execute(
        update(transactions)
        .where(transactions.c.id == transaction_id, transactions.c.status == Status.PENDING.value)
        .values(gateway=to_gateway, updated_at=now)
    )
    append_event(
        conn, transaction_id, "failover", f"{from_gateway} → {to_gateway}: {why}", "paycon", now
    )
    enqueue(
        conn,
        SUBMIT_TASK,
        {"transaction_id": transaction_id, "route": list(route)},
        dedupe_key=submit_dedupe_prefix(to_gateway) + transaction_id,
        max_attempts=max_attempts,
        now=now,
    )


def _notify_merchant(
    conn: Connection, transaction_id: str, *, now: datetime, max_attempts: int
) -> None:
    row = conn.execute(
        select(transactions.c.notify_url, transactions.c.client_id).where(
            transactions.c.id == transaction_id
        )
    ).one()
    if row.notify_url is None:
        return
    enqueue(
        conn,
        NOTIFY_TASK,
        {"transaction_id": transaction_id, "client_id": row.client_id},
        dedupe_key=f"{NOTIFY_TASK}:{transaction_id}",
        max_attempts=max_attempts,
        now=now,
    )
