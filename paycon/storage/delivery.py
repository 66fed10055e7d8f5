"""Units of work for carrying a payment to its gateway and recording what it said."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update

from outbox import enqueue
from paycon.domain.errors import NotFound
from paycon.domain.money import Money
from paycon.domain.review import GatewayWord, ReviewReason, mismatch
from paycon.domain.status import Status, Transition
from paycon.storage.holds import hold_for_review
from paycon.storage.payments import SUBMIT_TASK, append_event, submit_dedupe_prefix
from paycon.storage.schema import transactions
from paycon.storage.status_changes import change_status

STATUS_CHECK_TASK = "status_check"
NOTIFY_TASK = "notify"


def record_gateway_status(
    conn: Connection,
    transaction_id: str,
    word: GatewayWord,
    *,
    source: str,
    now: datetime,
    check_after_s: float,
    max_attempts: int,
) -> str:
    """Apply what a gateway says about a transaction, if it may; returns the outcome.

    The word moves the payment only when it comes from the gateway that holds
    it and states the payment's own amount and currency
    (``paycon.domain.review.mismatch``), and only forward (settled if final).
    Otherwise the payment is held for review: ``wrong_gateway``,
    ``amount_mismatch``, or ``conflict`` for a final status contradicting the
    recorded one; a backwards word (``pending`` after ``completed``) is only
    recorded. A transaction that became ``submitted`` gets a status check, due
    after ``check_after_s`` unless its final callback comes first. ``source``
    says where the word came from (``submit``, ``callback``, ``status check``).
    Raises NotFound for an unknown transaction.
    """
    row = conn.execute(
        select(transactions.c.gateway, transactions.c.amount_minor, transactions.c.currency)
        .where(transactions.c.id == transaction_id)
        .with_for_update()
    ).first()
    if row is None:
        raise NotFound(f"transaction {transaction_id} does not exist")
    actor = f"gateway:{word.gateway}"
    money = Money(row.amount_minor, row.currency)
    refused = mismatch(word, holder=row.gateway, money=money)
    if refused is not None:
        hold_for_review(
            conn, transaction_id, refused,
            f"{source}: {word.describe()}; the payment is {money.wire()} {money.currency} "
            f"held by {row.gateway}",
            actor=actor, now=now,
        )  # fmt: skip
        return refused.value
    decision = change_status(
        conn,
        transaction_id,
        word.status,
        actor=actor,
        now=now,
        reason=word.reason if word.status is Status.FAILED else None,
        note=f"{source} via {word.gateway}",
    )
    if decision is Transition.CONFLICT:
        hold_for_review(
            conn, transaction_id, ReviewReason.CONFLICTING_STATUS,
            f"{source}: {word.describe()} after the payment was recorded otherwise",
            actor=actor, now=now,
        )  # fmt: skip
    if decision.applies and word.status.is_final:
        notify_merchant(conn, transaction_id, now=now, max_attempts=max_attempts)
    if decision.applies and word.status is Status.SUBMITTED:
        enqueue(
            conn,
            STATUS_CHECK_TASK,
            {"transaction_id": transaction_id, "gateway": word.gateway},
            dedupe_key=f"{STATUS_CHECK_TASK}:{word.gateway}:{transaction_id}",
            run_at=now + timedelta(seconds=check_after_s),
            max_attempts=max_attempts,
            now=now,
            resource=word.gateway,
        )
    return decision.value


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
        resource=to_gateway,
    )


def notify_merchant(
    conn: Connection, transaction_id: str, *, now: datetime, max_attempts: int
) -> None:
    """Queue the merchant's notification of the payment's final status, if it asked for one."""
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
