"""The WSDL 1.1 document of the SOAP service, generated from the models that validate requests.

Document/literal (wrapped): the Body of a request holds one ``CreateDeposit`` or
``CreateWithdrawal`` element whose children are the fields of ``DepositIn`` /
``WithdrawalIn``; the answer holds ``<Operation>Response`` with the transaction
(``TransactionOut``); a Fault's ``detail`` holds ``problem`` (``ProblemOut``). The
XML Schema inside is translated from those models' JSON Schema, the same one the
OpenAPI document is built from, so the two descriptions cannot drift apart.

The two operations live on two URLs, so the service has two ports, each with a
binding of its own port type: ``DepositPort`` at ``/v1/deposits`` and
``WithdrawalPort`` at ``/v1/withdrawals``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from paycon.api.schemas import DepositIn, ProblemOut, WithdrawalIn
from paycon.api.soap import PAYCON_NS, PROBLEM_ELEMENT, SOAP_ACTION, TRANSACTION_ELEMENT
from paycon.models.transactions import TransactionOut

_NAMESPACES = {
    "xmlns:wsdl": "http://schemas.xmlsoap.org/wsdl/",
    "xmlns:soap": "http://schemas.xmlsoap.org/wsdl/soap/",
    "xmlns:xsd": "http://www.w3.org/2001/XMLSchema",
    "xmlns:tns": PAYCON_NS,
}
_HTTP_TRANSPORT = "http://schemas.xmlsoap.org/soap/http"
# Named schema types for the models' nested definitions (JSON Schema ``$defs``).
_TYPE_NAMES = {
    "TransactionOut": "Transaction",
    "ProblemOut": "Problem",
    "DestinationIn": "Destination",
    "DestinationOut": "MaskedDestination",
    "ProblemFieldOut": "FieldError",
}


class SchemaTranslationError(Exception):
    """A model uses a JSON Schema construct this translation does not know."""


@dataclass(frozen=True)
class SoapOperation:
    """One operation: its name, where it is served, and the model of its request."""

    name: str
    path: str
    port: str
    request: type[BaseModel]


OPERATIONS = (
    SoapOperation("CreateDeposit", "/v1/deposits", "Deposit", DepositIn),
    SoapOperation("CreateWithdrawal", "/v1/withdrawals", "Withdrawal", WithdrawalIn),
)
SERVICE_NAME = "PayconService"


# Escapes of Python's and JSON Schema's regular expressions that XSD has no such
# spelling for, as XSD's categories (which XML can carry: most control characters
# may not appear in an XML document, even in an attribute). ``\s`` inside a class
# is Unicode whitespace in Python, only four characters in XSD: with the space
# separators added, the class means the same.
_XSD_ESCAPES = (
    ("\\x00-\\x1f\\x7f-\\x9f", "\\p{Cc}"),
    ("\\u2028", "\\p{Zl}"),
    ("\\u2029", "\\p{Zp}"),
    ("[^\\s", "[^\\s\\p{Z}"),
)
_CODE_POINT = re.compile(r"\\u([0-9a-fA-F]{4})")
# A printable ASCII character spelled \xHH (XML carries it as itself).
_PRINTABLE_BYTE = re.compile(r"\\x(2[1-9a-fA-F]|[3-6][0-9a-fA-F]|7[0-9a-eA-E])")


def _literal(char: str) -> str:
    return "\\" + char if char in "\\[]^-.?*+{}()|" else char


def xsd_pattern(json_pattern: str) -> str:
    """A JSON Schema ``pattern`` (a search) as an XSD pattern (which must match the whole).

    Raises SchemaTranslationError for an escape XSD cannot spell.
    """
    pattern = (
        json_pattern.removeprefix("^") if json_pattern.startswith("^") else ".*" + json_pattern
    )
    pattern = pattern.removesuffix("$") if pattern.endswith("$") else pattern + ".*"
    for python, xsd in _XSD_ESCAPES:
        pattern = pattern.replace(python, xsd)
    pattern = _CODE_POINT.sub(lambda code: chr(int(code[1], 16)), pattern)
    pattern = _PRINTABLE_BYTE.sub(lambda code: _literal(chr(int(code[1], 16))), pattern)
    if "\\x" in pattern or "\\u" in pattern:
        raise SchemaTranslationError(f"no XSD spelling for {json_pattern!r}")
    return pattern


def _sub(parent: ET.Element, tag: str, **attributes: str) -> ET.Element:
    return ET.SubElement(parent, tag, attributes)


class _SchemaWriter:
    """Writes the models' JSON Schemas as XSD types into one ``xsd:schema``."""

    def __init__(self, schema: ET.Element) -> None:
        self._schema = schema
        self._written: set[str] = set()

    def complex_type(self, parent: ET.Element, json_schema: dict[str, Any], defs: Any) -> None:
        """The object ``json_schema`` as a sequence under ``parent`` (an xsd:complexType)."""
        if json_schema.get("type") != "object":
            raise SchemaTranslationError(f"not an object: {json_schema}")
        sequence = _sub(parent, "xsd:sequence")
        required = set(json_schema.get("required", ()))
        for name, prop in json_schema.get("properties", {}).items():
            self._element(sequence, name, prop, defs, required=name in required)

    def named_type(self, def_name: str, defs: dict[str, Any]) -> str:
        """The schema type for ``$defs[def_name]``, written once; its qualified name."""
        type_name = _TYPE_NAMES.get(def_name, def_name)
        if type_name not in self._written:
            self._written.add(type_name)
            definition = defs[def_name]
            if definition.get("type") == "object":
                node = _sub(self._schema, "xsd:complexType", name=type_name)
                self.complex_type(node, definition, defs)
            else:
                node = _sub(self._schema, "xsd:simpleType", name=type_name)
                self._restriction(node, definition)
        return f"tns:{type_name}"

    def _element(
        self, parent: ET.Element, name: str, prop: dict[str, Any], defs: Any, *, required: bool
    ) -> None:
        options = prop.get("anyOf", [prop])
        present = [option for option in options if option.get("type") != "null"]
        if len(present) != 1:
            raise SchemaTranslationError(f"{name}: only 'one type or null' is supported")
        value = present[0]
        # Absent or null values are left out of the XML, never sent empty.
        optional = not required or len(options) > 1
        element = _sub(parent, "xsd:element", name=name)
        if optional:
            element.set("minOccurs", "0")
        description = prop.get("description") or value.get("description")
        if description:
            _sub(_sub(element, "xsd:annotation"), "xsd:documentation").text = description
        if "$ref" in value:
            element.set("type", self.named_type(value["$ref"].rpartition("/")[2], defs))
        elif value.get("type") == "array":
            items = value["items"]
            wrapper = _sub(_sub(element, "xsd:complexType"), "xsd:sequence")
            item_name = name.removesuffix("s")
            if "$ref" not in items:
                raise SchemaTranslationError(f"{name}: arrays of models only")
            _sub(
                wrapper,
                "xsd:element",
                name=item_name,
                type=self.named_type(items["$ref"].rpartition("/")[2], defs),
                minOccurs="0",
                maxOccurs="unbounded",
            )
        else:
            self._restriction(_sub(element, "xsd:simpleType"), value)

    def _restriction(self, parent: ET.Element, value: dict[str, Any]) -> None:
        kind = value.get("type")
        if kind == "integer":
            restriction = _sub(parent, "xsd:restriction", base="xsd:int")
        elif kind == "boolean":
            restriction = _sub(parent, "xsd:restriction", base="xsd:boolean")
        elif kind == "string":
            restriction = _sub(parent, "xsd:restriction", base="xsd:string")
        else:
            raise SchemaTranslationError(f"unsupported type: {value}")
        for choice in value.get("enum", ()):
            _sub(restriction, "xsd:enumeration", value=str(choice))
        if "const" in value:
            _sub(restriction, "xsd:enumeration", value=str(value["const"]))
        if "minLength" in value:
            _sub(restriction, "xsd:minLength", value=str(value["minLength"]))
        if "maxLength" in value:
            _sub(restriction, "xsd:maxLength", value=str(value["maxLength"]))
        if "pattern" in value:
            _sub(restriction, "xsd:pattern", value=xsd_pattern(value["pattern"]))
        known = {"type", "enum", "const", "minLength", "maxLength", "pattern"}
        # Times stay strings: the API writes RFC 3339 text, which toolkits pass through as is.
        known |= {"title", "description", "examples", "default", "format"}
        if unknown := set(value) - known:
            raise SchemaTranslationError(f"unsupported keywords {sorted(unknown)}: {value}")


def _wrapper_element(writer: _SchemaWriter, schema: ET.Element, name: str, child: str,
                     model: type[BaseModel]) -> None:  # fmt: skip
    """``<name>`` holding one ``<child>`` of ``model``'s type."""
    json_schema = model.model_json_schema(mode="serialization")
    type_name = writer.named_type(model.__name__, {model.__name__: json_schema,
                                                   **json_schema.get("$defs", {})})  # fmt: skip
    sequence = _sub(_sub(_sub(schema, "xsd:element", name=name), "xsd:complexType"), "xsd:sequence")
    _sub(sequence, "xsd:element", name=child, type=type_name)


def _types(definitions: ET.Element) -> None:
    # The schema declares the prefixes it uses itself: toolkits compile it on its own.
    schema = ET.SubElement(
        _sub(definitions, "wsdl:types"),
        "xsd:schema",
        {
            "xmlns:xsd": _NAMESPACES["xmlns:xsd"],
            "xmlns:tns": PAYCON_NS,
            "targetNamespace": PAYCON_NS,
            "elementFormDefault": "qualified",
        },
    )
    writer = _SchemaWriter(schema)
    for operation in OPERATIONS:
        json_schema = operation.request.model_json_schema(mode="validation")
        element = _sub(schema, "xsd:element", name=operation.name)
        writer.complex_type(
            _sub(element, "xsd:complexType"), json_schema, json_schema.get("$defs", {})
        )
        _wrapper_element(
            writer, schema, f"{operation.name}Response", TRANSACTION_ELEMENT, TransactionOut
        )
    problem_schema = ProblemOut.model_json_schema(mode="serialization")
    problem_type = writer.named_type(
        "ProblemOut", {"ProblemOut": problem_schema, **problem_schema.get("$defs", {})}
    )
    _sub(schema, "xsd:element", name=PROBLEM_ELEMENT, type=problem_type)


def _messages(definitions: ET.Element) -> None:
    for operation in OPERATIONS:
        for message, element in (
            (f"{operation.name}Request", operation.name),
            (f"{operation.name}Response", f"{operation.name}Response"),
        ):
            node = _sub(definitions, "wsdl:message", name=message)
            _sub(node, "wsdl:part", name="parameters", element=f"tns:{element}")
    fault = _sub(definitions, "wsdl:message", name="Problem")
    _sub(fault, "wsdl:part", name="problem", element=f"tns:{PROBLEM_ELEMENT}")


def _port_types_and_bindings(definitions: ET.Element) -> None:
    for operation in OPERATIONS:
        port_type = _sub(definitions, "wsdl:portType", name=f"{operation.port}PortType")
        abstract = _sub(port_type, "wsdl:operation", name=operation.name)
        _sub(abstract, "wsdl:input", message=f"tns:{operation.name}Request")
        _sub(abstract, "wsdl:output", message=f"tns:{operation.name}Response")
        _sub(abstract, "wsdl:fault", name="Problem", message="tns:Problem")
    for operation in OPERATIONS:
        binding = _sub(
            definitions,
            "wsdl:binding",
            name=f"{operation.port}Binding",
            type=f"tns:{operation.port}PortType",
        )
        _sub(binding, "soap:binding", style="document", transport=_HTTP_TRANSPORT)
        concrete = _sub(binding, "wsdl:operation", name=operation.name)
        _sub(concrete, "soap:operation", soapAction=SOAP_ACTION.format(operation=operation.name),
             style="document")  # fmt: skip
        _sub(_sub(concrete, "wsdl:input"), "soap:body", use="literal")
        _sub(_sub(concrete, "wsdl:output"), "soap:body", use="literal")
        _sub(_sub(concrete, "wsdl:fault", name="Problem"), "soap:fault", name="Problem",
             use="literal")  # fmt: skip


_DOCUMENTATION = (
    "paycon's deposits and withdrawals over SOAP 1.1 (document/literal). Send the API key "
    "as the HTTP header 'Authorization: Bearer <key>' and a unique 'Idempotency-Key' HTTP "
    "header (1-255 visible characters) with every call; a repeat with the same key and the "
    "same fields answers the first answer again. Faults are HTTP 500: soap:Client for a "
    "request to correct (the problem's own HTTP status, type, title, detail and per-field "
    "errors are in the Fault's detail), soap:Server for a failure of the service."
)


@lru_cache(maxsize=16)
def build_wsdl(base_url: str) -> bytes:
    """The WSDL document with both ports at ``base_url`` (scheme, host and port, no slash)."""
    definitions = ET.Element(
        "wsdl:definitions", {"name": "paycon", "targetNamespace": PAYCON_NS, **_NAMESPACES}
    )
    _sub(definitions, "wsdl:documentation").text = _DOCUMENTATION
    _types(definitions)
    _messages(definitions)
    _port_types_and_bindings(definitions)
    service = _sub(definitions, "wsdl:service", name=SERVICE_NAME)
    for operation in OPERATIONS:
        port = _sub(service, "wsdl:port", name=f"{operation.port}Port",
                    binding=f"tns:{operation.port}Binding")  # fmt: skip
        _sub(port, "soap:address", location=base_url + operation.path)
    ET.indent(definitions)
    rendered: bytes = ET.tostring(definitions, encoding="utf-8", xml_declaration=True)
    return rendered


async def wsdl_document(request: web.Request) -> web.Response:
    """``GET /v1/soap?wsdl``: the WSDL, its ports at the address the client asked at.

    Raises HTTPNotFound without the ``wsdl`` query parameter.
    """
    if not any(name.lower() == "wsdl" for name in request.query):
        raise web.HTTPNotFound(text="the SOAP service's description is at /v1/soap?wsdl")
    return web.Response(
        body=build_wsdl(f"{request.scheme}://{request.host}"),
        content_type="text/xml",
        charset="utf-8",
    )
