"""Operators read reconciliation runs and breaks, and resolve a break no payment carries."""

from __future__ import annotations

from datetime import UTC, datetime

from paycon.usecases.reconcile import Reconciliation, Report
from tests.integration.facade.support import complete, deposit
from tests.paycon_fixtures import CLIENT_KEY, OPERATOR_KEY, RunningPaycon

HEADER = "gateway_reference,transaction_id,type,gross,fee,net,currency,value_date\r\n"


async def reconcile(paycon: RunningPaycon, text: str) -> None:
    desk = Reconciliation(paycon.service.db, paycon.service.settings.gateways)
    report = Report(text, "test.csv", datetime.now(UTC))
    await desk.reconcile("gateway_a", report, day=None, actor="cli:test")


async def test_runs_and_open_breaks_are_listed_and_an_unknown_line_is_resolved(
    paycon: RunningPaycon,
) -> None:
    tx = await deposit(paycon, "k1")
    await complete(paycon, tx["id"])
    today = datetime.now(UTC).date().isoformat()
    await reconcile(
        paycon,
        HEADER
        + f"GA0000000001,{tx['id']},deposit,10.00,0.25,9.75,EUR,{today}\r\n"
        + f"GA0000000002,tx_stranger,deposit,3.00,0.00,3.00,EUR,{today}\r\n",
    )
    status, runs = await paycon.get("/v1/reconciliation/runs", token=OPERATOR_KEY)
    assert status == 200
    [run] = runs["items"]
    assert (run["gateway"], run["report_date"], run["actor"]) == ("gateway_a", today, "cli:test")
    assert (run["lines"], run["matched"], run["booked"], run["open_breaks"]) == (2, 1, 1, 1)
    assert run["breaks"] == {"unknown_transaction": 1}
    assert run["totals"] == {"EUR": {"lines": 2, "gross": "13.00", "fee": "0.25", "net": "12.75"}}

    status, breaks = await paycon.get("/v1/reconciliation/breaks", token=OPERATOR_KEY)
    assert status == 200
    [found] = breaks["items"]
    assert (found["kind"], found["transaction_id"], found["suspense"]) == (
        "unknown_transaction", "tx_stranger", "-3.00",
    )  # fmt: skip
    assert found["paycon_says"] == "no such payment"
    assert found["report_says"].startswith("deposit 3.00 EUR")

    status, _, resolved = await paycon.post_json(
        f"/v1/reconciliation/breaks/{found['id']}/resolve",
        {"reason": "a test payment of the bank"}, key=None, token=OPERATOR_KEY,
    )  # fmt: skip
    assert status == 200, resolved
    assert (resolved["state"], resolved["resolution"]) == ("resolved", "a test payment of the bank")
    _, open_now = await paycon.get("/v1/reconciliation/breaks", token=OPERATOR_KEY)
    assert open_now["items"] == []
    status, _, _ = await paycon.post_json(
        f"/v1/reconciliation/breaks/{found['id']}/resolve",
        {"reason": "twice"}, key=None, token=OPERATOR_KEY,
    )  # fmt: skip
    assert status == 409


async def test_the_routes_are_for_operators_and_check_their_input(paycon: RunningPaycon) -> None:
    status, _ = await paycon.get("/v1/reconciliation/runs", token=CLIENT_KEY)
    assert status == 403
    status, problem = await paycon.get("/v1/reconciliation/breaks?state=gone", token=OPERATOR_KEY)
    assert (status, problem["errors"][0]["field"]) == (400, "state")
    status, _, _ = await paycon.post_json(
        "/v1/reconciliation/breaks/999/resolve", {"reason": "x"}, key=None, token=OPERATOR_KEY
    )
    assert status == 404


async def test_a_break_id_is_a_positive_integer(paycon: RunningPaycon) -> None:
    for bad in ("abc", "0", "9223372036854775808", "-1"):
        status, _, problem = await paycon.post_json(
            f"/v1/reconciliation/breaks/{bad}/resolve", {"reason": "x"}, key=None,
            token=OPERATOR_KEY,
        )  # fmt: skip
        assert (status, problem["errors"][0]["field"]) == (400, "id"), bad
