"""The SOAP 1.1 variant of the payment endpoints."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from defusedxml.ElementTree import fromstring

from paycon.api.soap import ENVELOPE_NS, PAYCON_NS
from tests.paycon_fixtures import CLIENT_KEY, OPERATOR_KEY, RunningPaycon

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


def problem_of(envelope: ET.Element) -> dict[str, str]:
    """The Fault's problem detail, field by field (texts of its direct children)."""
    problem = envelope.find(f"./{{{ENVELOPE_NS}}}Body/{{{ENVELOPE_NS}}}Fault/detail/"
                            f"{{{PAYCON_NS}}}problem")  # fmt: skip
    assert problem is not None, ET.tostring(envelope)
    return {child.tag.rpartition("}")[2]: child.text or "" for child in problem}


def fault_code(envelope: ET.Element) -> str:
    return problem_of(envelope)["code"]


def soap_fault_code(envelope: ET.Element) -> str:
    """The SOAP faultcode: soap:Client or soap:Server."""
    return envelope.findtext(f"./{{{ENVELOPE_NS}}}Body/{{{ENVELOPE_NS}}}Fault/faultcode") or ""


async def test_soap_deposit_is_accepted_and_answered_in_soap(paycon: RunningPaycon) -> None:
    status, content_type, envelope = await post_soap(paycon, ENVELOPE.format(amount="12.30"))
    assert status == 200  # SOAP 1.1 over HTTP: a response envelope comes with 200 OK
    assert content_type == "text/xml; charset=utf-8"
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
    assert answer_status == 500  # every SOAP 1.1 Fault; the problem's own status is inside
    assert content_type == "text/xml; charset=utf-8"
    assert soap_fault_code(envelope) == "soap:Client"
    assert fault_code(envelope) == code
    assert problem_of(envelope)["status"] == str(status)
    assert paycon.counts() == before


async def test_soap_without_a_key_is_a_client_fault_with_status_401(paycon: RunningPaycon) -> None:
    headers = {"Content-Type": "text/xml", "Idempotency-Key": "k"}
    async with paycon.http.post(
        paycon.url + "/v1/deposits", data=ENVELOPE.format(amount="1"), headers=headers
    ) as response:
        assert response.status == 500
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="paycon"'
        envelope = fromstring(await response.read())
    assert soap_fault_code(envelope) == "soap:Client"
    assert fault_code(envelope) == "unauthorized"
    assert problem_of(envelope)["status"] == "401"


async def test_invalid_fields_are_listed_in_the_fault(paycon: RunningPaycon) -> None:
    body = ENVELOPE.format(amount="ten").replace("<country>DE</country>", "<country>de</country>")
    _, _, envelope = await post_soap(paycon, body)
    errors = envelope.findall(
        f".//{{{PAYCON_NS}}}problem/{{{PAYCON_NS}}}errors/{{{PAYCON_NS}}}error"
    )
    fields = {e.findtext(f"{{{PAYCON_NS}}}field"): e.findtext(f"{{{PAYCON_NS}}}message")
              for e in errors}  # fmt: skip
    assert set(fields) == {"amount", "country"}, fields


async def test_no_gateway_in_routing_is_a_server_fault(paycon: RunningPaycon) -> None:
    for name in ("gateway_a", "gateway_b"):
        async with paycon.http.post(
            f"{paycon.url}/v1/gateways/{name}/disable",
            json={"reason": "provider incident"},
            headers={"Authorization": f"Bearer {OPERATOR_KEY}"},
        ) as response:
            assert response.status == 200, await response.text()
    status, _, envelope = await post_soap(paycon, ENVELOPE.format(amount="1.00"))
    assert status == 500
    assert soap_fault_code(envelope) == "soap:Server"
    assert problem_of(envelope)["status"] == "503"
    assert paycon.counts()["transactions"] == 0


async def test_soap_12_media_type_is_answered_as_soap_11(paycon: RunningPaycon) -> None:
    headers = {"Authorization": f"Bearer {CLIENT_KEY}", "Idempotency-Key": "soap12",
               "Content-Type": "application/soap+xml; charset=utf-8"}  # fmt: skip
    async with paycon.http.post(
        paycon.url + "/v1/deposits", data=ENVELOPE.format(amount="2.00"), headers=headers
    ) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/xml; charset=utf-8"


async def test_xml_elsewhere_is_not_answered_in_soap(paycon: RunningPaycon) -> None:
    """Only the two SOAP endpoints speak SOAP: a gateway callback in text/xml with a bad
    signature is a plain 401 problem, never a 500 Fault."""
    headers = {"Content-Type": "text/xml", "X-Signature": "t=1,v1=00"}
    async with paycon.http.post(
        paycon.url + "/v1/callbacks/gateway_b", data=b"<Callback/>", headers=headers
    ) as response:
        assert response.status == 401
        assert response.content_type == "application/problem+json"
