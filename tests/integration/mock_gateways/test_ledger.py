"""The ledger: what each payment is, how often it came, and that it is charged at most once."""

from __future__ import annotations

from tests.integration.mock_gateways.conftest import GatewayUnderTest
from tests.integration.mock_gateways.helpers import gather_limited


async def test_concurrent_repeats_never_charge_a_payment_twice(gateway: GatewayUnderTest) -> None:
    await gateway.admin.set_faults(decline_rate=0.3, callback_delay_ms=5)
    submissions = [gateway.client.submit(f"tx-{n % 30}") for n in range(300)]

    answers = await gather_limited(submissions, limit=60)
    payments = await gateway.admin.wait_settled(30)
    # Repeats after settling answer the final state and still charge nothing more.
    late = await gather_limited(gateway.client.submit(f"tx-{n}") for n in range(30))
    payments = await gateway.admin.payments()

    assert {answer.http_status for answer in answers + late} == {200}
    assert len(payments) == 30
    for transaction_id, entry in payments.items():
        assert entry["submissions"] == 11, transaction_id
        assert entry["charges"] == (1 if entry["status"] == "success" else 0)
    assert {answer.payment_status for answer in late} == {"success", "failure"}
    assert [a.payment_status for a in late] == [payments[f"tx-{n}"]["status"] for n in range(30)]


async def test_the_ledger_lists_every_payment_with_its_history(
    gateway_a: GatewayUnderTest,
) -> None:
    await gateway_a.client.submit("tx-1", amount="1.5", currency="JPY", type="withdrawal")
    await gateway_a.client.submit("tx-2", amount="0.001", currency="KWD")
    await gateway_a.client.submit("tx-1", amount="1.50", currency="JPY", type="withdrawal")
    await gateway_a.admin.wait_callbacks_done(2)

    ledger = await gateway_a.admin.ledger()

    assert ledger["gateway"] == "gateway_a"
    assert ledger["summary"] == {
        "payments": 2,
        "pending": 0,
        "success": 2,
        "failure": 0,
        "charges": 2,
        "max_charges_per_payment": 1,
        "injected_faults": {},
    }
    first, second = ledger["payments"]
    assert {key: first[key] for key in ("transaction_id", "type", "amount", "currency")} == {
        "transaction_id": "tx-1",
        "type": "withdrawal",
        "amount": "1.5",
        "currency": "JPY",
    }
    assert (first["status"], first["submissions"], first["charges"]) == ("success", 2, 1)
    assert (first["callbacks_sent"], first["callbacks_delivered"]) == (1, 1)
    assert first["callback_attempts"] == 1
    assert first["callbacks"][0]["attempts"][0]["outcome"] == "200"
    assert (second["transaction_id"], second["amount"]) == ("tx-2", "0.001")


async def test_the_ledger_is_paged_oldest_first_with_a_summary_of_all(
    gateway_a: GatewayUnderTest,
) -> None:
    for n in range(5):
        await gateway_a.client.submit(f"tx-{n}")

    status, first = await gateway_a.admin.ledger_page("?limit=2")
    assert status == 200
    assert [p["transaction_id"] for p in first["payments"]] == ["tx-0", "tx-1"]
    assert first["summary"]["payments"] == 5
    status, last = await gateway_a.admin.ledger_page(f"?limit=2&cursor={first['next_cursor']}0")
    assert status == 200  # a cursor past the end is an empty last page
    assert (last["payments"], last["next_cursor"]) == ([], None)
    pages, cursor = [], ""
    while cursor is not None:
        _, page = await gateway_a.admin.ledger_page(f"?limit=2{cursor and f'&cursor={cursor}'}")
        pages.append([p["transaction_id"] for p in page["payments"]])
        cursor = page["next_cursor"]
    assert pages == [["tx-0", "tx-1"], ["tx-2", "tx-3"], ["tx-4"]]
    status, default = await gateway_a.admin.ledger_page()
    assert (len(default["payments"]), default["next_cursor"]) == (5, None)
    for bad in ("?limit=0", "?limit=1001", "?cursor=-1", "?limit=x"):
        status, body = await gateway_a.admin.ledger_page(bad)
        assert status == 400, bad
        assert body["error"].startswith("invalid_")


async def test_a_page_holds_100_payments_unless_asked_for_another_size(
    gateway_a: GatewayUnderTest,
) -> None:
    for n in range(101):
        await gateway_a.client.submit(f"tx-{n}")
    _, page = await gateway_a.admin.ledger_page()
    assert (len(page["payments"]), page["next_cursor"]) == (100, "100")
