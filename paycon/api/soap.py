"""The SOAP 1.1 envelope variant of the payment endpoints.

A request carries the same fields as the JSON body, as child elements of one
operation element (``CreateDeposit`` / ``CreateWithdrawal``) in the SOAP Body;
``destination`` has ``iban`` and ``holder`` children. Answers are SOAP too: the
transaction in a ``<Operation>Response`` element, or a SOAP Fault carrying the
same problem details as the JSON API, with the same 4xx HTTP status.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from gateways.xmldoc import MAX_DEPTH, XmlRejected, parse
from paycon.api.bodies import decode_text
from paycon.domain.errors import InvalidInput

ENVELOPE_NS = "http://schemas.xmlsoap.org/soap/envelope/"
PAYCON_NS = "urn:paycon:v1"

ET.register_namespace("soap", ENVELOPE_NS)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _element_to_value(element: ET.Element) -> Any:
    children = list(element)
    if not children:
        return element.text or ""
    value: dict[str, Any] = {}
    for child in children:
        name = _local(child.tag)
        if name in value:
            raise InvalidInput(f"element <{name}> appears twice")
        value[name] = _element_to_value(child)
    return value


def parse_envelope(raw: bytes, operation: str) -> dict[str, Any]:
    """The fields of ``operation`` in a SOAP 1.1 envelope, as a dict of strings.

    DTDs, entity declarations and external references are refused, and so are
    elements nested deeper than ``MAX_DEPTH``. Raises InvalidInput for those and
    for anything that is not exactly one ``operation`` element in the
    envelope's Body.
    """
    decode_text(raw)  # the same UTF-8 rule as JSON, before the parser guesses
    try:
        root = parse(raw, max_depth=MAX_DEPTH)
    except XmlRejected as exc:
        raise InvalidInput(f"XML refused: {exc}") from None
    if root.tag != f"{{{ENVELOPE_NS}}}Envelope":
        raise InvalidInput(f"expected a SOAP 1.1 Envelope in namespace {ENVELOPE_NS}")
    body = root.find(f"{{{ENVELOPE_NS}}}Body")
    if body is None or len(body) != 1:
        raise InvalidInput(f"the SOAP Body must hold exactly one <{operation}> element")
    request = body[0]
    if _local(request.tag) != operation:
        raise InvalidInput(f"this endpoint takes <{operation}>, not <{_local(request.tag)}>")
    fields = _element_to_value(request)
    if not isinstance(fields, dict):
        raise InvalidInput(f"<{operation}> has no fields")
    return fields


def _append(parent: ET.Element, name: str, value: Any) -> None:
    child = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, item in value.items():
            _append(child, key, item)
    elif isinstance(value, list):
        for item in value:
            _append(child, name.removesuffix("s"), item)
    elif value is not None:
        child.text = str(value)


def _envelope(content: ET.Element) -> bytes:
    envelope = ET.Element(f"{{{ENVELOPE_NS}}}Envelope")
    body = ET.SubElement(envelope, f"{{{ENVELOPE_NS}}}Body")
    body.append(content)
    rendered: bytes = ET.tostring(envelope, encoding="utf-8", xml_declaration=True)
    return rendered


def render_response(operation: str, transaction: dict[str, Any]) -> bytes:
    """``<operation>Response`` holding the transaction."""
    response = ET.Element(f"{operation}Response", xmlns=PAYCON_NS)
    _append(response, "transaction", transaction)
    return _envelope(response)


def render_fault(problem: dict[str, Any]) -> bytes:
    """A SOAP Fault with the problem details in its ``detail``."""
    fault = ET.Element(f"{{{ENVELOPE_NS}}}Fault")
    code = "soap:Client" if int(problem.get("status", 400)) < 500 else "soap:Server"
    ET.SubElement(fault, "faultcode").text = code
    ET.SubElement(fault, "faultstring").text = f"{problem['title']}: {problem['detail']}"
    detail = ET.SubElement(fault, "detail")
    container = ET.SubElement(detail, "problem", xmlns=PAYCON_NS)
    for key, value in problem.items():
        _append(container, key, value)
    return _envelope(fault)
