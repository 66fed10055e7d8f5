"""A merchant's free text holds no control characters: refused naming the field, nothing stored."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.api.test_soap import (
    ENVELOPE,
    fault_code,
    post_soap,
    problem_of,
    soap_fault_code,
)
from tests.paycon_fixtures import RunningPaycon

GOOD = {"customer_id": "cus_1", "amount": "10.00", "currency": "EUR", "country": "DE"}
DESTINATION = {"iban": "DE89 3704 0044 0532 0130 00", "holder": "Jane Doe"}
# A newline (forges log lines), ESC (drives terminals), C1 CSI, DEL, a line
# separator, and a right-to-left override and isolate (show text reversed).
CONTROLS = {"LF": "\n", "ESC": "\x1b[2J", "CSI": "\x9b", "DEL": "\x7f", "LS": "\u2028",
            "RLO": "\u202e", "RLI": "\u2067"}  # fmt: skip


def _cases() -> list[tuple[str, str, dict[str, Any], str]]:
    cases: list[tuple[str, str, dict[str, Any], str]] = []
    for name, char in CONTROLS.items():
        cases += [
            (name, "/v1/deposits", {**GOOD, "reference": f"order{char}42"}, "reference"),
            (name, "/v1/deposits", {**GOOD, "gateway": f"gateway_a{char}"}, "gateway"),
            (
                name,
                "/v1/deposits",
                {**GOOD, "notify_url": f"http://127.0.0.1:9/hook{char}"},
                "notify_url",
            ),
            (
                name,
                "/v1/withdrawals",
                {**GOOD, "destination": {**DESTINATION, "holder": f"Jane{char}Doe"}},
                "destination.holder",
            ),
        ]
    return cases


@pytest.mark.parametrize(("char", "path", "body", "field"), _cases())
async def test_a_control_character_is_refused_naming_the_field(
    paycon: RunningPaycon, char: str, path: str, body: dict[str, Any], field: str
) -> None:
    before = paycon.counts()
    status, headers, problem = await paycon.post_json(path, body, key=f"ctl-{char}-{field}")
    assert status == 400, problem
    assert headers["Content-Type"].startswith("application/problem+json")
    assert [error["field"] for error in problem["errors"]] == [field]
    assert "control characters" in problem["errors"][0]["message"]
    assert paycon.counts() == before


async def test_text_in_any_script_is_accepted(paycon: RunningPaycon) -> None:
    body = {**GOOD, "reference": "Bestellung Zoë/李 #42 מזל"}
    status, _, transaction = await paycon.post_json("/v1/deposits", body)
    assert status == 202
    assert transaction["reference"] == body["reference"]


async def test_a_soap_reference_with_an_override_is_a_client_fault(paycon: RunningPaycon) -> None:
    before = paycon.counts()
    envelope = ENVELOPE.format(amount="1.00").replace(
        "<country>DE</country>", "<country>DE</country><reference>abc\u202edef</reference>"
    )
    status, _, answer = await post_soap(paycon, envelope, key="soap-bidi")
    # A SOAP Fault is HTTP 500 (SOAP 1.1), soap:Client; the problem inside says 400.
    assert (status, soap_fault_code(answer)) == (500, "soap:Client")
    assert problem_of(answer)["status"] == "400"
    assert fault_code(answer) == "invalid_request"
    assert "reference" in json.dumps(
        [element.text for element in answer.iter() if element.text], ensure_ascii=False
    )
    assert paycon.counts() == before
