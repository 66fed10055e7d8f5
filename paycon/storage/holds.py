"""Holding a payment for review: the one write every "this needs a person" path makes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, update

from paycon.domain.review import ReviewReason
from paycon.storage.payments import append_event
from paycon.storage.schema import transactions

HELD_EVENT = "held_for_review"
_MAX_DETAIL_CHARS = 1024


def hold_for_review(
    conn: Connection,
    transaction_id: str,
    reason: ReviewReason,
    detail: str,
    *,
    actor: str,
    now: datetime,
) -> bool:
    """Hold the payment for review, with why and what was said; returns whether it
    was newly held.

    A payment already held keeps the time it was first held; its reason and
    detail become the latest, and every hold is on its timeline.
    """
    detail = detail[:_MAX_DETAIL_CHARS]
    newly = conn.execute(
        update(transactions)
        .where(transactions.c.id == transaction_id, transactions.c.review_reason.is_(None))
        .values(review_reason=reason.value, review_detail=detail, review_since=now)
    ).rowcount
    if not newly:
        conn.execute(
            update(transactions)
            .where(transactions.c.id == transaction_id)
            .values(review_reason=reason.value, review_detail=detail)
        )
    append_event(conn, transaction_id, HELD_EVENT, f"{reason.value}: {detail}", actor, now)
    return bool(newly)
