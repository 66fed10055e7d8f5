"""XML nested deeper than 64 elements is bad input on every XML route of the API."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import pytest

from gateways import SIGNATURE_HEADER, sign
from paycon.api.soap import ENVELOPE_NS, PAYCON_NS
from tests.integration.api.test_soap import ENVELOPE, fault_code, post_soap, problem_of
from tests.paycon_fixtures import RunningPaycon


def soap_with_reference_nested(depth: int) -> str:
    """A deposit envelope whose ``reference`` nests elements to ``depth`` in all.

    Envelope, Body, CreateDeposit and reference are the first four levels.
    """
    inner = depth - 4
    reference = "<reference>" + "<x>" * inner + "</x>" * inner + "</reference>"
    return ENVELOPE.format(amount="1.00").replace(
        "<country>DE</country>", f"<country>DE</country>{reference}"
    )


def faultstring(envelope: ET.Element) -> str:
    return envelope.findtext(f".//{{{ENVELOPE_NS}}}Fault/faultstring") or ""


async def test_soap_64_deep_is_parsed_and_judged_on_its_fields(paycon: RunningPaycon) -> None:
    status, _, envelope = await post_soap(paycon, soap_with_reference_nested(64))
    # A SOAP Fault is HTTP 500 (SOAP 1.1); the problem inside says 400.
    assert (status, problem_of(envelope)["status"]) == (500, "400")
    assert "nested deeper" not in faultstring(envelope)
    problem = envelope.find(f".//{{{PAYCON_NS}}}problem")
    assert problem is not None
    assert "reference" in ET.tostring(problem, encoding="unicode")


@pytest.mark.parametrize("depth", [65, 1500])
async def test_soap_nested_deeper_is_a_client_fault_and_changes_nothing(
    paycon: RunningPaycon, depth: int
) -> None:
    before = paycon.counts()
    status, content_type, envelope = await post_soap(paycon, soap_with_reference_nested(depth))
    # The same answer as any other bad SOAP input: a Fault blaming the client.
    assert (status, problem_of(envelope)["status"]) == (500, "400")
    assert content_type.startswith("text/xml")
    assert envelope.findtext(f".//{{{ENVELOPE_NS}}}Fault/faultcode") == "soap:Client"
    assert fault_code(envelope) == "invalid_request"
    assert "nested deeper than 64" in faultstring(envelope)
    assert paycon.counts() == before


def callback_nested(depth: int) -> bytes:
    extra = "<Extra>" * (depth - 1) + "</Extra>" * (depth - 1)
    return (
        "<Callback><EventId>evt-deep</EventId><TransactionId>tx_01ARZ3NDEKTSV4RRFFQ69G5FAV"
        "</TransactionId><Status>success</Status><Amount>1.00</Amount><Currency>EUR</Currency>"
        f"{extra}</Callback>"
    ).encode()


async def post_callback_b(paycon: RunningPaycon, body: bytes) -> tuple[int, dict[str, object]]:
    headers = {
        "Content-Type": "application/xml",
        SIGNATURE_HEADER: sign("secret-b", body, int(time.time())),
    }
    async with paycon.http.post(
        paycon.url + "/v1/callbacks/gateway_b", data=body, headers=headers
    ) as response:
        return response.status, await response.json(content_type=None)


async def test_a_gateway_b_callback_64_deep_is_read(paycon: RunningPaycon) -> None:
    status, body = await post_callback_b(paycon, callback_nested(64))
    assert status == 404, body  # read, verified, and the transaction is unknown


@pytest.mark.parametrize("depth", [65, 1500])
async def test_a_gateway_b_callback_nested_deeper_is_400(paycon: RunningPaycon, depth: int) -> None:
    status, body = await post_callback_b(paycon, callback_nested(depth))
    assert status == 400, body
    assert "nested deeper than 64" in str(body["detail"])
