"""Balance changes: append ledger entries and move the running balance together."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, insert, update

from paycon.domain.balances import Bucket, LedgerEntry
from paycon.domain.errors import InsufficientFunds
from paycon.storage.schema import balances, ledger_entries


def apply_entries(
    conn: Connection,
    *,
    customer_id: str,
    currency: str,
    transaction_id: str,
    entries: Sequence[LedgerEntry],
    now: datetime,
) -> None:
    """Append ``entries`` to the ledger and apply them to the balance row.

    The balance moves only if ``available`` stays >= 0 (checked by the UPDATE
    itself, so it holds under any concurrency). Raises InsufficientFunds and
    writes nothing otherwise.
    """
    if not entries:
        return
    available = sum(e.delta_minor for e in entries if e.bucket is Bucket.AVAILABLE)
    held = sum(e.delta_minor for e in entries if e.bucket is Bucket.HELD)
    moved = conn.execute(
        update(balances)
        .where(
            balances.c.customer_id == customer_id,
            balances.c.currency == currency,
            balances.c.available_minor + available >= 0,
            balances.c.held_minor + held >= 0,
        )
        .values(
            available_minor=balances.c.available_minor + available,
            held_minor=balances.c.held_minor + held,
            updated_at=now,
        )
    ).rowcount
    if moved == 0:
        if available < 0 or held < 0:
            raise InsufficientFunds("the available balance does not cover this withdrawal")
        conn.execute(
            insert(balances),
            {
                "customer_id": customer_id,
                "currency": currency,
                "available_minor": available,
                "held_minor": held,
                "updated_at": now,
            },
        )
    conn.execute(
        insert(ledger_entries),
        [
            {
                "customer_id": customer_id,
                "currency": currency,
                "bucket": entry.bucket.value,
                "delta_minor": entry.delta_minor,
                "reason": entry.reason.value,
                "transaction_id": transaction_id,
                "at": now,
            }
            for entry in entries
        ],
    )
