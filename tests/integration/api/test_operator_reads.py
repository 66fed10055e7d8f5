"""The dashboard in one read, a transaction's ledger and tasks, counts and filtered lists."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest

from tests.integration.facade.support import complete, deposit
from tests.paycon_fixtures import CLIENT_KEY, OPERATOR_KEY, RunningPaycon

BAD_DEPOSIT = {"customer_id": "cus 1", "amount": "1.00", "currency": "EUR", "country": "DE"}


async def test_overview_has_traffic_outbox_and_gateways(paycon: RunningPaycon) -> None:
    first = await deposit(paycon, "k1")
    await deposit(paycon, "k2")
    status, _, _ = await paycon.post_json("/v1/deposits", BAD_DEPOSIT, key="bad")
    assert status == 400
    status, body = await paycon.get("/v1/overview", token=OPERATOR_KEY)
    assert status == 200
    assert set(body) == {"at", "traffic", "outbox", "gateways", "held_for_review", "ledger_breaks"}
    assert body["held_for_review"] == 0
    # None until a ledger check has run (processes with outbox workers run it).
    assert body["ledger_breaks"] is None
    traffic = body["traffic"]
    # A service younger than the 60 s window divides by its age.
    assert 1.0 <= traffic["window_s"] < 60.0
    assert traffic["payments_per_s"] == pytest.approx(2 / traffic["window_s"], rel=0.1)
    assert traffic["error_rate"] == round(1 / 3, 4)
    assert body["outbox"]["counts"]["pending"] == 2
    assert [g["name"] for g in body["gateways"]] == ["gateway_a", "gateway_b"]
    gateway = body["gateways"][0]
    assert (gateway["enabled"], gateway["recent_errors"], gateway["faults"]) == (True, [], None)
    status, _ = await paycon.get("/v1/overview", token=CLIENT_KEY)
    assert status == 403
    hold(paycon, first["id"])
    _, body = await paycon.get("/v1/overview", token=OPERATOR_KEY)
    assert body["held_for_review"] == 1


def hold(paycon: RunningPaycon, transaction_id: str) -> None:
    """Hold a payment for review, as the review watch would for a dead task."""
    with closing(sqlite3.connect(paycon.db_path)) as conn, conn:
        conn.execute(
            "UPDATE transactions SET review_reason = 'task_dead', review_detail = 'x', "
            "review_since = '2026-01-01 00:00:00.000000' WHERE id = ?",
            (transaction_id,),
        )


async def test_a_transactions_ledger_and_tasks(paycon: RunningPaycon) -> None:
    tx = await deposit(paycon, "k1", notify_url="http://127.0.0.1:9/hook")
    _, ledger = await paycon.get(f"/v1/transactions/{tx['id']}/ledger")
    assert ledger == {"items": []}
    await complete(paycon, tx["id"])
    status, ledger = await paycon.get(f"/v1/transactions/{tx['id']}/ledger")
    assert status == 200
    # One journal entry: the gateway's clearing account against the customer's available.
    lines = ledger["items"]
    assert [(x["account"], x["delta"], x["posting"], x["currency"]) for x in lines] == [
        ({"holder": "gateway", "owner": "gateway_a", "name": "clearing"}, "10.00", "10.00", "EUR"),
        ({"holder": "customer", "owner": "cus_1", "name": "available"}, "10.00", "-10.00", "EUR"),
    ]
    assert len({x["entry_id"] for x in lines}) == 1
    assert {(x["reason"], x["customer_id"]) for x in lines} == {("deposit_credit", "cus_1")}
    status, journal = await paycon.get(
        f"/v1/ledger/journal?transaction_id={tx['id']}", token=OPERATOR_KEY
    )
    assert status == 200
    [entry] = journal["items"]
    assert (entry["id"], entry["reason"], len(entry["postings"])) == (
        lines[0]["entry_id"], "deposit_credit", 2,
    )  # fmt: skip
    assert journal["next_cursor"] is None
    status, accounts = await paycon.get("/v1/ledger/accounts?owner=gateway_a", token=OPERATOR_KEY)
    assert status == 200
    assert [
        (a["account"]["name"], a["balance"], a["debit_balance"]) for a in accounts["items"]
    ] == [("clearing", "10.00", "10.00")]
    assert (await paycon.get("/v1/ledger/accounts"))[0] == 403
    assert (await paycon.get("/v1/ledger/journal?cursor=nope", token=OPERATOR_KEY))[0] == 400
    status, tasks = await paycon.get(f"/v1/transactions/{tx['id']}/tasks", token=OPERATOR_KEY)
    assert status == 200
    assert [t["dedupe_key"] for t in tasks["items"]] == [
        f"submit:gateway_a:{tx['id']}",
        f"notify:{tx['id']}",
    ]
    status, _ = await paycon.get(f"/v1/transactions/{tx['id']}/tasks")
    assert status == 403
    unknown = "tx_01JDXK3M6Y8Q2R4T6V8X0Z2B4D"
    for path in (f"/v1/transactions/{unknown}/ledger", f"/v1/transactions/{unknown}/tasks"):
        status, problem = await paycon.get(path, token=OPERATOR_KEY)
        assert (status, problem["code"]) == (404, "not_found")
    status, _ = await paycon.get("/v1/transactions/nope/ledger")
    assert status == 400


async def test_transactions_by_reference(paycon: RunningPaycon) -> None:
    first = await deposit(paycon, "k1", reference="order-1")
    await deposit(paycon, "k2", reference="order-2")
    second = await deposit(paycon, "k3", reference="order-1")
    _, page = await paycon.get("/v1/transactions?reference=order-1")
    assert [t["id"] for t in page["items"]] == [second["id"], first["id"]]
    status, _ = await paycon.get("/v1/transactions?reference=")
    assert status == 400


async def test_count_and_gateway_filtered_tasks(paycon: RunningPaycon) -> None:
    await deposit(paycon, "a1")
    await deposit(paycon, "a2")
    await deposit(paycon, "b1", gateway="gateway_b")
    with sqlite3.connect(paycon.db_path) as conn:
        conn.execute("UPDATE outbox_tasks SET state = 'dead'")
    status, body = await paycon.get(
        "/v1/outbox/count?state=dead&gateway=gateway_a", token=OPERATOR_KEY
    )
    assert (status, body["matching"]) == (200, 2)
    _, body = await paycon.get("/v1/outbox/count?state=dead", token=OPERATOR_KEY)
    assert body["matching"] == 3
    _, page = await paycon.get("/v1/outbox/tasks?gateway=gateway_b", token=OPERATOR_KEY)
    assert [t["dedupe_key"][:17] for t in page["items"]] == ["submit:gateway_b:"]
    assert page["next_cursor"] is None


@pytest.mark.parametrize(
    "query",
    [
        "/v1/outbox/count",
        "/v1/outbox/count?state=done",
        "/v1/outbox/count?state=dead&state=pending",
        "/v1/outbox/count?state=dead&color=red",
        "/v1/outbox/count?state=dead&kind=notify&gateway=gateway_a",
        "/v1/outbox/tasks?gateway=",
        "/v1/outbox/tasks?gateway=gateway_a&kind=notify",
        "/v1/outbox/tasks?gateway=gateway_a&cursor=x",
        # Past the largest task id (2**63 - 1), or not a task id at all.
        "/v1/outbox/tasks?gateway=gateway_a&cursor=9999999999999999999",
        "/v1/outbox/tasks?gateway=gateway_a&cursor=9223372036854775808",
        "/v1/outbox/tasks?cursor=9999999999999999999",
        "/v1/outbox/tasks?state=dead&cursor=9223372036854775808",
        "/v1/outbox/tasks?kind=submit&cursor=99999999999999999999",
        "/v1/outbox/tasks?cursor=0",
        "/v1/outbox/tasks?cursor=%D9%A3",  # an Arabic-Indic digit three
        "/v1/outbox/tasks?limit=99999999999999999999999",
        "/v1/outbox/tasks/9223372036854775808",
        "/v1/outbox/tasks/99999999999999999999999",
        "/v1/outbox/tasks/0",
    ],
)
async def test_bad_operator_queries_are_400(paycon: RunningPaycon, query: str) -> None:
    status, problem = await paycon.get(query, token=OPERATOR_KEY)
    assert status == 400
    assert problem["code"] == "invalid_request"


@pytest.mark.parametrize("action", ["replay", "discard"])
async def test_task_ids_past_the_largest_are_400_in_actions(
    paycon: RunningPaycon, action: str
) -> None:
    async with paycon.http.post(
        f"{paycon.url}/v1/outbox/tasks/9223372036854775808/{action}",
        json={"reason": "x"},
        headers={"Authorization": f"Bearer {OPERATOR_KEY}"},
    ) as response:
        assert response.status == 400
        problem = await response.json(content_type=None)
    assert [e["field"] for e in problem["errors"]] == ["id"]


async def test_the_largest_task_id_and_cursor_are_accepted(paycon: RunningPaycon) -> None:
    largest = 2**63 - 1
    status, _ = await paycon.get(f"/v1/outbox/tasks/{largest}", token=OPERATOR_KEY)
    assert status == 404
    for query in (f"cursor={largest}", f"gateway=gateway_a&cursor={largest}"):
        status, page = await paycon.get(f"/v1/outbox/tasks?{query}", token=OPERATOR_KEY)
        assert status == 200, page
