"""The callback inbox: store each verified callback and apply it, once per event id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select

from paycon.domain.review import GatewayWord
from paycon.storage.delivery import record_gateway_status
from paycon.storage.schema import callback_inbox, transactions

DUPLICATE = "duplicate"
UNKNOWN_TRANSACTION = "unknown_transaction"


def receive_callback(
    conn: Connection,
    *,
    event_id: str,
    transaction_id: str,
    word: GatewayWord,
    raw_body: str,
    now: datetime,
    check_after_s: float,
    max_attempts: int,
) -> str:
    """Store the callback and apply it in the same transaction; returns the outcome.

    ``duplicate`` (this event id was received before: nothing is written),
    ``unknown_transaction`` (stored, not applied), or what
    ``record_gateway_status`` made of it: the transition's value (``apply``,
    ``unchanged``, ``backwards``, ``conflict``), or ``wrong_gateway`` /
    ``amount_mismatch`` (not applied; the payment is held for review).
    """
    gateway = word.gateway
    seen = conn.execute(
        select(callback_inbox.c.id).where(
            callback_inbox.c.gateway == gateway, callback_inbox.c.event_id == event_id
        )
    ).first()
    if seen is not None:
        return DUPLICATE
    known = conn.execute(
        select(transactions.c.id).where(transactions.c.id == transaction_id)
    ).first()
    if known is None:
        outcome = UNKNOWN_TRANSACTION
    else:
        outcome = record_gateway_status(
            conn, transaction_id, word, source="callback", now=now,
            check_after_s=check_after_s, max_attempts=max_attempts,
        )  # fmt: skip
    conn.execute(
        insert(callback_inbox),
        {
            "gateway": gateway,
            "event_id": event_id,
            "transaction_id": transaction_id,
            "status": word.status.value,
            "reason": word.reason,
            "amount": None if word.amount is None else format(word.amount, "f")[:40],
            "currency": word.currency,
            "raw_body": raw_body,
            "received_at": now,
            "outcome": outcome,
        },
    )
    return outcome
