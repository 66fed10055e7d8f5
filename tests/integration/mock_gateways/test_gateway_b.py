"""Gateway B's own wire format: XML in, XML out, XML errors, hostile XML refused."""

from __future__ import annotations

import pytest

from tests.integration.mock_gateways.conftest import GatewayUnderTest
from tests.integration.mock_gateways.helpers import GatewayBClient

PAYMENT_FIELDS = (
    "<TransactionId>tx-b</TransactionId><Amount>25.50</Amount><Currency>EUR</Currency>"
    "<Type>deposit</Type><CallbackUrl>http://127.0.0.1:9/callbacks</CallbackUrl>"
)

XXE_FILE = f"""<?xml version="1.0"?>
<!DOCTYPE Payment [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Payment>{PAYMENT_FIELDS.replace("tx-b", "&secret;")}</Payment>"""

INTERNAL_ENTITY = f"""<?xml version="1.0"?>
<!DOCTYPE Payment [<!ENTITY id "tx-entity">]>
<Payment>{PAYMENT_FIELDS.replace("tx-b", "&id;")}</Payment>"""

BILLION_LAUGHS = f"""<?xml version="1.0"?>
<!DOCTYPE Payment [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Payment>{PAYMENT_FIELDS.replace("tx-b", "&lol9;")}</Payment>"""

EXTERNAL_DTD = f"""<?xml version="1.0"?>
<!DOCTYPE Payment SYSTEM "http://127.0.0.1:9/evil.dtd">
<Payment>{PAYMENT_FIELDS}</Payment>"""


def client_of(gateway: GatewayUnderTest) -> GatewayBClient:
    assert isinstance(gateway.client, GatewayBClient)
    return gateway.client


async def test_answers_are_xml_documents_named_for_the_call(gateway_b: GatewayUnderTest) -> None:
    submitted = await gateway_b.client.submit("tx-b")
    status = await gateway_b.client.status("tx-b")

    assert (submitted.root, status.root) == ("PaymentResponse", "StatusResponse")
    for answer in (submitted, status):
        assert answer.content_type == "application/xml"
        assert answer.fields == {
            "status": "pending",
            "transactionId": "tx-b",
            "amount": "10.00",
            "currency": "EUR",
        }


async def test_a_payment_in_xml_is_recorded_with_its_fields(gateway_b: GatewayUnderTest) -> None:
    body = f"<?xml version='1.0' encoding='UTF-8'?>\n<Payment>{PAYMENT_FIELDS}</Payment>"

    answer = await client_of(gateway_b).post_raw(body.encode())

    assert (answer.http_status, answer.payment_status) == (200, "pending")
    entry = (await gateway_b.admin.payments())["tx-b"]
    assert (entry["amount"], entry["currency"], entry["type"]) == ("25.50", "EUR", "deposit")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("<Payment><TransactionId>tx-b</Payment>", "malformed_xml"),
        ("", "malformed_xml"),
        ("not xml at all", "malformed_xml"),
        (f"<Refund>{PAYMENT_FIELDS}</Refund>", "malformed_xml"),
        (f"<Payment>{PAYMENT_FIELDS}<Amount>1.00</Amount></Payment>", "malformed_xml"),
        (
            f"<Payment>{PAYMENT_FIELDS.replace('25.50', '<Value>25.50</Value>')}</Payment>",
            "malformed_xml",
        ),
        (f"<Payment>{PAYMENT_FIELDS.replace('<Currency>EUR</Currency>', '')}</Payment>", None),
    ],
    ids=["unclosed", "empty", "text", "wrong-root", "repeated-field", "nested", "missing"],
)
async def test_bad_xml_is_400_with_an_xml_error(
    gateway_b: GatewayUnderTest, body: str, error: str | None
) -> None:
    answer = await client_of(gateway_b).post_raw(body.encode())

    assert (answer.http_status, answer.root, answer.content_type) == (
        400,
        "Error",
        "application/xml",
    )
    assert answer.error == (error or "missing_field")
    assert answer.fields["message"]
    assert await gateway_b.admin.payments() == {}


@pytest.mark.parametrize(
    "body",
    [XXE_FILE, INTERNAL_ENTITY, BILLION_LAUGHS, EXTERNAL_DTD],
    ids=["xxe-file", "internal-entity", "billion-laughs", "external-dtd"],
)
async def test_dtds_and_entities_are_refused_before_expansion(
    gateway_b: GatewayUnderTest, body: str
) -> None:
    answer = await client_of(gateway_b).post_raw(body.encode())

    assert (answer.http_status, answer.root, answer.error) == (400, "Error", "forbidden_xml")
    assert "root:" not in answer.fields["message"]  # nothing from /etc/passwd echoed back
    assert await gateway_b.admin.payments() == {}


async def test_get_status_without_a_transaction_id_is_400(gateway_b: GatewayUnderTest) -> None:
    async with client_of(gateway_b).http.get(f"{gateway_b.base_url}/GetStatus") as response:
        body = await response.read()

    assert response.status == 400
    assert b"<Code>missing_field</Code>" in body


async def test_an_unknown_status_is_an_xml_404(gateway_b: GatewayUnderTest) -> None:
    answer = await gateway_b.client.status("tx-unknown")

    assert (answer.http_status, answer.root, answer.error) == (404, "Error", "unknown_transaction")
