"""Every bad input gets a clear 4xx problem and changes nothing."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.paycon_fixtures import CLIENT_KEY, RunningPaycon

GOOD = {"customer_id": "cus_1", "amount": "10.00", "currency": "EUR", "country": "DE"}


async def send(
    paycon: RunningPaycon,
    data: bytes,
    *,
    path: str = "/v1/deposits",
    content_type: str = "application/json",
    key: str | None = "bad-input",
    token: str | None = CLIENT_KEY,
) -> tuple[int, str, Any]:
    headers = {"Content-Type": content_type}
    if key is not None:
        headers["Idempotency-Key"] = key
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with paycon.http.post(paycon.url + path, data=data, headers=headers) as response:
        return response.status, response.headers["Content-Type"], await response.text()


def with_(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


BAD_BODIES: list[tuple[str, Any, str]] = [
    ("amount zero", with_(amount="0"), "amount"),
    ("amount negative", with_(amount="-1"), "amount"),
    ("amount exponent", with_(amount="1e3"), "amount"),
    ("amount NaN", with_(amount="NaN"), "amount"),
    ("amount as a number", with_(amount=10.5), "amount"),
    ("three places for EUR", with_(amount="1.234"), "amount"),
    ("decimals for JPY", with_(amount="1.5", currency="JPY"), "amount"),
    ("unknown currency", with_(currency="XXX"), "currency"),
    ("lower-case currency", with_(currency="eur"), "currency"),
    ("unknown country", with_(country="XX"), "country"),
    ("customer id with a space", with_(customer_id="cus 1"), "customer_id"),
    ("customer id with a quote", with_(customer_id='cus"1'), "customer_id"),
    ("customer id of 65 chars", with_(customer_id="c" * 65), "customer_id"),
    ("unknown field", with_(colour="red"), "colour"),
    ("wrong type", with_(customer_id=42), "customer_id"),
    ("missing field", {k: v for k, v in GOOD.items() if k != "currency"}, "currency"),
    ("notify url not http", with_(notify_url="ftp://x"), "notify_url"),
    ("notify url without a host", with_(notify_url="http:///hook"), "notify_url"),
    # urlsplit raises on an unbalanced bracket: this one was answered 500.
    ("notify url with an open bracket", with_(notify_url="http://[abc"), "notify_url"),
    ("notify url with a space", with_(notify_url="http://a b/"), "notify_url"),
]


@pytest.mark.parametrize(("case", "body", "field"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES])
async def test_invalid_fields_are_400_naming_the_field(
    paycon: RunningPaycon, case: str, body: Any, field: str
) -> None:
    before = paycon.counts()
    status, _, answer = await paycon.post_json(
        "/v1/deposits", body, key="bad-" + case.replace(" ", "-")
    )
    assert status == 400, answer
    assert answer["code"] == "invalid_request"
    assert field in [error["field"] for error in answer["errors"]]
    assert paycon.counts() == before


async def test_an_amount_above_the_cap_is_422_naming_the_limit(paycon: RunningPaycon) -> None:
    """Well-formed, so not a 400 (which the document's amount pattern would contradict)."""
    before = paycon.counts()
    status, headers, answer = await paycon.post_json(
        "/v1/deposits", with_(amount="1000000.01"), key="above-the-cap"
    )
    assert status == 422, answer
    assert headers["Content-Type"].startswith("application/problem+json")
    assert answer["code"] == "amount_over_limit"
    assert answer["errors"] == [
        {"field": "amount", "message": "amount exceeds the maximum of 1000000 EUR"}
    ]
    assert paycon.counts() == before
    status, _, _ = await paycon.post_json(
        "/v1/deposits", with_(amount="1000000.00"), key="at-the-cap"
    )
    assert status == 202


async def test_a_bad_field_beside_an_amount_above_the_cap_is_400(paycon: RunningPaycon) -> None:
    body = {
        **with_(amount="1000000.01"),
        "destination": {"iban": "DE89370400440532013001", "holder": "J"},
    }
    status, _, answer = await paycon.post_json("/v1/withdrawals", body, key="cap-and-iban")
    # Every fault is listed, the amount's too; a 400, since not only a limit is at fault.
    assert status == 400, answer
    assert [error["field"] for error in answer["errors"]] == ["destination.iban", "amount"]


EVERY_BAD_FIELD: list[tuple[str, str, Any, list[str]]] = [
    # The API guide's own example (docs/api.md): one field the schema refuses, one the
    # currency's scale refuses.
    ("deposits", "API guide example", with_(customer_id="cus 42", amount="1.234"),
     ["customer_id", "amount"]),
    ("deposits", "schema and rules", with_(customer_id=42, country="XX", currency="JPY",
                                            amount="1.5", colour="red"),
     ["customer_id", "colour", "country", "amount"]),
    ("withdrawals", "withdrawal", with_(customer_id="", amount="0.001",
                                        destination={"iban": "DE00 0000", "holder": "Jane Doe"}),
     ["customer_id", "amount", "destination.iban"]),
    ("withdrawals", "bad holder, bad IBAN", with_(notify_url="https://",
                                                  destination={"iban": "DE00000000000000000000",
                                                               "holder": ""}),
     ["destination.holder", "destination.iban", "notify_url"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "case", "body", "fields"), EVERY_BAD_FIELD, ids=[c[1] for c in EVERY_BAD_FIELD]
)
async def test_every_invalid_field_is_listed_at_once(
    paycon: RunningPaycon, path: str, case: str, body: Any, fields: list[str]
) -> None:
    before = paycon.counts()
    status, _, answer = await paycon.post_json(
        f"/v1/{path}", body, key="all-bad-" + case.replace(" ", "-")
    )
    assert status == 400, answer
    assert sorted(error["field"] for error in answer["errors"]) == sorted(fields)
    assert paycon.counts() == before


@pytest.mark.parametrize(
    ("case", "data", "content_type", "expected"),
    [
        ("malformed JSON", b'{"customer_id": "c",', "application/json", 400),
        ("not an object", b'["a"]', "application/json", 400),
        ("NaN literal", b'{"amount": NaN}', "application/json", 400),
        ("duplicate keys", b'{"amount": "1", "amount": "2"}', "application/json", 400),
        ("non UTF-8", '{"customer_id": "caf\xe9"}'.encode("latin-1"), "application/json", 400),
        ("deep nesting", b"[" * 50_000 + b"]" * 50_000, "application/json", 413),
        ("over 64 KiB", b'{"reference": "' + b"x" * 70_000 + b'"}', "application/json", 413),
        ("form data", b"customer_id=c", "application/x-www-form-urlencoded", 415),
        ("deeply nested but small", b"[" * 20_000 + b"]" * 20_000, "application/json", 400),
    ],
)
async def test_unparseable_bodies_are_4xx_problems(
    paycon: RunningPaycon, case: str, data: bytes, content_type: str, expected: int
) -> None:
    before = paycon.counts()
    status, answer_type, text = await send(paycon, data, content_type=content_type)
    assert status == expected, text
    assert answer_type.startswith("application/problem+json")
    assert paycon.counts() == before


async def test_missing_idempotency_key_is_400(paycon: RunningPaycon) -> None:
    status, _, answer = await paycon.post_json("/v1/deposits", GOOD, key=None)
    assert status == 400
    assert answer["errors"][0]["field"] == "Idempotency-Key"
    assert paycon.counts()["transactions"] == 0


@pytest.mark.parametrize("key", ["", "with space", "k" * 256, "naïve"])
async def test_malformed_idempotency_key_is_400(paycon: RunningPaycon, key: str) -> None:
    headers = {"Authorization": f"Bearer {CLIENT_KEY}", "Idempotency-Key": key}
    async with paycon.http.post(paycon.url + "/v1/deposits", json=GOOD, headers=headers) as r:
        assert r.status == 400


async def test_invalid_iban_is_400(paycon: RunningPaycon) -> None:
    body = {**GOOD, "destination": {"iban": "DE89370400440532013001", "holder": "J"}}
    status, _, answer = await paycon.post_json("/v1/withdrawals", body, key="bad-iban")
    assert status == 400
    assert answer["errors"] == [{"field": "destination.iban", "message": "not a valid IBAN"}]
    assert "0532013001" not in str(answer)


async def test_withdrawal_needs_a_destination(paycon: RunningPaycon) -> None:
    status, _, answer = await paycon.post_json("/v1/withdrawals", GOOD, key="no-dest")
    assert status == 400
    assert answer["errors"][0]["field"] == "destination"


@pytest.mark.parametrize(
    "query",
    [
        "status=lost",
        "kind=refund",
        "limit=0",
        "limit=201",
        "limit=ten",
        "limit=99999999999999999999999",
        "cursor=nonsense",
        "colour=red",
        "status=pending&status=failed",
        "customer_id=a%20b",
    ],
)
async def test_bad_list_queries_are_400(paycon: RunningPaycon, query: str) -> None:
    status, answer = await paycon.get(f"/v1/transactions?{query}")
    assert status == 400
    assert answer["code"] == "invalid_request"


@pytest.mark.parametrize(
    "path", ["/v1/transactions/nope", "/v1/customers/a%20b/balances", "/v1/customers/%22/balances"]
)
async def test_bad_path_ids_are_400(paycon: RunningPaycon, path: str) -> None:
    status, _ = await paycon.get(path)
    assert status == 400


async def test_unknown_route_and_method_are_problems(paycon: RunningPaycon) -> None:
    async with paycon.http.get(paycon.url + "/v2/nothing") as response:
        assert response.status == 404
        assert response.content_type == "application/problem+json"
    async with paycon.http.delete(paycon.url + "/v1/deposits") as response:
        assert response.status == 405
        assert response.content_type == "application/problem+json"
        assert "POST" in response.headers["Allow"]


async def test_oversized_body_is_refused_without_being_read(paycon: RunningPaycon) -> None:
    async def chunks() -> Any:
        for _ in range(100):
            yield b"x" * 1024

    headers = {
        "Authorization": f"Bearer {CLIENT_KEY}",
        "Idempotency-Key": "big",
        "Content-Type": "application/json",
    }
    try:
        async with paycon.http.post(
            paycon.url + "/v1/deposits", data=chunks(), headers=headers
        ) as response:
            assert response.status == 413
    except aiohttp.ClientError:
        pass  # the server may close the connection before reading it all: also a refusal
    assert paycon.counts()["transactions"] == 0


async def test_cursor_must_be_exactly_a_transaction_id(paycon: RunningPaycon) -> None:
    status, _ = await paycon.get("/v1/transactions?cursor=x-tx_01M8DNAQ4ZCZK2H8784FBQXF10")
    assert status == 400


@pytest.mark.parametrize("gateway", ["gateway_b", "no_such_gateway"])
async def test_a_refused_xml_callback_is_a_problem_not_a_soap_fault(
    paycon: RunningPaycon, gateway: str
) -> None:
    """Gateway B calls back in plain XML: only the SOAP payment routes answer SOAP Faults."""
    status, content_type, text = await send(
        paycon,
        b"<Callback><EventId>e1</EventId></Callback>",
        path=f"/v1/callbacks/{gateway}",
        content_type="text/xml",
        key=None,
        token=None,
    )
    assert status in (401, 404)
    assert content_type.startswith("application/problem+json")
    assert "Fault" not in text
