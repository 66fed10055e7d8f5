"""Submit and status for both gateways: the requests they write and the answers they read."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateways import GatewayAnswer, GatewayProtocolError, SubmitRequest
from tests.unit.gateways.conftest import CALLBACK_URL, GatewayFactory, submit_request
from tests.unit.gateways.wires import BASE_A, BASE_B, HOSTILE_XML, WIRES, Wire, xml_response


@pytest.mark.parametrize("status", ["pending", "success", "failure"])
async def test_submit_answers_the_state_the_gateway_reports(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory, status: str
) -> None:
    wire.submit_route(router).mock(return_value=wire.answer(status, "tx-1"))

    answer = await make_gateway(wire).submit(submit_request("tx-1"))

    assert answer == GatewayAnswer("tx-1", status, None, Decimal("10.50"), "EUR")  # type: ignore[arg-type]


async def test_a_declined_payment_is_an_answer_not_an_error(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    wire.status_route(router, "tx-1").mock(
        return_value=wire.answer("failure", "tx-1", operation="status")
    )

    answer = await make_gateway(wire).status("tx-1")

    assert answer is not None
    assert answer.status == "failure"


@pytest.mark.parametrize("status", ["pending", "success"])
async def test_status_answers_the_state_the_gateway_reports(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory, status: str
) -> None:
    wire.status_route(router, "tx-1").mock(
        return_value=wire.answer(status, "tx-1", operation="status")
    )

    assert await make_gateway(wire).status("tx-1") == GatewayAnswer(
        "tx-1",
        status,  # type: ignore[arg-type]
        amount=Decimal("10.50"),
        currency="EUR",
    )


async def test_status_of_a_transaction_the_gateway_does_not_know_is_none(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    wire.status_route(router, "tx-unknown").mock(
        return_value=wire.error(404, "unknown_transaction", "no payment with that id")
    )
    gateway = make_gateway(wire)

    assert await gateway.status("tx-unknown") is None
    assert gateway.breaker_state().failures == 0


async def test_gateway_a_submits_the_documented_json(
    router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    route = router.post(f"{BASE_A}/payments").mock(
        return_value=WIRES["gateway_a"].answer("pending", "tx-1")
    )
    request = SubmitRequest("tx-1", Decimal("10.50"), "EUR", "withdrawal", CALLBACK_URL)

    await make_gateway(WIRES["gateway_a"]).submit(request)

    sent = route.calls.last.request
    assert sent.headers["Content-Type"] == "application/json"
    assert json.loads(sent.content) == {
        "transactionId": "tx-1",
        "amount": "10.50",
        "currency": "EUR",
        "type": "withdrawal",
        "callbackUrl": CALLBACK_URL,
    }


async def test_gateway_b_submits_the_documented_xml_escaped(
    router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    route = router.post(f"{BASE_B}/ProcessPayment").mock(
        return_value=WIRES["gateway_b"].answer("pending", "tx-1")
    )
    callback_url = "http://127.0.0.1:8080/cb?a=1&b=<2>"
    request = SubmitRequest("tx-1", Decimal("7"), "JPY", "deposit", callback_url)

    await make_gateway(WIRES["gateway_b"]).submit(request)

    sent = route.calls.last.request
    assert sent.headers["Content-Type"].startswith("application/xml")
    assert sent.content.endswith(
        b"<Payment><TransactionId>tx-1</TransactionId><Amount>7</Amount>"
        b"<Currency>JPY</Currency><Type>deposit</Type>"
        b"<CallbackUrl>http://127.0.0.1:8080/cb?a=1&amp;b=&lt;2&gt;</CallbackUrl></Payment>"
    )


async def test_status_requests_go_where_each_gateway_expects_them(
    router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    # ":" and "." are legal in ids; A's id sits in the path, B's in the query.
    a = router.get(f"{BASE_A}/status/tx%3A1.2").mock(
        return_value=WIRES["gateway_a"].answer("pending", "tx:1.2")
    )
    b = router.get(f"{BASE_B}/GetStatus", params={"TransactionId": "tx:1.2"}).mock(
        return_value=WIRES["gateway_b"].answer("pending", "tx:1.2", operation="status")
    )

    await make_gateway(WIRES["gateway_a"]).status("tx:1.2")
    await make_gateway(WIRES["gateway_b"]).status("tx:1.2")

    assert (a.call_count, b.call_count) == (1, 1)


@pytest.mark.parametrize(
    ("amount", "on_the_wire"),
    [
        ("10.50", "10.50"),
        ("0.001", "0.001"),
        ("100", "100"),
        ("1E+3", "1000"),
        ("12345678901234567890.12345678", "12345678901234567890.12345678"),
    ],
)
async def test_amounts_are_written_as_exact_decimal_strings(
    wire: Wire,
    router: respx.MockRouter,
    make_gateway: GatewayFactory,
    amount: str,
    on_the_wire: str,
) -> None:
    route = wire.submit_route(router).mock(return_value=wire.answer("pending", "tx-1"))

    await make_gateway(wire).submit(submit_request("tx-1", amount=amount))

    assert wire.submitted_amount(route.calls.last.request) == on_the_wire


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    amount=st.decimals(
        min_value=Decimal("0.00000001"), max_value=Decimal("1e15"), allow_nan=False, places=8
    )
)
def test_the_wire_amount_is_plain_notation_and_the_same_number(amount: Decimal) -> None:
    wire_amount = submit_request(amount=str(amount)).wire_amount

    assert set(wire_amount) <= set("0123456789.")
    assert Decimal(wire_amount) == amount


async def test_a_submit_answer_about_another_transaction_is_a_protocol_error(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    wire.submit_route(router).mock(return_value=wire.answer("success", "tx-other"))

    with pytest.raises(GatewayProtocolError, match="tx-other"):
        await make_gateway(wire).submit(submit_request("tx-1"))


async def test_a_status_answer_about_another_transaction_is_a_protocol_error(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    wire.status_route(router, "tx-1").mock(
        return_value=wire.answer("success", "tx-other", operation="status")
    )

    with pytest.raises(GatewayProtocolError, match="tx-other"):
        await make_gateway(wire).status("tx-1")


async def test_a_garbled_answer_is_a_protocol_error(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    wire.submit_route(router).mock(return_value=wire.garbled_answer())

    with pytest.raises(GatewayProtocolError, match="garbled") as caught:
        await make_gateway(wire).submit(submit_request())

    assert caught.value.operation == "submit"
    assert caught.value.__cause__ is not None


async def test_an_answer_with_an_unknown_status_is_a_protocol_error(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    wire.submit_route(router).mock(return_value=wire.answer("settled", "tx-1"))

    with pytest.raises(GatewayProtocolError, match="settled"):
        await make_gateway(wire).submit(submit_request("tx-1"))


@pytest.mark.parametrize("operation", ["submit", "status"])
@pytest.mark.parametrize(
    ("amount", "currency"),
    [("0.01", "JPY"), ("12345678901234567890.12345678", "KWD"), ("7", "EUR"), ("10.500", "EUR")],
)
async def test_answers_carry_the_amount_and_currency_the_gateway_holds(
    wire: Wire,
    router: respx.MockRouter,
    make_gateway: GatewayFactory,
    operation: str,
    amount: str,
    currency: str,
) -> None:
    reply = wire.answer("success", "tx-1", operation=operation, amount=amount, currency=currency)
    wire.submit_route(router).mock(return_value=reply)
    wire.status_route(router, "tx-1").mock(return_value=reply)
    gateway = make_gateway(wire)

    answer = (
        await gateway.submit(submit_request("tx-1"))
        if operation == "submit"
        else await gateway.status("tx-1")
    )

    assert answer is not None
    # Exactly what the gateway wrote, as a Decimal: whatever it says, the caller compares.
    assert (answer.amount, answer.currency) == (Decimal(amount), currency)
    assert isinstance(answer.amount, Decimal)
    assert str(answer.amount) == amount


BAD_MONEY = [
    pytest.param({"amount": None}, id="no amount"),
    pytest.param({"currency": None}, id="no currency"),
    pytest.param({"amount": ""}, id="empty amount"),
    pytest.param({"amount": "-10.50"}, id="negative"),
    pytest.param({"amount": "1e3"}, id="exponent"),
    pytest.param({"amount": "10,50"}, id="comma"),
    pytest.param({"amount": " 10.50x"}, id="junk"),
    pytest.param({"amount": "NaN"}, id="nan"),
    pytest.param({"amount": "\u0661\u0660"}, id="non-ascii digits"),
    pytest.param({"currency": "eur"}, id="lower-case currency"),
    pytest.param({"currency": "EURO"}, id="four letters"),
    pytest.param({"currency": ""}, id="empty currency"),
]


@pytest.mark.parametrize("operation", ["submit", "status"])
@pytest.mark.parametrize("money", BAD_MONEY)
async def test_a_2xx_without_a_readable_amount_and_currency_is_a_protocol_error(
    wire: Wire,
    router: respx.MockRouter,
    make_gateway: GatewayFactory,
    operation: str,
    money: dict[str, str | None],
) -> None:
    values: dict[str, str | None] = {"amount": "10.50", "currency": "EUR", **money}
    reply = wire.answer("success", "tx-1", operation=operation, **values)
    wire.submit_route(router).mock(return_value=reply)
    wire.status_route(router, "tx-1").mock(return_value=reply)
    gateway = make_gateway(wire)
    call = (
        gateway.submit(submit_request("tx-1")) if operation == "submit" else gateway.status("tx-1")
    )

    with pytest.raises(GatewayProtocolError, match=r"amount|currency") as caught:
        await call

    assert caught.value.operation == operation


@pytest.mark.parametrize("amount", [10.5, 10, None, ["10.50"]])
async def test_gateway_a_refuses_an_amount_that_is_not_a_string(
    router: respx.MockRouter, make_gateway: GatewayFactory, amount: object
) -> None:
    document = {"status": "success", "transactionId": "tx-1", "amount": amount, "currency": "EUR"}
    router.post(f"{BASE_A}/payments").mock(return_value=httpx.Response(200, json=document))

    with pytest.raises(GatewayProtocolError, match="amount"):
        await make_gateway(WIRES["gateway_a"]).submit(submit_request("tx-1"))


async def test_gateway_b_reads_amounts_with_surrounding_whitespace(
    router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    fields = {
        "Status": "pending",
        "TransactionId": "tx-1",
        "Amount": "\n  10.50 ",
        "Currency": " EUR\n",
    }
    router.post(f"{BASE_B}/ProcessPayment").mock(
        return_value=xml_response(200, "PaymentResponse", fields)
    )

    answer = await make_gateway(WIRES["gateway_b"]).submit(submit_request("tx-1"))

    assert (answer.amount, answer.currency) == (Decimal("10.50"), "EUR")


@pytest.mark.parametrize(
    "body",
    [
        b"[1, 2]",
        b'"pending"',
        b'{"status": "pending"}',
        b'{"status": 1, "transactionId": "tx-1", "amount": "10.50", "currency": "EUR"}',
        b'{"status": "pending", "status": "success", "transactionId": "tx-1", '
        b'"amount": "10.50", "currency": "EUR"}',
        b"\xff\xfe{}",
        b"",
    ],
)
async def test_gateway_a_refuses_answers_that_are_not_its_json(
    router: respx.MockRouter, make_gateway: GatewayFactory, body: bytes
) -> None:
    router.post(f"{BASE_A}/payments").mock(return_value=httpx.Response(200, content=body))

    with pytest.raises(GatewayProtocolError):
        await make_gateway(WIRES["gateway_a"]).submit(submit_request("tx-1"))


@pytest.mark.parametrize(
    "body",
    [
        b"<StatusResponse><Status>pending</Status><TransactionId>tx-1</TransactionId>"
        b"<Amount>10.50</Amount><Currency>EUR</Currency>"
        b"</StatusResponse>",  # the status call's root on a submit
        b"<PaymentResponse><Status>pending</Status></PaymentResponse>",
        b"<PaymentResponse><Status>pending</Status><Status>success</Status>"
        b"<TransactionId>tx-1</TransactionId><Amount>10.50</Amount><Currency>EUR</Currency>"
        b"</PaymentResponse>",
        b"<PaymentResponse><Status><b>pending</b></Status>"
        b"<TransactionId>tx-1</TransactionId><Amount>10.50</Amount><Currency>EUR</Currency>"
        b"</PaymentResponse>",
        b"<PaymentResponse><Status>pending</Status><TransactionId>tx-1</TransactionId>"
        b"<Amount>10.50</Amount><Amount>0.01</Amount><Currency>EUR</Currency>"
        b"</PaymentResponse>",
        b"<PaymentResponse><Status>pending</Status><TransactionId>tx-1</TransactionId>"
        b"<Amount><v>10.50</v></Amount><Currency>EUR</Currency></PaymentResponse>",
        b"not xml at all",
        b"",
    ],
)
async def test_gateway_b_refuses_answers_that_are_not_its_xml(
    router: respx.MockRouter, make_gateway: GatewayFactory, body: bytes
) -> None:
    router.post(f"{BASE_B}/ProcessPayment").mock(return_value=httpx.Response(200, content=body))

    with pytest.raises(GatewayProtocolError):
        await make_gateway(WIRES["gateway_b"]).submit(submit_request("tx-1"))


@pytest.mark.parametrize("kind", sorted(HOSTILE_XML))
async def test_gateway_b_refuses_hostile_xml_answers_without_expanding_them(
    router: respx.MockRouter, make_gateway: GatewayFactory, kind: str
) -> None:
    router.post(f"{BASE_B}/ProcessPayment").mock(
        return_value=httpx.Response(200, content=HOSTILE_XML[kind])
    )

    with pytest.raises(GatewayProtocolError, match="DTDs, entities and external references"):
        await make_gateway(WIRES["gateway_b"]).submit(submit_request("tx-1"))


async def test_an_answer_over_the_size_limit_is_a_protocol_error(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    wire.submit_route(router).mock(return_value=httpx.Response(200, content=b" " * 70_000))

    with pytest.raises(GatewayProtocolError, match="over 65536 bytes"):
        await make_gateway(wire).submit(submit_request())


async def test_status_refuses_an_id_the_gateways_would_not_accept(
    wire: Wire, make_gateway: GatewayFactory
) -> None:
    with pytest.raises(ValueError, match="transaction_id"):
        await make_gateway(wire).status("../payments")
