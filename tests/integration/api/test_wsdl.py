"""The WSDL's XML Schema says what the server accepts and answers: checked against the models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from lxml import etree  # type: ignore[import-untyped]
from pydantic import BaseModel, ValidationError

from paycon.api.schemas import DepositIn, WithdrawalIn
from paycon.api.soap import PAYCON_NS, render_fault, render_response
from paycon.api.wsdl import OPERATIONS, build_wsdl, xsd_pattern
from tests.paycon_fixtures import RunningPaycon

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
ENVELOPE_NS = "http://schemas.xmlsoap.org/soap/envelope/"
IBAN = "DE89370400440532013000"

DEPOSIT: dict[str, Any] = {
    "customer_id": "cus_1",
    "amount": "10.00",
    "currency": "EUR",
    "country": "DE",
    "gateway": "gateway_a",
    "reference": "order-1",
    "notify_url": "https://merchant.example/hook",
}
WITHDRAWAL: dict[str, Any] = {**DEPOSIT, "destination": {"iban": IBAN, "holder": "Jane Doe"}}
BASES: dict[type[BaseModel], dict[str, Any]] = {DepositIn: DEPOSIT, WithdrawalIn: WITHDRAWAL}

# Values on both sides of each field's rules (length, pattern, enumeration).
SAMPLES: dict[str, list[str]] = {
    "customer_id": ["c", "cus_42.a:b-c", "x" * 64, "x" * 65, "", "cus 42", "cüs", "cus/1"],
    "amount": ["0", "1", "100.50", "1.123456", "1.1234567", "01", "1.", ".5", "-1", "1e3",
               "1" * 18, "1" * 19, "ten", ""],
    "currency": ["EUR", "JPY", "KWD", "eur", "EU", "EURO", "XYZ", ""],
    "country": ["DE", "XX", "de", "DEU", "D", ""],
    "gateway": ["gateway_a", "g", "x" * 255, "x" * 256, ""],
    "reference": ["r", "x" * 255, "x" * 256, ""],
    "notify_url": ["https://m.example/h", "http://m.example/h", "ftp://m.example", "m.example",
                   "https://" + "x" * 2040, "https://" + "x" * 2041, ""],
    "iban": [IBAN, "x" * 15, "x" * 14, "x" * 42, "x" * 43],
    "holder": ["J", "x" * 140, "x" * 141, ""],
}  # fmt: skip


def definitions() -> Any:
    return etree.fromstring(build_wsdl("http://127.0.0.1:8080"))


def schema() -> Any:
    """The WSDL's inline XML Schema, compiled."""
    node = definitions().find(f"{{{WSDL_NS}}}types/{{{XSD_NS}}}schema")
    return etree.XMLSchema(node)


def request_xml(operation: str, fields: dict[str, Any]) -> Any:
    """The request element as a SOAP toolkit writes it: the model's fields in its order."""
    element = etree.Element(f"{{{PAYCON_NS}}}{operation}")

    def add(parent: Any, values: dict[str, Any]) -> None:
        for name, value in values.items():
            child = etree.SubElement(parent, f"{{{PAYCON_NS}}}{name}")
            if isinstance(value, dict):
                add(child, value)
            else:
                child.text = value

    add(element, fields)
    return element


def model_accepts(model: type[BaseModel], fields: dict[str, Any]) -> bool:
    """The model validates ``fields``, and each value is one of its field's documented
    choices (the currency list, which the model documents and the use case enforces)."""
    try:
        model.model_validate(fields)
    except ValidationError:
        return False
    properties = model.model_json_schema()["properties"]
    return all(
        fields[name] in properties[name]["enum"]
        for name in fields
        if "enum" in properties.get(name, {})
    )


def cases() -> list[tuple[str, type[BaseModel], str, str]]:
    found = []
    for operation in OPERATIONS:
        for name in operation.request.model_fields:
            for field, values in SAMPLES.items():
                if field == name or (name == "destination" and field in ("iban", "holder")):
                    found += [(operation.name, operation.request, field, v) for v in values]
    return found


@pytest.mark.parametrize(
    ("operation", "model", "field", "value"),
    cases(),
    ids=lambda v: v[:12] + f"..({len(v)})" if isinstance(v, str) and len(v) > 12 else None,
)
def test_the_schema_accepts_a_value_exactly_when_the_model_does(
    operation: str, model: type[BaseModel], field: str, value: str
) -> None:
    fields = {**BASES[model]}
    if field in ("iban", "holder"):
        fields["destination"] = {**fields["destination"], field: value}
    else:
        fields[field] = value
    assert schema().validate(request_xml(operation, fields)) == model_accepts(model, fields)


def test_every_field_of_every_request_model_has_samples() -> None:
    """A field added to a model without samples here fails, so none goes unchecked."""
    for operation in OPERATIONS:
        for name in operation.request.model_fields:
            assert name in SAMPLES or name == "destination", name


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda o: o.name)
def test_required_and_optional_fields_agree(operation: Any) -> None:
    model = operation.request
    base = BASES[model]
    validator = schema()
    assert validator.validate(request_xml(operation.name, base))
    for name in model.model_fields:
        without = {k: v for k, v in base.items() if k != name}
        accepted = validator.validate(request_xml(operation.name, without))
        assert accepted == model_accepts(model, without), name
        assert accepted == (not model.model_fields[name].is_required()), name


def test_unknown_elements_are_refused_by_both() -> None:
    fields = {**DEPOSIT, "colour": "red"}
    assert not schema().validate(request_xml("CreateDeposit", fields))
    assert not model_accepts(DepositIn, fields)


def body_of(envelope: bytes) -> Any:
    return etree.fromstring(envelope).find(f"{{{ENVELOPE_NS}}}Body")[0]


TRANSACTION = {
    "id": "tx_1",
    "kind": "withdrawal",
    "status": "pending",
    "customer_id": "cus_1",
    "amount": "20.00",
    "currency": "EUR",
    "country": "DE",
    "gateway": "gateway_a",
    "reference": None,
    "notify_url": None,
    "failure_reason": None,
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z",
    # Rendered first in the dict, yet it must come last, where the schema's sequence has it.
    "destination": {"holder": "J*** D***", "iban": "DE89 **** **** 3000"},
    "a_key_the_model_does_not_have": "left out",
}


def test_the_answers_the_server_renders_are_valid_by_the_schema() -> None:
    validator = schema()
    answer = body_of(render_response("CreateWithdrawal", dict(reversed(TRANSACTION.items()))))
    validator.assertValid(answer)
    problem = {
        "type": "urn:paycon:problem:invalid_request",
        "code": "invalid_request",
        "title": "Invalid request",
        "status": 400,
        "detail": "2 fields are invalid",
        "errors": [{"field": "amount", "message": "m1"}, {"field": "country", "message": "m2"}],
    }
    fault = body_of(render_fault(problem))
    assert fault.findtext("faultcode") == "soap:Client"
    validator.assertValid(fault.find("detail")[0])
    server_fault = body_of(render_fault({**problem, "status": 503, "errors": None}))
    assert server_fault.findtext("faultcode") == "soap:Server"
    validator.assertValid(server_fault.find("detail")[0])


@pytest.mark.parametrize(
    ("json_pattern", "xsd"),
    [("^[A-Z]{2}$", "[A-Z]{2}"), ("^https?://", "https?://.*"), ("ab", ".*ab.*")],
)
def test_json_patterns_become_whole_value_xsd_patterns(json_pattern: str, xsd: str) -> None:
    assert xsd_pattern(json_pattern) == xsd


async def test_the_wsdl_is_served_with_ports_at_the_address_asked(paycon: RunningPaycon) -> None:
    for query in ("wsdl", "WSDL"):
        async with paycon.http.get(f"{paycon.url}/v1/soap?{query}") as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
            served = etree.fromstring(await response.read())
        ports = {
            port.get("name"): port[0].get("location") for port in served.iter(f"{{{WSDL_NS}}}port")
        }
        assert ports == {
            "DepositPort": f"{paycon.url}/v1/deposits",
            "WithdrawalPort": f"{paycon.url}/v1/withdrawals",
        }
    async with paycon.http.get(f"{paycon.url}/v1/soap") as response:
        assert response.status == 404
        assert "/v1/soap?wsdl" in (await response.json())["detail"]


class _Later(BaseModel):
    """Field kinds the answer models may gain: they translate rather than break the WSDL."""

    held_for_review: bool
    reviewed_at: datetime | None = None


def test_booleans_and_times_translate() -> None:
    import xml.etree.ElementTree as ET

    from paycon.api.wsdl import _SchemaWriter

    root = ET.Element("root")
    node = ET.SubElement(root, "xsd:complexType")
    _SchemaWriter(root).complex_type(node, _Later.model_json_schema(mode="serialization"), {})
    # Tags are written with their prefixes ("xsd:element"), so compare them as plain names.
    bases = {
        element.get("name"): next(
            child.get("base") for child in element.iter() if child.tag == "xsd:restriction"
        )
        for element in node.iter()
        if element.tag == "xsd:element"
    }
    assert bases == {"held_for_review": "xsd:boolean", "reviewed_at": "xsd:string"}
