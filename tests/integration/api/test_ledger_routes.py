"""Operators page through the ledger's accounts and journal."""

from __future__ import annotations

from decimal import Decimal

from tests.integration.api.test_review import WITHDRAWAL
from tests.integration.facade.support import complete, deposit
from tests.paycon_fixtures import OPERATOR_KEY, RunningPaycon


async def test_accounts_and_journal_page_through_everything_once(paycon: RunningPaycon) -> None:
    tx = await deposit(paycon, "k1")
    await complete(paycon, tx["id"])
    status, _, _ = await paycon.post_json("/v1/withdrawals", WITHDRAWAL, key="w1")
    assert status == 202

    status, first = await paycon.get("/v1/ledger/accounts?limit=2", token=OPERATOR_KEY)
    assert status == 200
    assert [
        (a["account"]["owner"], a["account"]["name"], a["balance"]) for a in first["items"]
    ] == [
        ("cus_1", "available", "6.00"),
        ("cus_1", "held", "4.00"),
    ]
    assert first["next_cursor"] == "customer/cus_1/held/EUR"
    status, second = await paycon.get(
        f"/v1/ledger/accounts?limit=2&cursor={first['next_cursor']}", token=OPERATOR_KEY
    )
    assert status == 200
    assert [(a["account"]["name"], a["balance"], a["debit_balance"]) for a in second["items"]] == [
        ("clearing", "10.00", "10.00")
    ]
    assert second["next_cursor"] is None

    status, newest = await paycon.get("/v1/ledger/journal?limit=1", token=OPERATOR_KEY)
    assert status == 200
    [hold] = newest["items"]
    assert hold["reason"] == "withdrawal_hold"
    assert sum(Decimal(p["posting"]) for p in hold["postings"]) == 0
    status, older = await paycon.get(
        f"/v1/ledger/journal?limit=1&cursor={newest['next_cursor']}", token=OPERATOR_KEY
    )
    assert [e["reason"] for e in older["items"]] == ["deposit_credit"]
    assert older["next_cursor"] is None
    status, by_gateway = await paycon.get(
        "/v1/ledger/journal?holder=gateway&owner=gateway_a", token=OPERATOR_KEY
    )
    assert [e["reason"] for e in by_gateway["items"]] == ["deposit_credit"]
    status, problem = await paycon.get("/v1/ledger/accounts?name=wallet", token=OPERATOR_KEY)
    assert (status, problem["errors"][0]["field"]) == (400, "name")
