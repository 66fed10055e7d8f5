"""What /openapi.json says about the answers and the SOAP side of the payment routes."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.paycon_fixtures import OPERATOR_KEY, RunningPaycon


async def document(paycon: RunningPaycon) -> dict[str, Any]:
    status, body = await paycon.get("/openapi.json", token=None)
    assert status == 200
    assert isinstance(body, dict)
    return body


async def test_payment_routes_take_json_and_point_to_the_wsdl(paycon: RunningPaycon) -> None:
    doc = await document(paycon)
    assert doc["externalDocs"]["url"] == "/v1/soap?wsdl"
    for path in ("/v1/deposits", "/v1/withdrawals"):
        operation = doc["paths"][path]["post"]
        assert list(operation["requestBody"]["content"]) == ["application/json"]
        assert operation["externalDocs"]["url"] == "/v1/soap?wsdl"
        assert "SOAP" in operation["description"]


async def test_payment_answers_carry_their_headers(paycon: RunningPaycon) -> None:
    responses = (await document(paycon))["paths"]["/v1/deposits"]["post"]["responses"]
    assert "Idempotent-Replayed" in responses["202"]["headers"]
    assert "Idempotent-Replayed" in responses["422"]["headers"]
    assert responses["503"]["headers"]["Retry-After"]["required"] is True
    assert "WWW-Authenticate" in responses["401"]["headers"]
    problem = {"$ref": "#/components/schemas/ProblemOut"}
    for status in ("400", "401", "409", "413", "415", "422", "503"):
        assert responses[status]["content"] == {"application/problem+json": {"schema": problem}}


async def test_ids_in_paths_are_described_as_the_handlers_check_them(
    paycon: RunningPaycon,
) -> None:
    paths = (await document(paycon))["paths"]

    def schema(path: str, method: str = "get") -> dict[str, Any]:
        parameters = paths[path][method]["parameters"]
        found: dict[str, Any] = next(p["schema"] for p in parameters if p["in"] == "path")
        return found

    assert schema("/v1/transactions/{id}")["pattern"] == r"^tx_[0-9A-HJKMNP-TV-Z]{26}$"
    assert schema("/v1/outbox/tasks/{id}") == {
        "type": "integer",
        "minimum": 1,
        "maximum": 2**63 - 1,
    }
    assert schema("/v1/customers/{customer_id}/balances")["pattern"] == "^[A-Za-z0-9_.:-]{1,64}$"
    assert "404" in paths["/v1/transactions/{id}"]["get"]["responses"]
    assert "403" in paths["/v1/outbox/tasks/{id}"]["get"]["responses"]


async def test_a_body_of_optional_fields_may_be_left_out(paycon: RunningPaycon) -> None:
    paths = (await document(paycon))["paths"]
    assert paths["/v1/outbox/replay"]["post"]["requestBody"]["required"] is False
    assert paths["/v1/outbox/tasks/{id}/discard"]["post"]["requestBody"]["required"] is True
    count = paths["/v1/outbox/count"]["get"]["parameters"]
    assert next(p for p in count if p["name"] == "state")["required"] is True


def document_takes(doc: dict[str, Any], model: str, body: dict[str, Any]) -> bool:
    """Whether the document's schema for ``model`` calls ``body`` valid."""
    schema = {"$ref": f"#/components/schemas/{model}", "components": doc["components"]}
    return bool(Draft202012Validator(schema).is_valid(body))


DEPOSIT = {"customer_id": "cus_1", "country": "DE"}
DEPOSITS: list[tuple[dict[str, str], int]] = [
    ({"amount": "0.01", "currency": "EUR"}, 202),
    ({"amount": "0.001", "currency": "KWD"}, 202),
    ({"amount": "7", "currency": "JPY"}, 202),
    ({"amount": "1.5", "currency": "JPY"}, 400),
    ({"amount": "1.2345", "currency": "KWD"}, 400),
    ({"amount": "0.00", "currency": "EUR"}, 400),
]


@pytest.mark.parametrize(("fields", "status"), DEPOSITS)
async def test_the_document_and_the_server_agree_on_amounts(
    paycon: RunningPaycon, fields: dict[str, str], status: int
) -> None:
    body = {**DEPOSIT, **fields}
    assert document_takes(await document(paycon), "DepositIn", body) is (status != 400)
    answer, _, _ = await paycon.post_json("/v1/deposits", body)
    assert answer == status


REPLAY_FILTERS: list[tuple[dict[str, str], int]] = [
    ({"gateway": "gateway_a", "kind": "submit"}, 200),
    ({"gateway": "gateway_a"}, 200),
    ({"kind": "notify"}, 200),
    # A gateway filter selects submit tasks: the fuzzer's finding, once undocumented.
    ({"gateway": "gateway_a", "kind": "notify"}, 400),
]


@pytest.mark.parametrize(("body", "status"), REPLAY_FILTERS)
async def test_the_document_and_the_server_agree_on_replay_filters(
    paycon: RunningPaycon, body: dict[str, str], status: int
) -> None:
    assert document_takes(await document(paycon), "ReplayFilterIn", body) is (status != 400)
    answer, _, _ = await paycon.post_json("/v1/outbox/replay", body, key=None, token=OPERATOR_KEY)
    assert answer == status
