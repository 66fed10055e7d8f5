"""Callbacks for A (JSON) and B (XML): verified first, then parsed strictly."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from gateways import CallbackEvent, CallbackMalformed, CallbackRejected, sign
from tests.unit.gateways.conftest import SECRET, GatewayFactory
from tests.unit.gateways.wires import HOSTILE_XML, WIRES, Wire, xml_document

NOW_S = 1_750_000_000.0
MONEY = {"Amount": "1", "Currency": "EUR"}


def a_callback(**changes: object) -> bytes:
    """A's callback JSON, valid but for ``changes``."""
    document = {"eventId": "e", "transactionId": "tx-1", "status": "success"}
    return json.dumps({**document, "amount": "1", "currency": "EUR", **changes}).encode()


def signed(body: bytes, *, secret: str = SECRET, t: int = int(NOW_S)) -> str:
    return sign(secret, body, t)


@pytest.mark.parametrize(
    ("status", "reason"), [("success", None), ("failure", "declined"), ("pending", None)]
)
def test_a_signed_callback_is_verified_and_parsed(
    wire: Wire, make_gateway: GatewayFactory, status: str, reason: str | None
) -> None:
    body = wire.callback("evt-1", "tx-1", status, reason)

    event = make_gateway(wire).parse_callback(body, signed(body), now_s=NOW_S)

    assert event == CallbackEvent(
        "evt-1",
        "tx-1",
        status,  # type: ignore[arg-type]
        Decimal("10.50"),
        "EUR",
        reason,
    )


@pytest.mark.parametrize(
    ("amount", "currency"), [("0.01", "JPY"), ("100", "KWD"), ("1.230", "EUR")]
)
def test_a_callback_carries_the_amount_and_currency_the_gateway_moved(
    wire: Wire, make_gateway: GatewayFactory, amount: str, currency: str
) -> None:
    body = wire.callback("evt-1", "tx-1", "success", amount=amount, currency=currency)

    event = make_gateway(wire).parse_callback(body, signed(body), now_s=NOW_S)

    assert (event.amount, event.currency) == (Decimal(amount), currency)
    assert str(event.amount) == amount  # exactly as written: the caller compares


@pytest.mark.parametrize(
    "money",
    [
        pytest.param({"amount": None}, id="no amount"),
        pytest.param({"currency": None}, id="no currency"),
        pytest.param({"amount": ""}, id="empty amount"),
        pytest.param({"amount": "-1.00"}, id="negative"),
        pytest.param({"amount": "1E+2"}, id="exponent"),
        pytest.param({"amount": "Infinity"}, id="infinity"),
        pytest.param({"currency": "Eur"}, id="mixed-case currency"),
        pytest.param({"currency": "EU"}, id="two letters"),
    ],
)
def test_a_signed_callback_without_a_readable_amount_and_currency_is_malformed(
    wire: Wire, make_gateway: GatewayFactory, money: dict[str, str | None]
) -> None:
    values: dict[str, str | None] = {"amount": "10.50", "currency": "EUR", **money}
    body = wire.callback("evt-1", "tx-1", "success", **values)

    with pytest.raises(CallbackMalformed, match=r"amount|currency"):
        make_gateway(wire).parse_callback(body, signed(body), now_s=NOW_S)


def test_gateway_a_refuses_an_amount_sent_as_a_json_number(make_gateway: GatewayFactory) -> None:
    document = {
        "eventId": "e",
        "transactionId": "tx-1",
        "status": "success",
        "amount": 10.5,
        "currency": "EUR",
    }
    body = json.dumps(document).encode()

    with pytest.raises(CallbackMalformed, match="amount"):
        make_gateway(WIRES["gateway_a"]).parse_callback(body, signed(body), now_s=NOW_S)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing"),
        ("t=1,v1=zz", "malformed"),
        (signed(b"another body"), "mismatch"),
        (signed(b"", t=int(NOW_S) - 301), "stale"),
    ],
)
def test_a_bad_signature_is_rejected_before_the_body_is_read(
    wire: Wire, make_gateway: GatewayFactory, header: str | None, reason: str
) -> None:
    body = b"not even a callback"

    with pytest.raises(CallbackRejected) as caught:
        make_gateway(wire).parse_callback(body, header, now_s=NOW_S)

    assert (caught.value.reason, caught.value.gateway) == (reason, wire.name)


def test_a_callback_signed_with_the_other_gateways_secret_is_rejected(
    wire: Wire, make_gateway: GatewayFactory
) -> None:
    body = wire.callback("evt-1", "tx-1", "success")

    with pytest.raises(CallbackRejected) as caught:
        make_gateway(wire).parse_callback(body, signed(body, secret="other"), now_s=NOW_S)

    assert caught.value.reason == "mismatch"


def test_an_unknown_status_is_malformed(wire: Wire, make_gateway: GatewayFactory) -> None:
    body = wire.callback("evt-1", "tx-1", "refunded")

    with pytest.raises(CallbackMalformed, match="refunded"):
        make_gateway(wire).parse_callback(body, signed(body), now_s=NOW_S)


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"transactionId": "tx-1", "status": "success"}',
        a_callback(eventId=""),
        a_callback(transactionId="tx/1"),
        a_callback(status=["success"]),
        a_callback(reason=5),
        b'{"eventId": "e", "transactionId": "tx-1", "status": "failure", "status": "success", '
        b'"amount": "1", "currency": "EUR"}',
        b"\xff\xfe",
    ],
)
def test_gateway_a_refuses_a_signed_body_that_is_not_its_callback(
    make_gateway: GatewayFactory, body: bytes
) -> None:
    with pytest.raises(CallbackMalformed):
        make_gateway(WIRES["gateway_a"]).parse_callback(body, signed(body), now_s=NOW_S)


def test_gateway_a_ignores_unknown_fields_and_a_null_reason(
    make_gateway: GatewayFactory,
) -> None:
    document = {
        "eventId": "e",
        "transactionId": "tx-1",
        "status": "success",
        "amount": "10.50",
        "currency": "EUR",
        "reason": None,
        "extra": {"added": "later"},
    }
    body = json.dumps(document).encode()

    event = make_gateway(WIRES["gateway_a"]).parse_callback(body, signed(body), now_s=NOW_S)

    assert event == CallbackEvent("e", "tx-1", "success", Decimal("10.50"), "EUR", None)


@pytest.mark.parametrize(
    "body",
    [
        b"<Callback><EventId>e",
        xml_document(
            "Payment", {"EventId": "e", "TransactionId": "tx-1", "Status": "success", **MONEY}
        ),
        xml_document("Callback", {"TransactionId": "tx-1", "Status": "success", **MONEY}),
        b"<Callback><EventId>e</EventId><EventId>f</EventId>"
        b"<TransactionId>tx-1</TransactionId><Status>success</Status>"
        b"<Amount>1</Amount><Currency>EUR</Currency></Callback>",
        b"<Callback><EventId>e</EventId><TransactionId>tx-1</TransactionId>"
        b"<Status><x/>success</Status><Amount>1</Amount><Currency>EUR</Currency></Callback>",
        b'<Callback xmlns="urn:x"><EventId>e</EventId><TransactionId>tx-1</TransactionId>'
        b"<Status>success</Status><Amount>1</Amount><Currency>EUR</Currency></Callback>",
    ],
)
def test_gateway_b_refuses_a_signed_body_that_is_not_its_callback(
    make_gateway: GatewayFactory, body: bytes
) -> None:
    with pytest.raises(CallbackMalformed):
        make_gateway(WIRES["gateway_b"]).parse_callback(body, signed(body), now_s=NOW_S)


@pytest.mark.parametrize("kind", sorted(HOSTILE_XML))
def test_gateway_b_refuses_hostile_xml_even_when_signed(
    make_gateway: GatewayFactory, kind: str
) -> None:
    body = HOSTILE_XML[kind]

    with pytest.raises(CallbackMalformed, match="DTDs, entities and external references"):
        make_gateway(WIRES["gateway_b"]).parse_callback(body, signed(body), now_s=NOW_S)


def test_gateway_b_reads_escaped_text_and_an_empty_reason_as_none(
    make_gateway: GatewayFactory,
) -> None:
    body = xml_document(
        "Callback",
        {
            "EventId": "evt<&>",
            "TransactionId": "tx-1",
            "Status": "success",
            "Amount": "10.50",
            "Currency": "EUR",
            "Reason": "",
        },
    )

    event = make_gateway(WIRES["gateway_b"]).parse_callback(body, signed(body), now_s=NOW_S)

    assert event == CallbackEvent("evt<&>", "tx-1", "success", Decimal("10.50"), "EUR", None)


def test_a_body_over_the_size_limit_is_malformed(wire: Wire, make_gateway: GatewayFactory) -> None:
    body = wire.callback("e" * 10, "tx-1", "success", "x" * 70_000)

    with pytest.raises(CallbackMalformed, match="too large"):
        make_gateway(wire).parse_callback(body, signed(body), now_s=NOW_S)
