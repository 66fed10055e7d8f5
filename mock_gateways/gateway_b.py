"""Gateway B: XML over HTTP.

- ``POST /ProcessPayment`` with
  ``<Payment><TransactionId/><Amount/><Currency/><Type/><CallbackUrl/></Payment>``
  → ``<PaymentResponse><Status/><TransactionId/><Amount/><Currency/></PaymentResponse>``
- ``GET /GetStatus?TransactionId=``
  → ``<StatusResponse><Status/><TransactionId/><Amount/><Currency/></StatusResponse>``;
  404 if unknown.
- Errors: ``<Error><Code/><Message/></Error>`` with a 4xx/5xx status.
- Callbacks:
  ``<Callback><EventId/><TransactionId/><Status/><Amount/><Currency/><Reason/></Callback>``.

Requests are parsed with ``defusedxml``: a DTD, entity or external
reference is refused (400) before anything is expanded or fetched.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

import defusedxml
import defusedxml.ElementTree
from aiohttp import web

from mock_gateways.callbacks import CallbackEvent, EncodedBody
from mock_gateways.dialect import Dialect
from mock_gateways.errors import InvalidRequest
from mock_gateways.keys import GATEWAY, ROLL
from mock_gateways.ledger import LedgerEntry
from mock_gateways.payments import payment_request, transaction_id

CONTENT_TYPE = "application/xml"

WIRE_NAMES = {
    "transaction_id": "TransactionId",
    "amount": "Amount",
    "currency": "Currency",
    "type": "Type",
    "callback_url": "CallbackUrl",
}


async def process_payment(request: web.Request) -> web.Response:
    """Take a payment (or a repeat of one) and answer its current state."""
    root = _parse(await request.read())
    if root.tag != "Payment":
        raise InvalidRequest("malformed_xml", f"the root must be <Payment>, not <{root.tag}>")
    raw = {field: _child_text(root, wire_name) for field, wire_name in WIRE_NAMES.items()}
    entry = request.app[GATEWAY].submit(payment_request(raw, WIRE_NAMES), request[ROLL])
    return _state_response("PaymentResponse", entry)


async def get_status(request: web.Request) -> web.Response:
    """Answer a payment's current state; 400 without ``TransactionId``, 404 if unknown."""
    raw = request.query.get("TransactionId")
    if not raw:
        raise InvalidRequest("missing_field", "TransactionId is required")
    entry = request.app[GATEWAY].status(transaction_id(raw, "TransactionId"))
    return _state_response("StatusResponse", entry)


def error_response(status: int, code: str, message: str) -> web.Response:
    """An error in B's format."""
    return _xml_response("Error", [("Code", code), ("Message", message)], status=status)


def encode_callback(event: CallbackEvent) -> EncodedBody:
    """A callback body in B's format (an empty ``<Reason/>`` when there is none)."""
    fields = [
        ("EventId", event.event_id),
        ("TransactionId", event.transaction_id),
        ("Status", event.status),
        ("Amount", event.wire_amount),
        ("Currency", event.currency),
        ("Reason", event.reason or ""),
    ]
    return EncodedBody(render("Callback", fields), CONTENT_TYPE)


def render(root: str, fields: Sequence[tuple[str, str]]) -> bytes:
    """A flat XML document: ``<root><name>text</name>...</root>``, text escaped."""
    children = "".join(
        f"<{name}>{escape(text)}</{name}>" if text else f"<{name}/>" for name, text in fields
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}>{children}</{root}>'.encode()


def _parse(body: bytes) -> Element:
    try:
        return defusedxml.ElementTree.fromstring(
            body, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DefusedXmlException as exc:
        raise InvalidRequest("forbidden_xml", f"DTDs and entities are refused: {exc}") from None
    except ParseError as exc:
        raise InvalidRequest("malformed_xml", f"body is not well-formed XML: {exc}") from None


def _child_text(root: Element, name: str) -> str | None:
    matches = root.findall(name)
    if len(matches) > 1:
        raise InvalidRequest("malformed_xml", f"<{name}> must appear once")
    if not matches:
        return None
    if len(matches[0]):
        raise InvalidRequest("malformed_xml", f"<{name}> must hold text, not elements")
    return (matches[0].text or "").strip()


def _state_response(root: str, entry: LedgerEntry) -> web.Response:
    payment = entry.request
    fields = [
        ("Status", entry.reported_status),
        ("TransactionId", payment.transaction_id),
        ("Amount", format(payment.amount, "f")),
        ("Currency", payment.currency),
    ]
    return _xml_response(root, fields)


def _xml_response(root: str, fields: Sequence[tuple[str, str]], status: int = 200) -> web.Response:
    return web.Response(
        body=render(root, fields), status=status, content_type=CONTENT_TYPE, charset="utf-8"
    )


GATEWAY_B = Dialect(
    name="gateway_b",
    routes=[
        web.post("/ProcessPayment", process_payment),
        web.get("/GetStatus", get_status),
    ],
    error_response=error_response,
    encode_callback=encode_callback,
)
