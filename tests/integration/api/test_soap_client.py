"""A real SOAP toolkit (zeep) calls paycon from the WSDL it serves: nothing hand-written."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests
import zeep
import zeep.exceptions
from zeep.transports import Transport

from tests.integration.facade.support import complete
from tests.paycon_fixtures import CLIENT_KEY, RunningPaycon

IBAN = "DE89370400440532013000"


def soap_client(base_url: str, key: str = CLIENT_KEY) -> zeep.Client:
    """A zeep client built from ``GET /v1/soap?wsdl``, the API key on its HTTP session."""
    session = requests.Session()
    session.trust_env = False  # loopback only: no proxy from the environment
    session.headers["Authorization"] = f"Bearer {key}"
    # zeep's constructors carry no annotations.
    transport = Transport(session=session, timeout=30, operation_timeout=30)  # type: ignore[no-untyped-call]
    return zeep.Client(f"{base_url}/v1/soap?wsdl", transport=transport)  # type: ignore[no-untyped-call]


def call(client: zeep.Client, port: str, operation: str, key: str, **fields: Any) -> Any:
    """``operation`` on ``port`` of PayconService with ``key`` as its Idempotency-Key."""
    service = client.bind("PayconService", port)
    with client.settings(extra_http_headers={"Idempotency-Key": key}):
        return service[operation](**fields)


@pytest.fixture
def closing() -> Iterator[list[zeep.Client]]:
    clients: list[zeep.Client] = []
    yield clients
    for client in clients:
        client.transport.session.close()


async def test_zeep_creates_a_deposit_and_a_withdrawal_from_the_wsdl(
    paycon: RunningPaycon, closing: list[zeep.Client]
) -> None:
    client = await asyncio.to_thread(soap_client, paycon.url)
    closing.append(client)

    deposit = await asyncio.to_thread(
        call, client, "DepositPort", "CreateDeposit", "zeep-dep-1",
        customer_id="cus_zeep", amount="50.00", currency="EUR", country="DE",
        reference="order-7",
    )  # fmt: skip
    assert deposit.kind == "deposit"
    assert deposit.status == "pending"
    assert (deposit.customer_id, deposit.amount, deposit.currency) == ("cus_zeep", "50.00", "EUR")
    assert deposit.reference == "order-7"
    assert deposit.failure_reason is None
    assert deposit.destination is None
    _, stored = await paycon.get(f"/v1/transactions/{deposit.id}")
    assert stored["amount"] == "50.00"
    assert stored["status"] == "pending"

    await complete(paycon, deposit.id, event_id="ev-zeep-1", amount="50.00")

    withdrawal = await asyncio.to_thread(
        call, client, "WithdrawalPort", "CreateWithdrawal", "zeep-wd-1",
        customer_id="cus_zeep", amount="20.00", currency="EUR", country="DE",
        destination={"iban": IBAN, "holder": "Jane Doe"},
    )  # fmt: skip
    assert withdrawal.kind == "withdrawal"
    assert withdrawal.status == "pending"
    assert withdrawal.amount == "20.00"
    assert withdrawal.destination.iban == "DE89 **** **** 3000"
    _, balances = await paycon.get("/v1/customers/cus_zeep/balances")
    assert balances["balances"] == [{"currency": "EUR", "available": "30.00", "held": "20.00"}]

    # The same key and fields replay the first answer, as in JSON.
    again = await asyncio.to_thread(
        call, client, "WithdrawalPort", "CreateWithdrawal", "zeep-wd-1",
        customer_id="cus_zeep", amount="20.0", currency="EUR", country="DE",
        destination={"iban": IBAN, "holder": "Jane Doe"},
    )  # fmt: skip
    assert again.id == withdrawal.id
    assert paycon.counts()["transactions"] == 2


def problem_of(client: zeep.Client, fault: zeep.exceptions.Fault) -> Any:
    """The Fault's ``problem`` detail, read with the WSDL's own schema."""
    assert fault.detail is not None
    (element,) = fault.detail
    problem = client.get_element("{urn:paycon:v1}problem")  # type: ignore[no-untyped-call]
    return problem.parse(element, client.wsdl.types)


async def test_zeep_gets_a_fault_with_the_problem_for_a_bad_amount(
    paycon: RunningPaycon, closing: list[zeep.Client]
) -> None:
    client = await asyncio.to_thread(soap_client, paycon.url)
    closing.append(client)
    before = paycon.counts()

    with pytest.raises(zeep.exceptions.Fault) as raised:
        await asyncio.to_thread(
            call, client, "DepositPort", "CreateDeposit", "zeep-bad-1",
            customer_id="cus_zeep", amount="1.234", currency="EUR", country="DE",
        )  # fmt: skip

    fault = raised.value
    assert fault.code == "soap:Client"
    problem = problem_of(client, fault)
    assert problem.status == 400
    assert problem.code == "invalid_request"
    assert problem.type == "urn:paycon:problem:invalid_request"
    assert [(e.field, e.message) for e in problem.errors.error] == [
        ("amount", "EUR allows at most 2 decimal places")
    ]
    assert fault.message == f"{problem.title}: {problem.detail}"
    assert paycon.counts() == before


async def test_zeep_gets_insufficient_funds_as_a_client_fault(
    paycon: RunningPaycon, closing: list[zeep.Client]
) -> None:
    client = await asyncio.to_thread(soap_client, paycon.url)
    closing.append(client)

    with pytest.raises(zeep.exceptions.Fault) as raised:
        await asyncio.to_thread(
            call, client, "WithdrawalPort", "CreateWithdrawal", "zeep-poor-1",
            customer_id="cus_poor", amount="5.00", currency="EUR", country="DE",
            destination={"iban": IBAN, "holder": "Jane Doe"},
        )  # fmt: skip

    problem = problem_of(client, raised.value)
    assert raised.value.code == "soap:Client"
    assert (problem.status, problem.code) == (422, "insufficient_funds")
    assert problem.errors is None
    _, balances = await paycon.get("/v1/customers/cus_poor/balances")
    assert all(Decimal(b["held"]) == 0 for b in balances["balances"])


async def test_a_wrong_key_is_a_fault_with_status_401(
    paycon: RunningPaycon, closing: list[zeep.Client]
) -> None:
    client = await asyncio.to_thread(soap_client, paycon.url, "pk_wrong_key_000000000000")
    closing.append(client)

    with pytest.raises(zeep.exceptions.Fault) as raised:
        await asyncio.to_thread(
            call, client, "DepositPort", "CreateDeposit", "zeep-401",
            customer_id="cus_zeep", amount="1.00", currency="EUR", country="DE",
        )  # fmt: skip

    problem = problem_of(client, raised.value)
    assert (problem.status, problem.code) == (401, "unauthorized")
    assert paycon.counts()["transactions"] == 0
