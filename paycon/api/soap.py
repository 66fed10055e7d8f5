"""The SOAP 1.1 envelope variant of the payment endpoints.

A request carries the same fields as the JSON body, as child elements of one
operation element (``CreateDeposit`` / ``CreateWithdrawal``) in the SOAP Body;
``destination`` has ``iban`` and ``holder`` children. Answers are SOAP too: the
transaction in a ``<Operation>Response`` element, or a SOAP Fault carrying the
same problem details as the JSON API. paycon.api.wsdl describes these shapes;
both follow the same models (fields in the models' order, absent values left out).
"""

from __future__ import annotations

import types
import xml.etree.ElementTree as ET
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from gateways.xmldoc import MAX_DEPTH, XmlRejected, parse
from paycon.api.bodies import decode_text
from paycon.api.schemas import ProblemOut
from paycon.domain.errors import InvalidInput
from paycon.models.transactions import TransactionOut

ENVELOPE_NS = "http://schemas.xmlsoap.org/soap/envelope/"
PAYCON_NS = "urn:paycon:v1"
# The SOAPAction the WSDL names for each operation; the endpoint's URL decides, not this.
SOAP_ACTION = "urn:paycon:v1#{operation}"
# SOAP 1.1 is text/xml (application/soap+xml is accepted, but names SOAP 1.2).
SOAP_CONTENT_TYPE = "text/xml"
TRANSACTION_ELEMENT = "transaction"
PROBLEM_ELEMENT = "problem"

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


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model inside ``annotation`` (``M``, ``M | None``, ``list[M]``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType, list):
        for argument in get_args(annotation):
            if (model := _nested_model(argument)) is not None:
                return model
    return None


def _append(parent: ET.Element, name: str, value: Any, model: type[BaseModel] | None) -> None:
    if value is None:
        return
    if isinstance(value, list):
        wrapper = ET.SubElement(parent, name)
        for item in value:
            _append(wrapper, name.removesuffix("s"), item, model)
        return
    child = ET.SubElement(parent, name)
    if isinstance(value, dict) and model is not None:
        _append_fields(child, value, model)
    elif isinstance(value, bool):
        child.text = "true" if value else "false"
    else:
        child.text = str(value)


def _append_fields(parent: ET.Element, value: dict[str, Any], model: type[BaseModel]) -> None:
    """``model``'s fields of ``value`` in the model's order (the order the WSDL's sequences
    name); keys the model does not have are not part of the SOAP answer."""
    for name, field in model.model_fields.items():
        _append(parent, name, value.get(name), _nested_model(field.annotation))


def _envelope(content: ET.Element) -> bytes:
    envelope = ET.Element(f"{{{ENVELOPE_NS}}}Envelope")
    body = ET.SubElement(envelope, f"{{{ENVELOPE_NS}}}Body")
    body.append(content)
    rendered: bytes = ET.tostring(envelope, encoding="utf-8", xml_declaration=True)
    return rendered


def render_response(operation: str, transaction: dict[str, Any]) -> bytes:
    """``<operation>Response`` holding the transaction."""
    response = ET.Element(f"{operation}Response", xmlns=PAYCON_NS)
    _append(response, TRANSACTION_ELEMENT, transaction, TransactionOut)
    return _envelope(response)


def fault_code(status: int) -> str:
    """``soap:Client`` for a request to correct (a 4xx problem), else ``soap:Server``."""
    return "soap:Client" if status < 500 else "soap:Server"


def render_fault(problem: dict[str, Any]) -> bytes:
    """A SOAP Fault with the problem details (its own HTTP status among them) in ``detail``."""
    fault = ET.Element(f"{{{ENVELOPE_NS}}}Fault")
    ET.SubElement(fault, "faultcode").text = fault_code(int(problem["status"]))
    ET.SubElement(fault, "faultstring").text = f"{problem['title']}: {problem['detail']}"
    detail = ET.SubElement(fault, "detail")
    _append(detail, PROBLEM_ELEMENT, problem, ProblemOut)
    detail[0].set("xmlns", PAYCON_NS)
    return _envelope(fault)
