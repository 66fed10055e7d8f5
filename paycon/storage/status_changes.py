"""Moving a transaction's status forward, with its balance settlement and event."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select, update

from paycon.domain.balances import Payment, settlement_movement
from paycon.domain.errors import NotFound
from paycon.domain.status import Kind, Status, Transition, decide_transition
from paycon.storage.ledger import book_movement
from paycon.storage.payments import append_event
from paycon.storage.schema import transactions
from paycon.storage.status_counts import status_changed


def change_status(
    conn: Connection,
    transaction_id: str,
    proposed: Status,
    *,
    actor: str,
    now: datetime,
    reason: str | None = None,
    note: str | None = None,
) -> Transition:
    """Apply ``proposed`` if it moves the transaction forward; record it either way.

    A final status books its journal entry (paycon.domain.balances) in the
    same transaction. A backwards or conflicting proposal changes nothing but the
    timeline. ``reason`` is a failure's reason (stored on the transaction);
    ``note`` only goes on the timeline. Raises NotFound for an unknown transaction.
    """
    row = conn.execute(
        select(
            transactions.c.status,
            transactions.c.kind,
            transactions.c.customer_id,
            transactions.c.amount_minor,
            transactions.c.currency,
            transactions.c.gateway,
        )
        .where(transactions.c.id == transaction_id)
        .with_for_update()
    ).first()
    if row is None:
        raise NotFound(f"transaction {transaction_id} does not exist")
    current = Status(row.status)
    decision = decide_transition(current, proposed)
    if not decision.applies:
        if decision is not Transition.UNCHANGED:
            append_event(
                conn,
                transaction_id,
                f"status_{decision.value}",
                f"{proposed.value} after {current.value} ignored" + (f" ({note})" if note else ""),
                actor,
                now,
            )
        return decision
    conn.execute(
        update(transactions)
        .where(transactions.c.id == transaction_id)
        .values(status=proposed.value, failure_reason=reason, updated_at=now)
    )
    status_changed(conn, current.value, proposed.value)
    if proposed.is_final:
        book_movement(
            conn,
            settlement_movement(Kind(row.kind), proposed),
            Payment(row.customer_id, row.gateway, row.currency, row.amount_minor),
            transaction_id=transaction_id,
            now=now,
        )
    detail = f"{current.value} → {proposed.value}" + (f": {reason}" if reason else "")
    if note:
        detail += f" ({note})"
    append_event(conn, transaction_id, proposed.value, detail, actor, now)
    return decision
