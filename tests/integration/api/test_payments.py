"""Accepting deposits and withdrawals over real HTTP against a real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

from paycon.storage.payments import SUBMIT_TASK
from tests.paycon_fixtures import OPERATOR_KEY, RunningPaycon

DEPOSIT = {"customer_id": "cus_1", "amount": "100.50", "currency": "EUR", "country": "DE"}
IBAN = "DE89370400440532013000"


def withdrawal(amount: str, customer: str = "cus_1") -> dict[str, Any]:
    return {
        "customer_id": customer,
        "amount": amount,
        "currency": "EUR",
        "country": "DE",
        "destination": {"iban": IBAN, "holder": "Jane Doe"},
    }


def credit(paycon: RunningPaycon, customer: str, currency: str, minor: int) -> None:
    """Give a customer an available balance, booked as a completed deposit's journal entry."""
    at = "2026-01-01 00:00:00.000000"
    entry = f"jrn_{currency}_{customer}"[:32]
    with sqlite3.connect(paycon.db_path) as conn:
        conn.execute(
            "INSERT INTO journal_entries (id, transaction_id, reason, currency, at) "
            "VALUES (?, NULL, 'deposit_credit', ?, ?)",
            (entry, currency, at),
        )
        for holder, owner, name, delta in (
            ("gateway", "gateway_a", "clearing", minor),
            ("customer", customer, "available", -minor),
        ):
            conn.execute(
                "INSERT INTO postings (entry_id, holder, owner, name, currency, delta_minor) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (entry, holder, owner, name, currency, delta),
            )
            conn.execute(
                "INSERT INTO ledger_accounts (holder, owner, name, currency, balance_minor, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                "balance_minor = balance_minor + excluded.balance_minor",
                (holder, owner, name, currency, delta, at),
            )


async def test_deposit_is_accepted_with_its_submit_task(paycon: RunningPaycon) -> None:
    status, headers, body = await paycon.post_json("/v1/deposits", DEPOSIT, key="dep-1")
    assert status == 202
    assert headers["Content-Type"].startswith("application/json")
    assert body["status"] == "pending"
    assert body["amount"] == "100.50"
    assert body["kind"] == "deposit"
    assert body["gateway"] == "gateway_a"
    assert body["id"].startswith("tx_")
    with sqlite3.connect(paycon.db_path) as conn:
        (amount_minor,) = conn.execute(
            "SELECT amount_minor FROM transactions WHERE id = ?", (body["id"],)
        ).fetchone()
        task = conn.execute("SELECT kind, state, payload FROM outbox_tasks").fetchone()
    assert amount_minor == 10050
    assert task[0] == SUBMIT_TASK
    assert task[1] == "pending"
    assert body["id"] in task[2]

    status, detail = await paycon.get(f"/v1/transactions/{body['id']}")
    assert status == 200
    assert [e["type"] for e in detail["events"]] == ["accepted"]
    assert detail["events"][0]["actor"].startswith("client:key_")


async def test_withdrawal_holds_funds_and_masks_the_account(paycon: RunningPaycon) -> None:
    credit(paycon, "cus_1", "EUR", 10000)
    status, _, body = await paycon.post_json("/v1/withdrawals", withdrawal("30.00"))
    assert status == 202
    assert body["destination"] == {"iban": "DE89 **** **** 3000", "holder": "J*** D***"}
    status, balances = await paycon.get("/v1/customers/cus_1/balances")
    assert balances == {
        "customer_id": "cus_1",
        "balances": [{"currency": "EUR", "available": "70.00", "held": "30.00"}],
    }
    with sqlite3.connect(paycon.db_path) as conn:
        sealed = conn.execute("SELECT destination_sealed FROM transactions").fetchone()[0]
        everything = "\n".join(conn.iterdump())
    assert sealed
    assert IBAN not in everything


async def test_a_withdrawal_moves_only_the_balance_in_its_own_currency(
    paycon: RunningPaycon,
) -> None:
    credit(paycon, "cus_1", "EUR", 10000)
    credit(paycon, "cus_1", "USD", 5000)

    status, _, _ = await paycon.post_json("/v1/withdrawals", withdrawal("30.00"))

    assert status == 202
    _, balances = await paycon.get("/v1/customers/cus_1/balances")
    assert balances["balances"] == [
        {"currency": "EUR", "available": "70.00", "held": "30.00"},
        {"currency": "USD", "available": "50.00", "held": "0.00"},
    ]


async def test_insufficient_funds_stores_only_the_answer(paycon: RunningPaycon) -> None:
    credit(paycon, "cus_1", "EUR", 1000)
    before = paycon.counts()
    status, headers, body = await paycon.post_json(
        "/v1/withdrawals", withdrawal("10.01"), key="wd-poor"
    )
    assert status == 422
    assert headers["Content-Type"].startswith("application/problem+json")
    assert body["code"] == "insufficient_funds"
    after = paycon.counts()
    assert after["idempotency_keys"] == before["idempotency_keys"] + 1
    assert {k: v for k, v in after.items() if k != "idempotency_keys"} == {
        k: v for k, v in before.items() if k != "idempotency_keys"
    }
    again = await paycon.post_json("/v1/withdrawals", withdrawal("10.01"), key="wd-poor")
    assert again[0] == 422
    assert again[1]["Idempotent-Replayed"] == "true"
    assert again[2] == body


async def test_replay_returns_the_identical_answer(paycon: RunningPaycon) -> None:
    first = await paycon.post_json("/v1/deposits", DEPOSIT, key="same")
    # The same request, with the amount written differently.
    second = await paycon.post_json("/v1/deposits", {**DEPOSIT, "amount": "100.5"}, key="same")
    assert first[0] == second[0] == 202
    assert second[2] == first[2]
    assert second[1]["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first[1]
    assert paycon.counts()["transactions"] == 1


async def test_key_reused_for_another_request_is_422(paycon: RunningPaycon) -> None:
    await paycon.post_json("/v1/deposits", DEPOSIT, key="reused")
    status, _, body = await paycon.post_json(
        "/v1/deposits", {**DEPOSIT, "amount": "7.00"}, key="reused"
    )
    assert status == 422
    assert body["code"] == "idempotency_key_reused"
    assert paycon.counts()["transactions"] == 1


async def test_concurrent_requests_with_one_key_make_one_payment(paycon: RunningPaycon) -> None:
    results = await asyncio.gather(
        *(paycon.post_json("/v1/deposits", DEPOSIT, key="race") for _ in range(20))
    )
    statuses = sorted(status for status, _, _ in results)
    assert statuses.count(202) >= 1
    assert set(statuses) <= {202, 409}
    assert 409 in statuses
    fresh = [r for r in results if r[0] == 202 and "Idempotent-Replayed" not in r[1]]
    assert len(fresh) == 1
    assert paycon.counts()["transactions"] == 1
    assert paycon.counts()["outbox_tasks"] == 1


async def test_exactly_the_covered_withdrawals_are_accepted(paycon: RunningPaycon) -> None:
    credit(paycon, "cus_race", "EUR", 37 * 1000)
    results = await asyncio.gather(
        *(
            paycon.post_json("/v1/withdrawals", withdrawal("10.00", "cus_race"), key=f"w{i}")
            for i in range(200)
        )
    )
    statuses = [status for status, _, _ in results]
    assert statuses.count(202) == 37
    assert statuses.count(422) == 163
    _, balances = await paycon.get("/v1/customers/cus_race/balances")
    assert balances["balances"] == [{"currency": "EUR", "available": "0.00", "held": "370.00"}]
    with sqlite3.connect(paycon.db_path) as conn:
        sums = dict(
            conn.execute(
                "SELECT name, sum(delta_minor) FROM postings WHERE holder = 'customer' "
                "AND owner = ? GROUP BY name",
                ("cus_race",),
            ).fetchall()
        )
    # Postings are debit positive: the credit, then 37 holds moving it all to held.
    assert sums == {"available": 0, "held": -37000}
    assert paycon.counts()["transactions"] == 37


async def test_pinned_gateway_must_serve_the_currency(paycon: RunningPaycon) -> None:
    status, _, body = await paycon.post_json(
        "/v1/deposits", {**DEPOSIT, "gateway": "gateway_zz"}, key="pin"
    )
    assert status == 422
    assert body["code"] == "gateway_not_allowed"
    assert paycon.counts()["transactions"] == 0
    status, _, body = await paycon.post_json(
        "/v1/deposits", {**DEPOSIT, "gateway": "gateway_b"}, key="pin-b"
    )
    assert status == 202
    assert body["gateway"] == "gateway_b"


async def test_listing_filters_and_pages_newest_first(paycon: RunningPaycon) -> None:
    ids = []
    for i in range(5):
        customer = "cus_a" if i % 2 == 0 else "cus_b"
        _, _, body = await paycon.post_json(
            "/v1/deposits", {**DEPOSIT, "customer_id": customer}, key=f"list-{i}"
        )
        ids.append(body["id"])
    status, page = await paycon.get("/v1/transactions?limit=2")
    assert status == 200
    assert [t["id"] for t in page["items"]] == ids[::-1][:2]
    _, page2 = await paycon.get(f"/v1/transactions?limit=2&cursor={page['next_cursor']}")
    _, page3 = await paycon.get(f"/v1/transactions?limit=2&cursor={page2['next_cursor']}")
    assert [t["id"] for t in page2["items"] + page3["items"]] == ids[::-1][2:]
    assert page3["next_cursor"] is None
    _, only_a = await paycon.get("/v1/transactions?customer_id=cus_a&status=pending&kind=deposit")
    assert [t["id"] for t in only_a["items"]] == [ids[4], ids[2], ids[0]]
    _, none = await paycon.get("/v1/transactions?status=completed")
    assert none == {"items": [], "next_cursor": None}


async def test_operator_keys_may_create_payments_too(paycon: RunningPaycon) -> None:
    status, _, _ = await paycon.post_json("/v1/deposits", DEPOSIT, token=OPERATOR_KEY)
    assert status == 202


async def test_unknown_transaction_is_404(paycon: RunningPaycon) -> None:
    status, body = await paycon.get("/v1/transactions/tx_01M8DNAQ4ZCZK2H8784FBQXF10")
    assert status == 404
    assert body["code"] == "not_found"


async def test_replay_survives_a_routing_change(paycon: RunningPaycon) -> None:
    first = await paycon.post_json(
        "/v1/deposits", {**DEPOSIT, "gateway": "gateway_b"}, key="pinned-then-gone"
    )
    assert first[0] == 202
    # gateway_b is taken out of routing; the answer given with it still replays.
    async with paycon.http.post(
        paycon.url + "/v1/gateways/gateway_b/disable",
        json={"reason": "provider incident"},
        headers={"Authorization": f"Bearer {OPERATOR_KEY}"},
    ) as response:
        assert response.status == 200
    again = await paycon.post_json(
        "/v1/deposits", {**DEPOSIT, "gateway": "gateway_b"}, key="pinned-then-gone"
    )
    assert again[0] == 202
    assert again[2] == first[2]
    fresh = await paycon.post_json(
        "/v1/deposits", {**DEPOSIT, "gateway": "gateway_b"}, key="pinned-new"
    )
    assert fresh[0] == 422
    assert fresh[2]["code"] == "gateway_not_allowed"
