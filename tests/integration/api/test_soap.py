"""The SOAP 1.1 variant of the payment endpoints."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from defusedxml.ElementTree import fromstring

from paycon.api.soap import ENVELOPE_NS, PAYCON_NS
from tests.paycon_fixtures import CLIENT_KEY, RunningPaycon

ENVELOPE = """<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Body>
    <CreateDeposit xmlns="urn:paycon:v1">
      <customer_id>cus_soap</customer_id>
      <amount>{amount}</amount>
      <currency>EUR</currency>
      <country>DE</country>
    </CreateDeposit>
  </soap:Body>
</soap:Envelope>"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>
<CreateDeposit><customer_id>&lol3;</customer_id></CreateDeposit></soap:Body></soap:Envelope>"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>
<CreateDeposit><customer_id>&xxe;</customer_id></CreateDeposit></soap:Body></soap:Envelope>"""

DTD_ONLY = """<?xml version="1.0"?>
<!DOCTYPE Envelope SYSTEM "http://127.0.0.1:9/evil.dtd">
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body/></soap:Envelope>"""


async def post_soap(
    paycon: RunningPaycon, body: str | bytes, *, key: str = "soap-1", path: str = "/v1/deposits"
) -> tuple[int, str, ET.Element]:
    headers = {
        "Authorization": f"Bearer {CLIENT_KEY}",
        "Idempotency-Key": key,
        "Content-Type": "text/xml; charset=utf-8",
        "SOAPAction": '"urn:paycon:v1#CreateDeposit"',
    }
    data = body.encode() if isinstance(body, str) else body
    async with paycon.http.post(paycon.url + path, data=data, headers=headers) as response:
        return (
            response.status,
            response.headers["Content-Type"],
            fromstring(await response.read()),
        )


def fault_code(envelope: ET.Element) -> str:
    problem = envelope.find(f".//{{{PAYCON_NS}}}problem")
    assert problem is not None, ET.tostring(envelope)
    code = problem.find(f"{{{PAYCON_NS}}}code")
    assert code is not None
    return code.text or ""


async def test_soap_deposit_is_accepted_and_answered_in_soap(paycon: RunningPaycon) -> None:
    status, content_type, envelope = await post_soap(paycon, ENVELOPE.format(amount="12.30"))
    assert status == 202
    assert content_type.startswith("text/xml")
    assert envelope.tag == f"{{{ENVELOPE_NS}}}Envelope"
    transaction = envelope.find(f".//{{{PAYCON_NS}}}transaction")
    assert transaction is not None
    assert transaction.findtext(f"{{{PAYCON_NS}}}amount") == "12.30"
    assert transaction.findtext(f"{{{PAYCON_NS}}}status") == "pending"
    assert paycon.counts()["transactions"] == 1


async def test_soap_and_json_share_idempotency(paycon: RunningPaycon) -> None:
    await post_soap(paycon, ENVELOPE.format(amount="12.30"), key="shared")
    status, headers, body = await paycon.post_json(
        "/v1/deposits",
        {"customer_id": "cus_soap", "amount": "12.3", "currency": "EUR", "country": "DE"},
        key="shared",
    )
    assert status == 202
    assert headers["Idempotent-Replayed"] == "true"
    assert body["amount"] == "12.30"
    assert paycon.counts()["transactions"] == 1


@pytest.mark.parametrize(
    ("case", "body", "status", "code"),
    [
        ("invalid amount", ENVELOPE.format(amount="1.234"), 400, "invalid_request"),
        ("malformed XML", "<soap:Envelope", 400, "invalid_request"),
        ("billion laughs", BILLION_LAUGHS, 400, "invalid_request"),
        ("external entity", XXE, 400, "invalid_request"),
        ("external DTD", DTD_ONLY, 400, "invalid_request"),
        ("not an envelope", "<CreateDeposit/>", 400, "invalid_request"),
        ("wrong operation", ENVELOPE.replace("CreateDeposit", "CreateWithdrawal"), 400,
         "invalid_request"),
        ("unknown element", ENVELOPE.format(amount="1").replace(
            "<country>DE</country>", "<country>DE</country><colour>red</colour>"), 400,
         "invalid_request"),
        ("non UTF-8", ENVELOPE.format(amount="1").replace("cus_soap", "caf\xe9").encode("latin-1"),
         400, "invalid_request"),
    ],
)  # fmt: skip
async def test_bad_soap_is_a_fault_and_changes_nothing(
    paycon: RunningPaycon, case: str, body: str | bytes, status: int, code: str
) -> None:
    before = paycon.counts()
    answer_status, content_type, envelope = await post_soap(paycon, body)
    assert answer_status == status
    assert content_type.startswith("text/xml")
    assert envelope.find(f".//{{{ENVELOPE_NS}}}Fault") is not None
    assert fault_code(envelope) == code
    assert paycon.counts() == before


async def test_soap_without_a_key_is_a_401_fault(paycon: RunningPaycon) -> None:
    headers = {"Content-Type": "text/xml", "Idempotency-Key": "k"}
    async with paycon.http.post(
        paycon.url + "/v1/deposits", data=ENVELOPE.format(amount="1"), headers=headers
    ) as response:
        assert response.status == 401
        envelope = fromstring(await response.read())
    assert fault_code(envelope) == "unauthorized"
