"""A callback event id seen before is answered 200 and never applied again.

Forward-only status rules hide a re-applied *final* event (a second "success"
after "success" changes nothing anyway), so these tests repeat events whose
second application would show: an earlier "pending" after the payment has
completed (a backwards event on the timeline), and "pending" twice in a row.
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from gateways import sign
from tests.integration.facade.support import deposit
from tests.paycon_fixtures import RunningPaycon


async def send_callback(
    paycon: RunningPaycon, transaction_id: str, event_id: str, status: str
) -> int:
    """Gateway A's signed callback for a 10.00 EUR payment; returns the HTTP status."""
    body = json.dumps(
        {"eventId": event_id, "transactionId": transaction_id, "status": status,
         "amount": "10.00", "currency": "EUR"}
    ).encode()  # fmt: skip
    headers = {"X-Signature": sign("secret-a", body, int(time.time())),
               "Content-Type": "application/json"}  # fmt: skip
    async with paycon.http.post(
        paycon.url + "/v1/callbacks/gateway_a", data=body, headers=headers
    ) as response:
        return response.status


def inbox(paycon: RunningPaycon) -> list[tuple[str, str, str]]:
    """(event id, status, outcome) of every stored callback, oldest first."""
    with sqlite3.connect(paycon.db_path) as conn:
        rows = conn.execute("SELECT event_id, status, outcome FROM callback_inbox ORDER BY id")
        return [(str(e), str(s), str(o)) for e, s, o in rows]


async def timeline(paycon: RunningPaycon, transaction_id: str) -> list[tuple[str, str]]:
    status, body = await paycon.get(f"/v1/transactions/{transaction_id}")
    assert status == 200, body
    return [(event["type"], event["detail"]) for event in body["events"]]


async def snapshot(paycon: RunningPaycon, transaction_id: str) -> dict[str, Any]:
    """What a merchant or operator sees of the payment."""
    _, transaction = await paycon.get(f"/v1/transactions/{transaction_id}")
    _, balances = await paycon.get(f"/v1/customers/{transaction['customer_id']}/balances")
    return {"transaction": transaction, "balances": balances, "tables": paycon.counts()}


async def test_an_earlier_event_repeated_after_completion_is_not_applied_again(
    paycon: RunningPaycon,
) -> None:
    tx = (await deposit(paycon, "dep-replayed-events"))["id"]
    assert await send_callback(paycon, tx, "ev-ack", "pending") == 200
    assert await send_callback(paycon, tx, "ev-done", "success") == 200
    before = await snapshot(paycon, tx)
    assert before["transaction"]["status"] == "completed"
    events_before = await timeline(paycon, tx)

    # Applied again, "pending" after "completed" would be a backwards event on the timeline.
    assert await send_callback(paycon, tx, "ev-ack", "pending") == 200

    assert await timeline(paycon, tx) == events_before
    assert await snapshot(paycon, tx) == before
    assert inbox(paycon) == [("ev-ack", "submitted", "apply"), ("ev-done", "completed", "apply")]


async def test_a_pending_event_twice_is_stored_and_applied_once(paycon: RunningPaycon) -> None:
    tx = (await deposit(paycon, "dep-pending-twice"))["id"]

    assert await send_callback(paycon, tx, "ev-ack-1", "pending") == 200
    after_first = await snapshot(paycon, tx)
    events_after_first = await timeline(paycon, tx)
    assert after_first["transaction"]["status"] == "submitted"
    assert await send_callback(paycon, tx, "ev-ack-1", "pending") == 200

    assert await timeline(paycon, tx) == events_after_first
    assert await snapshot(paycon, tx) == after_first
    assert inbox(paycon) == [("ev-ack-1", "submitted", "apply")]
    async with paycon.http.get(paycon.url + "/metrics") as response:
        metrics = await response.text()
    assert 'paycon_callbacks_total{gateway="gateway_a",outcome="apply"} 1' in metrics
    assert 'paycon_callbacks_total{gateway="gateway_a",outcome="duplicate"} 1' in metrics
