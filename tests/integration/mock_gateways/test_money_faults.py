"""The faults a payment service must survive with its money intact, over real HTTP.

Skewed amounts, callbacks on the other gateway's route, failures after a
success, 503s for payments that were recorded, refused credentials: each is
seeded like the other faults, and every injection is counted in the ledger.
"""

from __future__ import annotations

import json

import aiohttp

from tests.integration.mock_gateways.conftest import GatewayUnderTest, gateway_under_test
from tests.integration.mock_gateways.helpers import parse_flat_xml, signature_is_valid
from tests.mock_gateway_fixtures import (
    GATEWAY_A_SECRET,
    GATEWAY_B_SECRET,
    CallbackReceiver,
    MockGatewaysFactory,
)

OTHER = {"gateway_a": ("gateway_b", GATEWAY_B_SECRET), "gateway_b": ("gateway_a", GATEWAY_A_SECRET)}


async def test_a_skewed_callback_says_one_unit_more_and_is_counted(
    gateway: GatewayUnderTest, callback_receiver: CallbackReceiver
) -> None:
    await gateway.admin.set_faults(callback_amount_skew=1.0)
    await gateway.client.submit("tx-skew", amount="10.00", currency="JPY")

    (callback,) = await callback_receiver.wait_for(1)
    status = await gateway.client.status("tx-skew")
    ledger = await gateway.admin.ledger()

    fields = gateway.client.parse_callback(callback.body)
    assert (fields["amount"], fields["currency"]) == ("10.01", "JPY")
    assert signature_is_valid(callback.signature, callback.body, gateway.client.secret)
    assert status.fields["amount"] == "10.00"  # the gateway's own word about it is true
    (entry,) = ledger["payments"]
    assert entry["amount"] == "10.00"
    assert [sent["amount"] for sent in entry["callbacks"]] == ["10.01"]
    assert entry["injected_faults"] == {"callback_amount_skew": 1}
    assert ledger["summary"]["injected_faults"] == {"callback_amount_skew": 1}


async def test_a_wrong_route_callback_comes_as_the_other_gateway(
    gateway: GatewayUnderTest, callback_receiver: CallbackReceiver
) -> None:
    other_name, other_secret = OTHER[gateway.client.name]
    await gateway.admin.set_faults(callback_wrong_route=1.0)
    await gateway.client.submit("tx-misrouted", amount="25.50")

    (callback,) = await callback_receiver.wait_for(1)
    (entry,) = (await gateway.admin.ledger())["payments"]

    # The other gateway's route, format and secret: validly signed, by a gateway
    # that does not hold the payment.
    assert callback.path == f"/callbacks/{other_name}"
    assert signature_is_valid(callback.signature, callback.body, other_secret)
    assert not signature_is_valid(callback.signature, callback.body, gateway.client.secret)
    if other_name == "gateway_b":
        root, fields = parse_flat_xml(callback.body)  # in A's names
        assert (root, callback.headers["Content-Type"]) == ("Callback", "application/xml")
    else:
        fields = json.loads(callback.body)
        assert callback.headers["Content-Type"] == "application/json"
    assert (fields["transactionId"], fields["status"]) == ("tx-misrouted", "success")
    assert (fields["amount"], fields["currency"]) == ("25.50", "EUR")
    (sent,) = entry["callbacks"]
    assert (sent["as_gateway"], sent["url"]) == (
        other_name,
        callback_receiver.url_for(callback.path),
    )
    assert entry["injected_faults"] == {"callback_wrong_route": 1}


async def test_a_late_failure_follows_the_success_with_its_own_event(
    gateway: GatewayUnderTest, callback_receiver: CallbackReceiver
) -> None:
    await gateway.admin.set_faults(late_failure_rate=1.0)
    await gateway.client.submit("tx-late")

    first, second = await callback_receiver.wait_for(2)
    payments = await gateway.admin.wait_until(
        lambda payments: payments["tx-late"]["status"] == "failure"
    )
    status = await gateway.client.status("tx-late")

    success, failure = (gateway.client.parse_callback(c.body) for c in (first, second))
    assert (success["status"], failure["status"]) == ("success", "failure")
    assert failure["eventId"] != success["eventId"]
    assert (failure["reason"], failure["amount"]) == ("late_failure", "10.00")
    assert status.payment_status == "failure"
    entry = payments["tx-late"]
    assert (entry["reason"], entry["charges"]) == ("late_failure", 1)
    assert entry["injected_faults"] == {"late_failure": 1}


async def test_a_declined_payment_never_fails_late(
    gateway: GatewayUnderTest, callback_receiver: CallbackReceiver
) -> None:
    await gateway.admin.set_faults(late_failure_rate=1.0, decline_rate=1.0)
    await gateway.client.submit("tx-declined")

    payments = await gateway.admin.wait_callbacks_done(1)

    entry = payments["tx-declined"]
    assert (entry["status"], entry["reason"], entry["callbacks_sent"]) == ("failure", "declined", 1)
    assert entry["injected_faults"] == {}


async def test_a_ghost_503_records_and_charges_the_payment_it_denies(
    gateway: GatewayUnderTest, callback_receiver: CallbackReceiver
) -> None:
    await gateway.admin.set_faults(ghost_503_rate=1.0)

    first = await gateway.client.submit("tx-ghost")
    again = await gateway.client.submit("tx-ghost")
    payments = await gateway.admin.wait_callbacks_done(1)
    status = await gateway.client.status("tx-ghost")  # status reads are not ghosted

    assert (first.http_status, first.error) == (503, "service_unavailable")
    assert (again.http_status, again.error) == (503, "service_unavailable")
    assert (status.http_status, status.payment_status) == (200, "success")
    entry = payments["tx-ghost"]
    assert (entry["submissions"], entry["charges"], entry["callbacks_sent"]) == (2, 1, 1)
    assert entry["injected_faults"] == {"ghost_503": 2}


async def test_auth_failure_refuses_every_call_and_records_nothing(
    gateway: GatewayUnderTest,
) -> None:
    await gateway.admin.set_faults(auth_failure=True)

    submitted = await gateway.client.submit("tx-auth")
    status = await gateway.client.status("tx-auth")
    ledger = await gateway.admin.ledger()  # the admin routes never fail
    await gateway.admin.set_faults(auth_failure=False)
    accepted = await gateway.client.submit("tx-auth")

    assert (submitted.http_status, submitted.error) == (401, "invalid_credentials")
    assert (status.http_status, status.error) == (401, "invalid_credentials")
    assert ledger["payments"] == []
    assert ledger["summary"]["injected_faults"] == {"auth_failure": 2}
    assert accepted.http_status == 200


async def test_reset_forgets_the_injection_counts(gateway: GatewayUnderTest) -> None:
    await gateway.admin.set_faults(auth_failure=True)
    await gateway.client.submit("tx-auth")

    await gateway.admin.reset()

    assert (await gateway.admin.ledger())["summary"]["injected_faults"] == {}


async def run_seeded(
    seed: int,
    start_mock_gateways: MockGatewaysFactory,
    http: aiohttp.ClientSession,
    callback_receiver: CallbackReceiver,
) -> tuple[list[int], dict[str, dict[str, int]]]:
    """Forty payments to A with every money fault at half; answers and injections per payment."""
    mocks = await start_mock_gateways(seed=seed)
    gateway = gateway_under_test("a", mocks, http, callback_receiver)
    await gateway.admin.set_faults(
        callback_delay_ms=0,
        callback_amount_skew=0.5,
        callback_wrong_route=0.5,
        late_failure_rate=0.5,
        ghost_503_rate=0.5,
    )
    answers = [(await gateway.client.submit(f"tx-{n}")).http_status for n in range(40)]
    payments = await gateway.admin.wait_callbacks_done(40)
    await mocks.stop()
    return answers, {tx: entry["injected_faults"] for tx, entry in payments.items()}


async def test_the_money_faults_are_seeded(
    start_mock_gateways: MockGatewaysFactory,
    http: aiohttp.ClientSession,
    callback_receiver: CallbackReceiver,
) -> None:
    first = await run_seeded(5, start_mock_gateways, http, callback_receiver)
    second = await run_seeded(5, start_mock_gateways, http, callback_receiver)

    assert first == second
    answers, injected = first
    assert set(answers) == {200, 503}
    for fault in ("callback_amount_skew", "callback_wrong_route", "late_failure", "ghost_503"):
        hit = sum(1 for faults in injected.values() if fault in faults)
        assert 0 < hit < 40, fault  # a rate, not all or nothing


async def test_submit_decline_refuses_new_payments_with_a_documented_code(
    gateway: GatewayUnderTest, callback_receiver: CallbackReceiver
) -> None:
    await gateway.client.submit("tx-held")
    await gateway.admin.wait_settled(1)
    await gateway.admin.set_faults(submit_decline="currency_not_supported")

    refused = await gateway.client.submit("tx-new")
    repeat = await gateway.client.submit("tx-held")  # a payment it holds answers its state
    ledger = await gateway.admin.ledger()

    assert (refused.http_status, refused.error) == (422, "currency_not_supported")
    assert (repeat.http_status, repeat.payment_status) == (200, "success")
    assert [entry["transaction_id"] for entry in ledger["payments"]] == ["tx-held"]
    assert ledger["summary"]["injected_faults"] == {"submit_decline": 1}


async def test_submit_decline_takes_only_documented_codes(gateway: GatewayUnderTest) -> None:
    status, document = await gateway.admin.put_faults_raw(b'{"submit_decline": "nope"}')

    assert status == 400
    assert "submit_decline" in document["message"]
    assert (await gateway.admin.faults())["submit_decline"] is False
