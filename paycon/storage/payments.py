"""Units of work that accept a payment: payment, hold, event, task and answer in one go."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from outbox import enqueue
from outbox.prepared import Prepared
from paycon.domain.balances import Payment, acceptance_movement
from paycon.domain.errors import InsufficientFunds
from paycon.domain.fingerprints import KEYED_PREFIX
from paycon.domain.problems import problem_for
from paycon.domain.status import Kind
from paycon.domain.transactions import Transaction
from paycon.storage.ledger import book_movement
from paycon.storage.prepared import prepared_insert, raw
from paycon.storage.schema import idempotency_keys, transaction_events, transactions
from paycon.storage.status_counts import status_changed

SUBMIT_TASK = "submit"


def submit_dedupe_prefix(gateway: str) -> str:
    """The start of the dedupe key of every submit task bound for ``gateway``."""
    return f"{SUBMIT_TASK}:{gateway}:"


_FIND_ANSWER = Prepared(
    select(
        idempotency_keys.c.request_hash,
        idempotency_keys.c.response_status,
        idempotency_keys.c.response_body,
    ).where(idempotency_keys.c.key == bindparam("key"))
)
_INSERT_TRANSACTION = prepared_insert(transactions)
_INSERT_EVENT = prepared_insert(transaction_events, skip=("id",))
_INSERT_ANSWER = prepared_insert(idempotency_keys)


@dataclass(frozen=True)
class IdempotentAnswer:
    """The answer stored for an idempotency key, and whether it was stored before."""

    request_hash: str
    status: int
    text: str  # the JSON body, exactly as first answered
    replayed: bool

    def body(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.text)
        return parsed


@dataclass(frozen=True)
class Acceptance:
    """Everything needed to store one accepted payment."""

    client_id: str
    idempotency_key: str
    request_hash: str
    transaction: Transaction
    destination_sealed: str | None
    actor: str
    max_attempts: int
    # The 202 answer's body, rendered by the caller (the transaction as the API shows it).
    accepted_answer: str


def find_answer(conn: Connection, key: str) -> IdempotentAnswer | None:
    """The answer already stored for ``key``, if any."""
    row = _FIND_ANSWER.fetch_one(conn, {"key": key})
    if row is None:
        return None
    request_hash, status, body = row
    return IdempotentAnswer(request_hash, status, body, replayed=True)


def accept_payment(conn: Connection, acceptance: Acceptance) -> IdempotentAnswer:
    """Store a payment with its hold, its first event, its submit task and its answer.

    If the key already has an answer, returns it and writes nothing. A
    withdrawal that ``available`` does not cover stores only the 422 answer.
    A concurrent writer of the same key (another process) makes the answer's
    insert fail with IntegrityError, and this unit rolls back whole.
    """
    existing = find_answer(conn, acceptance.idempotency_key)
    if existing is not None:
        return existing
    tx = acceptance.transaction
    if tx.kind is Kind.WITHDRAWAL:
        raw(conn, "SAVEPOINT payment")
        try:
            _store_payment(conn, acceptance)
        except InsufficientFunds as exc:
            raw(conn, "ROLLBACK TO SAVEPOINT payment")
            problem = json.dumps(problem_for(exc), separators=(",", ":"), ensure_ascii=False)
            return _store_answer(conn, acceptance, exc.status, problem, None)
        finally:
            raw(conn, "RELEASE SAVEPOINT payment")
    else:
        _store_payment(conn, acceptance)
    return _store_answer(conn, acceptance, 202, acceptance.accepted_answer, tx.id)


def _store_payment(conn: Connection, acceptance: Acceptance) -> None:
    tx = acceptance.transaction
    masked = tx.destination_masked or {}
    _INSERT_TRANSACTION.run(
        conn,
        {
            "id": tx.id,
            "kind": tx.kind.value,
            "status": tx.status.value,
            "customer_id": tx.customer_id,
            "amount_minor": tx.money.minor,
            "currency": tx.money.currency,
            "country": tx.country,
            "gateway": tx.gateway,
            "route": ",".join(tx.route),
            "reference": tx.reference,
            "notify_url": tx.notify_url,
            "destination_masked": masked.get("iban"),
            "holder_masked": masked.get("holder"),
            "destination_sealed": acceptance.destination_sealed,
            "failure_reason": None,
            "client_id": acceptance.client_id,
            "created_at": tx.created_at,
            "updated_at": tx.updated_at,
            "review_reason": None,
            "review_detail": None,
            "review_since": None,
        },
    )
    book_movement(
        conn,
        acceptance_movement(tx.kind),
        Payment(tx.customer_id, tx.gateway, tx.money.currency, tx.money.minor),
        transaction_id=tx.id,
        now=tx.created_at,
    )
    status_changed(conn, None, tx.status.value)
    detail = f"{tx.kind.value} of {tx.money.wire()} {tx.money.currency} accepted; " + (
        f"route {' → '.join(tx.route)}"
    )
    if tx.kind is Kind.WITHDRAWAL:
        detail += f"; {tx.money.wire()} {tx.money.currency} held"
    append_event(conn, tx.id, "accepted", detail, acceptance.actor, tx.created_at)
    enqueue(
        conn,
        SUBMIT_TASK,
        {"transaction_id": tx.id, "route": list(tx.route)},
        # One submit per transaction and gateway.
        dedupe_key=submit_dedupe_prefix(tx.gateway) + tx.id,
        max_attempts=acceptance.max_attempts,
        now=tx.created_at,
        resource=tx.gateway,
    )


def append_event(
    conn: Connection, transaction_id: str, type_: str, detail: str, actor: str, at: datetime
) -> None:
    """Append one entry to a transaction's timeline."""
    _INSERT_EVENT.run(
        conn,
        {"transaction_id": transaction_id, "at": at, "type": type_, "detail": detail,
         "actor": actor},
    )  # fmt: skip


def _store_answer(
    conn: Connection,
    acceptance: Acceptance,
    status: int,
    text: str,
    transaction_id: str | None,
) -> IdempotentAnswer:
    _INSERT_ANSWER.run(
        conn,
        {
            "client_id": acceptance.client_id,
            "key": acceptance.idempotency_key,
            "request_hash": acceptance.request_hash,
            "response_status": status,
            "response_body": text,
            "transaction_id": transaction_id,
            "created_at": acceptance.transaction.created_at,
        },
    )
    return IdempotentAnswer(acceptance.request_hash, status, text, replayed=False)


def key_legacy_fingerprints(
    conn: Connection, keyed: Callable[[str], str], *, after: str, limit: int
) -> tuple[int, str | None]:
    """Rewrite the bare-digest fingerprints among the next ``limit`` idempotency keys
    after ``after`` (in key order) with ``keyed(digest)``.

    Returns how many were rewritten and the last key read (None at the end).
    """
    rows = conn.execute(
        select(idempotency_keys.c.key, idempotency_keys.c.request_hash)
        .where(idempotency_keys.c.key > after)
        .order_by(idempotency_keys.c.key)
        .limit(limit)
    ).all()
    rewritten = 0
    for key, stored in rows:
        if stored.startswith(KEYED_PREFIX):
            continue
        conn.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.key == key, idempotency_keys.c.request_hash == stored)
            .values(request_hash=keyed(stored))
        )
        rewritten += 1
    return rewritten, (rows[-1].key if len(rows) == limit else None)


def has_legacy_fingerprints(conn: Connection) -> bool:
    """Whether any idempotency key still has a bare-digest fingerprint."""
    legacy = select(idempotency_keys.c.key).where(
        idempotency_keys.c.request_hash.not_like(f"{KEYED_PREFIX}%")
    )
    return conn.execute(legacy.limit(1)).first() is not None
