"""Payments a gateway's word does not fit are held for review; an operator resolves them."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateways import sign
from paycon.usecases.review import ReviewWatch
from tests.integration.facade.support import DEPOSIT, complete, deposit, set_task_states
from tests.paycon_fixtures import OPERATOR_KEY, RunningPaycon

SECRETS = {"gateway_a": "secret-a", "gateway_b": "secret-b"}
WITHDRAWAL = {
    "customer_id": "cus_1", "amount": "4.00", "currency": "EUR", "country": "DE",
    "destination": {"iban": "DE89370400440532013000", "holder": "Jane Doe"},
}  # fmt: skip


async def callback_a(
    paycon: RunningPaycon, transaction_id: str, event_id: str, status: str, **fields: str
) -> int:
    """Gateway A's signed JSON callback (amount and currency default to the deposit's)."""
    body = json.dumps(
        {"eventId": event_id, "transactionId": transaction_id, "status": status,
         "amount": DEPOSIT["amount"], "currency": DEPOSIT["currency"], **fields}
    ).encode()  # fmt: skip
    return await _post_callback(paycon, "gateway_a", body)


async def callback_b(paycon: RunningPaycon, transaction_id: str, event_id: str) -> int:
    """Gateway B's signed XML callback saying the payment succeeded, for the deposit's amount."""
    body = (
        f"<Callback><EventId>{event_id}</EventId><TransactionId>{transaction_id}</TransactionId>"
        "<Status>success</Status><Amount>10.00</Amount><Currency>EUR</Currency></Callback>"
    ).encode()
    return await _post_callback(paycon, "gateway_b", body)


async def _post_callback(paycon: RunningPaycon, gateway: str, body: bytes) -> int:
    headers = {"X-Signature": sign(SECRETS[gateway], body, int(time.time()))}
    async with paycon.http.post(
        f"{paycon.url}/v1/callbacks/{gateway}", data=body, headers=headers
    ) as response:
        return response.status


async def transaction(paycon: RunningPaycon, transaction_id: str) -> dict[str, Any]:
    status, body = await paycon.get(f"/v1/transactions/{transaction_id}")
    assert status == 200, body
    return dict(body)


async def available(paycon: RunningPaycon) -> tuple[str, str]:
    _, body = await paycon.get("/v1/customers/cus_1/balances")
    if not body["balances"]:
        return ("0", "0")
    return body["balances"][0]["available"], body["balances"][0]["held"]


async def held_ids(paycon: RunningPaycon) -> list[str]:
    status, page = await paycon.get("/v1/transactions?review=true", token=OPERATOR_KEY)
    assert status == 200, page
    return [item["id"] for item in page["items"]]


async def resolve(
    paycon: RunningPaycon, transaction_id: str, status: str, reason: str = "checked with A"
) -> tuple[int, Any]:
    answer, _, body = await paycon.post_json(
        f"/v1/transactions/{transaction_id}/resolve",
        {"status": status, "reason": reason},
        key=None,
        token=OPERATOR_KEY,
    )
    return answer, body


def audit(paycon: RunningPaycon) -> list[tuple[str, str, str]]:
    with sqlite3.connect(paycon.db_path) as conn:
        rows = conn.execute("SELECT action, subject, reason FROM operator_audit ORDER BY id")
        return [(str(a), str(b), str(c)) for a, b, c in rows]


async def test_a_callback_from_a_gateway_that_does_not_hold_the_payment_moves_nothing(
    paycon: RunningPaycon,
) -> None:
    tx = await deposit(paycon, "k1")  # routed to gateway_a
    assert await callback_b(paycon, tx["id"], "b-1") == 200
    seen = await transaction(paycon, tx["id"])
    assert seen["status"] == "pending"
    assert seen["review"]["reason"] == "wrong_gateway"
    assert "gateway_b says completed for 10.00 EUR" in seen["review"]["detail"]
    assert await available(paycon) == ("0", "0")
    assert "held_for_review" in [event["type"] for event in seen["events"]]
    assert await held_ids(paycon) == [tx["id"]]
    with sqlite3.connect(paycon.db_path) as conn:
        stored = conn.execute("SELECT outcome, amount, currency FROM callback_inbox").fetchall()
    assert stored == [("wrong_gateway", "10.00", "EUR")]
    async with paycon.http.get(paycon.url + "/metrics") as response:
        metrics = await response.text()
    assert 'outcome="wrong_gateway"' in metrics
    assert "paycon_transactions_held_for_review 1.0" in metrics.splitlines()


@pytest.mark.parametrize(
    ("amount", "currency"), [("0.01", "JPY"), ("10.01", "EUR"), ("10.00", "USD"), ("10.001", "EUR")]
)
async def test_a_callback_for_another_amount_moves_nothing(
    paycon: RunningPaycon, amount: str, currency: str
) -> None:
    tx = await deposit(paycon, "k1")
    assert await callback_a(paycon, tx["id"], "a-1", "success", amount=amount,
                            currency=currency) == 200  # fmt: skip
    seen = await transaction(paycon, tx["id"])
    assert (seen["status"], seen["review"]["reason"]) == ("pending", "amount_mismatch")
    assert await available(paycon) == ("0", "0")


async def test_a_failure_after_success_is_held_and_keeps_the_money_until_decided(
    paycon: RunningPaycon,
) -> None:
    tx = await deposit(paycon, "k1")
    assert await callback_a(paycon, tx["id"], "a-1", "success") == 200
    assert (await available(paycon))[0] == "10.00"
    assert await callback_a(paycon, tx["id"], "a-2", "failure", reason="chargeback") == 200
    seen = await transaction(paycon, tx["id"])
    assert (seen["status"], seen["review"]["reason"]) == ("completed", "conflicting_status")
    assert "chargeback" in seen["review"]["detail"]
    assert (await available(paycon))[0] == "10.00"
    # The operator decides the late failure stands: the deposit is reversed, once.
    status, body = await resolve(paycon, tx["id"], "failed", "chargeback confirmed by A")
    assert status == 200, body
    assert (body["status"], body["review"]) == ("reversed", None)
    assert (await available(paycon))[0] == "0.00"
    status, problem = await resolve(paycon, tx["id"], "failed")
    assert (status, problem["status"]) == (409, 409)
    assert "not held" in problem["detail"]
    assert (await available(paycon))[0] == "0.00"
    assert audit(paycon) == [("resolve", f"transaction:{tx['id']}", "chargeback confirmed by A")]
    assert await held_ids(paycon) == []


async def test_resolving_a_wrong_gateway_hold_books_the_payment_once(paycon: RunningPaycon) -> None:
    tx = await deposit(paycon, "k1")
    await callback_b(paycon, tx["id"], "b-1")
    status, body = await resolve(paycon, tx["id"], "completed", "A confirmed it by phone")
    assert status == 200, body
    assert body["status"] == "completed"
    assert body["events"][-1]["type"] == "review_resolved"
    assert body["events"][-1]["actor"].startswith("operator:")
    assert await available(paycon) == ("10.00", "0.00")
    # The gateway's own callback afterwards changes nothing more.
    assert await callback_a(paycon, tx["id"], "a-1", "success") == 200
    assert await available(paycon) == ("10.00", "0.00")


async def test_a_reversal_beyond_available_books_the_rest_as_owed_and_the_next_deposit_pays_it(
    paycon: RunningPaycon,
) -> None:
    tx = await deposit(paycon, "k1")
    await complete(paycon, tx["id"])
    status, _, _ = await paycon.post_json("/v1/withdrawals", WITHDRAWAL, key="w1")
    assert status == 202
    await callback_a(paycon, tx["id"], "a-2", "failure")
    status, body = await resolve(paycon, tx["id"], "failed")
    assert (status, body["status"]) == (200, "reversed")
    assert await held_ids(paycon) == []
    _, balances = await paycon.get("/v1/customers/cus_1/balances")
    assert balances["balances"] == [
        {"currency": "EUR", "available": "0.00", "held": "4.00", "owed": "4.00"}
    ]
    _, ledger = await paycon.get(f"/v1/transactions/{tx['id']}/ledger")
    reversal = [
        (line["account"]["name"], line["delta"])
        for line in ledger["items"]
        if line["reason"] == "deposit_reversal"
    ]
    assert reversal == [("available", "-6.00"), ("owed", "4.00"), ("clearing", "-10.00")]
    again = await deposit(paycon, "k2")
    await complete(paycon, again["id"], "ev-2")
    _, balances = await paycon.get("/v1/customers/cus_1/balances")
    assert balances["balances"] == [{"currency": "EUR", "available": "6.00", "held": "4.00"}]


async def test_resolve_needs_an_operator_key_a_reason_and_a_held_payment(
    paycon: RunningPaycon,
) -> None:
    tx = await deposit(paycon, "k1")
    status, _, _ = await paycon.post_json(
        f"/v1/transactions/{tx['id']}/resolve", {"status": "completed", "reason": "x"}, key=None
    )
    assert status == 403
    status, problem = await resolve(paycon, tx["id"], "completed", "")
    assert status == 400, problem
    status, problem = await resolve(paycon, tx["id"], "reversed")
    assert status == 400, problem
    status, problem = await resolve(paycon, tx["id"], "completed")
    assert status == 409
    assert (await transaction(paycon, tx["id"]))["status"] == "pending"
    status, _ = await paycon.get("/v1/transactions?review=true")
    assert status == 403
    status, _ = await paycon.get("/v1/transactions?review=false", token=OPERATOR_KEY)
    assert status == 400


async def test_a_dead_submit_task_holds_its_withdrawal_and_failing_it_releases_the_hold_once(
    paycon: RunningPaycon,
) -> None:
    tx = await deposit(paycon, "k1")
    await complete(paycon, tx["id"])
    status, _, withdrawal = await paycon.post_json("/v1/withdrawals", WITHDRAWAL, key="w1")
    assert status == 202
    assert await available(paycon) == ("6.00", "4.00")
    set_task_states(paycon, "dead", where=f"dedupe_key = 'submit:gateway_a:{withdrawal['id']}'")
    watch = ReviewWatch(paycon.service.db, in_flight_max_age_s=3600)
    assert await watch.look() == 1
    assert await watch.look() == 0
    seen = await transaction(paycon, withdrawal["id"])
    assert seen["review"]["reason"] == "task_dead"
    assert "502 from gateway" in seen["review"]["detail"]
    status, body = await resolve(paycon, withdrawal["id"], "failed", "never sent; customer told")
    assert (status, body["status"]) == (200, "failed")
    assert await available(paycon) == ("10.00", "0.00")
    status, _ = await resolve(paycon, withdrawal["id"], "failed")
    assert status == 409
    assert await available(paycon) == ("10.00", "0.00")


async def test_a_discarded_task_holds_its_payment(paycon: RunningPaycon) -> None:
    tx = await deposit(paycon, "k1")
    set_task_states(paycon, "dead")
    with sqlite3.connect(paycon.db_path) as conn:
        (task_id,) = conn.execute("SELECT id FROM outbox_tasks").fetchone()
    status, _, body = await paycon.post_json(
        f"/v1/outbox/tasks/{task_id}/discard", {"reason": "gateway A lost it"}, key=None,
        token=OPERATOR_KEY,
    )  # fmt: skip
    assert status == 200, body
    seen = await transaction(paycon, tx["id"])
    assert seen["review"]["reason"] == "task_discarded"
    assert "gateway A lost it" in seen["review"]["detail"]


async def test_a_payment_in_flight_too_long_is_held(paycon: RunningPaycon) -> None:
    olds = [await deposit(paycon, "k1")]
    young = await deposit(paycon, "k2")
    # Ids sort by the millisecond: the cut falls between two that do not share one.
    while young["created_at"] == olds[-1]["created_at"]:
        olds.append(young)
        young = await deposit(paycon, f"k2-{young['id']}")
    done = await deposit(paycon, "k3")
    await complete(paycon, done["id"])
    later = datetime.now(UTC) + timedelta(seconds=600)
    cut = datetime.fromisoformat(young["created_at"].replace("Z", "+00:00"))
    # The clock stands where the oldest is past the age and the younger one just not yet.
    age_s = (later - cut).total_seconds()
    watch = ReviewWatch(paycon.service.db, in_flight_max_age_s=age_s, clock=lambda: later)
    assert await watch.look() == len(olds)
    assert await held_ids(paycon) == [old["id"] for old in reversed(olds)]
    assert (await transaction(paycon, olds[0]["id"]))["review"]["reason"] == "in_flight_too_long"
