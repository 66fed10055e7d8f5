"""Putting a real paycon into the states operators deal with."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from gateways import sign
from tests.paycon_fixtures import RunningPaycon, stored_now

DEPOSIT = {"customer_id": "cus_1", "amount": "10.00", "currency": "EUR", "country": "DE"}


async def deposit(paycon: RunningPaycon, key: str, **fields: Any) -> dict[str, Any]:
    """Accept a deposit over the API; returns the transaction."""
    status, _, body = await paycon.post_json("/v1/deposits", {**DEPOSIT, **fields}, key=key)
    assert status == 202, body
    return dict(body)


async def complete(paycon: RunningPaycon, transaction_id: str, event_id: str = "ev-1") -> None:
    """Gateway A's signed callback saying the payment (of ``DEPOSIT``'s amount) succeeded."""
    money = {"amount": DEPOSIT["amount"], "currency": DEPOSIT["currency"]}
    body = json.dumps(
        {"eventId": event_id, "transactionId": transaction_id, "status": "success", **money}
    ).encode()
    headers = {"X-Signature": sign("secret-a", body, int(time.time())),
               "Content-Type": "application/json"}  # fmt: skip
    async with paycon.http.post(
        paycon.url + "/v1/callbacks/gateway_a", data=body, headers=headers
    ) as response:
        assert response.status == 200, await response.text()


def set_task_states(paycon: RunningPaycon, state: str, *, where: str = "1 = 1") -> None:
    """Move tasks to ``state`` now, as the workers would (dead: attempts used up)."""
    with sqlite3.connect(paycon.db_path) as conn:
        conn.execute(
            "UPDATE outbox_tasks SET state = ?, attempts = max_attempts, updated_at = ?, "  # noqa: S608
            f"last_error = 'GatewayTransient: 502 from gateway' WHERE {where}",
            (state, stored_now()),
        )


def task_row(paycon: RunningPaycon, task_id: int) -> tuple[str, int]:
    """A task's state and attempts, straight from the database file."""
    with sqlite3.connect(paycon.db_path) as conn:
        state, attempts = conn.execute(
            "SELECT state, attempts FROM outbox_tasks WHERE id = ?", (task_id,)
        ).fetchone()
    return str(state), int(attempts)


def audit_rows(paycon: RunningPaycon, table: str) -> list[tuple[str, str, str]]:
    """(actor, action, reason) of every row of an audit table, oldest first."""
    with sqlite3.connect(paycon.db_path) as conn:
        rows = conn.execute(f"SELECT actor, action, reason FROM {table} ORDER BY id")  # noqa: S608
        return [(str(a), str(b), str(c)) for a, b, c in rows]
