"""Gateway A's own wire format: JSON in, JSON out, JSON errors."""

from __future__ import annotations

import json

import pytest

from tests.integration.mock_gateways.conftest import GatewayUnderTest
from tests.integration.mock_gateways.helpers import GatewayAClient

VALID = {
    "transactionId": "tx-a",
    "amount": "25.50",
    "currency": "EUR",
    "type": "deposit",
    "callbackUrl": "http://127.0.0.1:9/callbacks",
}


def client_of(gateway: GatewayUnderTest) -> GatewayAClient:
    assert isinstance(gateway.client, GatewayAClient)
    return gateway.client


async def test_answers_are_json_with_exactly_status_id_amount_and_currency(
    gateway_a: GatewayUnderTest,
) -> None:
    submitted = await gateway_a.client.submit("tx-a", amount="25.50", currency="JPY")
    status = await gateway_a.client.status("tx-a")

    for answer in (submitted, status):
        assert answer.content_type == "application/json"
        assert set(answer.fields) == {"status", "transactionId", "amount", "currency"}
        assert answer.fields["transactionId"] == "tx-a"
        # Amounts are strings, exactly as written, never JSON numbers.
        assert (answer.fields["amount"], answer.fields["currency"]) == ("25.50", "JPY")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'{"transactionId": "tx-a", ', "malformed_json"),
        (b"", "malformed_json"),
        (b'["tx-a", "25.50"]', "malformed_json"),
        (json.dumps(VALID).encode("utf-16"), "malformed_json"),
        (json.dumps({**VALID, "amount": 25.5}).encode(), "invalid_amount"),
        (json.dumps({**VALID, "amount": None}).encode(), "missing_field"),
        (json.dumps({**VALID, "transactionId": 42}).encode(), "invalid_transaction_id"),
        (b'{"transactionId": "tx-a", "amount": NaN}', "malformed_json"),
    ],
    ids=[
        "truncated",
        "empty",
        "array",
        "not-utf8",
        "amount-as-number",
        "amount-null",
        "id-as-number",
        "nan",
    ],
)
async def test_bad_json_is_400_with_a_json_error(
    gateway_a: GatewayUnderTest, body: bytes, error: str
) -> None:
    answer = await client_of(gateway_a).post_raw(body)

    assert (answer.http_status, answer.content_type) == (400, "application/json")
    assert answer.error == error
    assert await gateway_a.admin.payments() == {}


@pytest.mark.parametrize("missing", sorted(VALID))
async def test_each_missing_field_is_named_in_the_400(
    gateway_a: GatewayUnderTest, missing: str
) -> None:
    body = {name: value for name, value in VALID.items() if name != missing}

    answer = await client_of(gateway_a).post_raw(json.dumps(body).encode())

    assert (answer.http_status, answer.error) == (400, "missing_field")
    assert missing in answer.fields["message"]


async def test_an_unknown_route_is_a_json_404(gateway_a: GatewayUnderTest) -> None:
    async with client_of(gateway_a).http.get(f"{gateway_a.base_url}/refunds") as response:
        body = await response.json()

    assert response.status == 404
    assert body["error"] == "not_found"
