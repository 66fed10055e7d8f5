"""Behaviour both gateways share, checked over each one's own wire format."""

from __future__ import annotations

import pytest

from tests.integration.mock_gateways.conftest import GatewayUnderTest


async def test_a_new_payment_is_pending_then_succeeds_and_is_charged_once(
    gateway: GatewayUnderTest,
) -> None:
    await gateway.admin.set_faults(callback_delay_ms=300)

    submitted = await gateway.client.submit("tx-1")
    pending = await gateway.client.status("tx-1")
    payments = await gateway.admin.wait_settled(1)
    settled = await gateway.client.status("tx-1")

    assert (submitted.http_status, submitted.fields) == (
        200,
        {"status": "pending", "transactionId": "tx-1", "amount": "10.00", "currency": "EUR"},
    )
    assert (pending.http_status, pending.payment_status) == (200, "pending")
    assert (settled.http_status, settled.payment_status) == (200, "success")
    entry = payments["tx-1"]
    assert (entry["status"], entry["charges"], entry["submissions"]) == ("success", 1, 1)
    assert (entry["amount"], entry["currency"], entry["type"]) == ("10.00", "EUR", "deposit")


async def test_a_declined_payment_fails_and_is_not_charged(gateway: GatewayUnderTest) -> None:
    await gateway.admin.set_faults(decline_rate=1.0)

    await gateway.client.submit("tx-declined", type="withdrawal")
    payments = await gateway.admin.wait_settled(1)
    answer = await gateway.client.status("tx-declined")

    assert answer.payment_status == "failure"
    entry = payments["tx-declined"]
    assert (entry["status"], entry["reason"], entry["charges"]) == ("failure", "declined", 0)


async def test_a_repeat_answers_the_current_state_and_never_charges_twice(
    gateway: GatewayUnderTest,
) -> None:
    first = await gateway.client.submit("tx-repeat")
    await gateway.admin.wait_settled(1)
    repeat = await gateway.client.submit("tx-repeat")
    # Written differently, the same amount is the same payment.
    again = await gateway.client.submit("tx-repeat", amount="10.0")

    assert first.payment_status == "pending"
    assert (repeat.http_status, repeat.payment_status) == (200, "success")
    assert (again.http_status, again.payment_status) == (200, "success")
    entry = (await gateway.admin.payments())["tx-repeat"]
    assert (entry["submissions"], entry["charges"]) == (3, 1)


@pytest.mark.parametrize(
    ("amount", "currency", "type_"),
    [("10.01", "EUR", "deposit"), ("10.00", "USD", "deposit"), ("10.00", "EUR", "withdrawal")],
    ids=["amount", "currency", "type"],
)
async def test_a_repeat_with_other_terms_is_a_409_conflict(
    gateway: GatewayUnderTest, amount: str, currency: str, type_: str
) -> None:
    await gateway.client.submit("tx-conflict")

    answer = await gateway.client.submit(
        "tx-conflict", amount=amount, currency=currency, type=type_
    )

    assert (answer.http_status, answer.error) == (409, "conflicting_repeat")
    entry = (await gateway.admin.payments())["tx-conflict"]
    assert (entry["submissions"], entry["amount"], entry["currency"], entry["type"]) == (
        1,
        "10.00",
        "EUR",
        "deposit",
    )


async def test_the_status_of_an_unknown_transaction_is_404(gateway: GatewayUnderTest) -> None:
    answer = await gateway.client.status("never-submitted")

    assert (answer.http_status, answer.error) == (404, "unknown_transaction")


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("transaction_id", "has space", "invalid_transaction_id"),
        ("transaction_id", "x" * 129, "invalid_transaction_id"),
        ("amount", "0", "invalid_amount"),
        ("amount", "0.00", "invalid_amount"),
        ("amount", "-5.00", "invalid_amount"),
        ("amount", "ten", "invalid_amount"),
        ("amount", "1e3", "invalid_amount"),
        ("amount", "1,000.00", "invalid_amount"),
        ("amount", "", "missing_field"),
        ("currency", "eur", "invalid_currency"),
        ("currency", "EURO", "invalid_currency"),
        ("currency", "E1R", "invalid_currency"),
        ("type", "refund", "invalid_type"),
        ("type", "Deposit", "invalid_type"),
        ("callback_url", "ftp://127.0.0.1/callbacks", "invalid_callback_url"),
        ("callback_url", "/relative/path", "invalid_callback_url"),
    ],
)
async def test_a_malformed_field_is_400_and_records_nothing(
    gateway: GatewayUnderTest, field: str, value: str, error: str
) -> None:
    fields = {"transaction_id": "tx-bad", "amount": "10.00", "currency": "EUR", "type": "deposit"}
    fields[field] = value
    transaction_id = fields.pop("transaction_id")
    callback_url = value if field == "callback_url" else None

    answer = await gateway.client.submit(
        transaction_id,
        amount=fields["amount"],
        currency=fields["currency"],
        type=fields["type"],
        callback_url=callback_url,
    )

    assert (answer.http_status, answer.error) == (400, error)
    assert answer.fields["message"]
    assert await gateway.admin.payments() == {}


async def test_a_body_over_64_kib_is_413_in_the_gateways_format(
    gateway: GatewayUnderTest,
) -> None:
    answer = await gateway.client.submit("tx-big", callback_url="http://127.0.0.1/" + "x" * 70_000)

    assert answer.http_status == 413
    assert answer.error == "request_entity_too_large"
    assert await gateway.admin.payments() == {}
