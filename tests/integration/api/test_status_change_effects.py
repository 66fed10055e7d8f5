"""What one status change shows everywhere a person looks: the transaction's time, the
figures by status, and the payment's own ledger entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from paycon.domain.status import Status
from paycon.domain.transactions import rfc3339
from paycon.storage.status_changes import change_status
from tests.integration.api.test_metrics_scrape import scrape
from tests.paycon_fixtures import OPERATOR_KEY, RunningPaycon

DEPOSIT = {"customer_id": "cus_seen", "amount": "12.34", "currency": "EUR", "country": "DE"}


async def test_a_completion_is_dated_counted_and_booked_under_its_payment(
    paycon: RunningPaycon,
) -> None:
    status, _, accepted = await paycon.post_json("/v1/deposits", DEPOSIT, key="seen-1")
    assert status == 202
    tx_id = accepted["id"]
    before, _ = await scrape(paycon)
    assert (before["pending"], before["completed"]) == (1, 0)
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    await paycon.service.db.write(
        lambda conn: change_status(conn, tx_id, Status.COMPLETED, actor="test", now=later)
    )

    status, shown = await paycon.get(f"/v1/transactions/{tx_id}")
    assert status == 200
    assert shown["status"] == "completed"
    assert shown["updated_at"] == rfc3339(later)
    after, _ = await scrape(paycon)
    assert (after["pending"], after["completed"]) == (0, 1)
    status, ledger = await paycon.get(f"/v1/transactions/{tx_id}/ledger", token=OPERATOR_KEY)
    assert status == 200, ledger
    booked = {
        (line["account"]["holder"], line["account"]["name"], line["posting"], line["reason"])
        for line in ledger["items"]
    }
    assert booked == {
        ("gateway", "clearing", "12.34", "deposit_credit"),
        ("customer", "available", "-12.34", "deposit_credit"),
    }
    status, balances = await paycon.get("/v1/customers/cus_seen/balances")
    assert status == 200
    assert balances["balances"] == [{"currency": "EUR", "available": "12.34", "held": "0.00"}]
