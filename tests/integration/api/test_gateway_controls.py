"""Operators take gateways out of routing and back, and switch embedded mocks' faults."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from paycon.runtime.service import Service
from paycon.usecases.gateway_control import SWITCH_REFRESH_S
from tests.integration.facade.support import complete, deposit
from tests.paycon_fixtures import CLIENT_KEY, OPERATOR_KEY, RunningPaycon, make_settings


async def operator_call(
    paycon: RunningPaycon,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str | None = OPERATOR_KEY,
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with paycon.http.request(
        method, paycon.url + path, json=body, headers=headers
    ) as response:
        return response.status, await response.json(content_type=None)


def table_rows(paycon: RunningPaycon, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(paycon.db_path) as conn:
        return list(conn.execute(query))


async def test_disabling_a_gateway_routes_new_payments_elsewhere(paycon: RunningPaycon) -> None:
    status, gateway = await operator_call(
        paycon, "POST", "/v1/gateways/gateway_a/disable", {"reason": "A is flaky"}
    )
    assert status == 200
    assert (gateway["name"], gateway["enabled"]) == ("gateway_a", False)
    change = gateway["routing_changes"][0]
    assert (change["action"], change["reason"]) == ("disable", "A is flaky")
    assert change["actor"].startswith("operator:key_")

    assert (await deposit(paycon, "after-disable"))["gateway"] == "gateway_b"
    status, _, refused = await paycon.post_json(
        "/v1/deposits",
        {"customer_id": "c", "amount": "1.00", "currency": "EUR", "country": "DE",
         "gateway": "gateway_a"},
        key="pinned",
    )  # fmt: skip
    assert status == 422
    assert refused["code"] == "gateway_not_allowed"
    assert "out of routing" in refused["detail"]

    status, gateway = await operator_call(
        paycon, "POST", "/v1/gateways/gateway_a/enable", {"reason": "A is back"}
    )
    assert (status, gateway["enabled"]) == (200, True)
    assert [c["action"] for c in gateway["routing_changes"]] == ["enable", "disable"]
    assert (await deposit(paycon, "after-enable"))["gateway"] == "gateway_a"
    assert table_rows(paycon, "SELECT actor, action, subject, reason FROM operator_audit") == [
        (change["actor"], "disable", "gateway:gateway_a", "A is flaky"),
        (change["actor"], "enable", "gateway:gateway_a", "A is back"),
    ]


async def test_with_every_gateway_out_of_routing_a_payment_is_503_and_may_be_retried(
    paycon: RunningPaycon,
) -> None:
    for name in ("gateway_a", "gateway_b"):
        status, _ = await operator_call(
            paycon, "POST", f"/v1/gateways/{name}/disable", {"reason": "provider incident"}
        )
        assert status == 200
    body = {"customer_id": "c", "amount": "1.00", "currency": "EUR", "country": "DE"}
    status, headers, refused = await paycon.post_json("/v1/deposits", body, key="paused")
    assert status == 503
    assert headers["Retry-After"] == "60"
    assert headers["Content-Type"].startswith("application/problem+json")
    assert refused["code"] == "gateways_out_of_routing"
    assert "(gateway_a, gateway_b) is out of routing; retry later" in refused["detail"]
    assert table_rows(paycon, "SELECT count(*) FROM transactions") == [(0,)]

    await operator_call(paycon, "POST", "/v1/gateways/gateway_a/enable", {"reason": "back"})
    status, _, accepted = await paycon.post_json("/v1/deposits", body, key="paused")
    assert status == 202  # the same key, retried later: nothing was stored under it
    assert accepted["gateway"] == "gateway_a"


async def test_payments_already_at_a_disabled_gateway_still_finish_there(
    paycon: RunningPaycon,
) -> None:
    tx = await deposit(paycon, "before")
    status, _ = await operator_call(
        paycon, "POST", "/v1/gateways/gateway_a/disable", {"reason": "maintenance"}
    )
    assert status == 200
    await complete(paycon, tx["id"])
    _, body = await paycon.get(f"/v1/transactions/{tx['id']}")
    assert (body["status"], body["gateway"]) == ("completed", "gateway_a")


async def test_the_switch_survives_a_restart(db_path: Path) -> None:
    for restart in range(2):
        service = Service(make_settings(db_path))
        await service.start()
        try:
            async with aiohttp.ClientSession() as http:
                paycon = RunningPaycon(service, http, db_path)
                if restart == 0:
                    status, _ = await operator_call(
                        paycon, "POST", "/v1/gateways/gateway_b/disable", {"reason": "off"}
                    )
                    assert status == 200
                else:
                    _, listed = await paycon.get("/v1/gateways", token=OPERATOR_KEY)
                    enabled = {g["name"]: g["enabled"] for g in listed["gateways"]}
                    assert enabled == {"gateway_a": True, "gateway_b": False}
                    status, _, _ = await paycon.post_json(
                        "/v1/deposits",
                        {"customer_id": "c", "amount": "1.00", "currency": "EUR",
                         "country": "DE", "gateway": "gateway_b"},
                        key="pinned-b",
                    )  # fmt: skip
                    assert status == 422
        finally:
            await service.stop()


async def test_routing_changes_are_bounded_newest_first(paycon: RunningPaycon) -> None:
    for n in range(12):
        action = "disable" if n % 2 == 0 else "enable"
        status, _ = await operator_call(
            paycon, "POST", f"/v1/gateways/gateway_b/{action}", {"reason": f"change {n}"}
        )
        assert status == 200
    _, listed = await paycon.get("/v1/gateways", token=OPERATOR_KEY)
    changes = listed["gateways"][1]["routing_changes"]
    assert [c["reason"] for c in changes] == [f"change {n}" for n in range(11, 1, -1)]
    assert listed["gateways"][0]["routing_changes"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "reason"), ({"reason": "  "}, "reason"), ({"reason": "x" * 256}, "reason"),
     ({"reason": "ok", "force": True}, "force"), ({"reason": 5}, "reason"),
     ({"reason": "a\u0000b"}, "reason"), ({"reason": "a\nb"}, "reason"),
     ({"reason": "a\u007fb"}, "reason"), ({"reason": "\u001b[2Jgone"}, "reason")],
)  # fmt: skip
async def test_a_bad_switch_body_is_400_and_changes_nothing(
    paycon: RunningPaycon, body: dict[str, Any], field: str
) -> None:
    status, problem = await operator_call(paycon, "POST", "/v1/gateways/gateway_a/disable", body)
    assert status == 400
    assert problem["code"] == "invalid_request"
    assert [e["field"] for e in problem["errors"]] == [field]
    assert table_rows(paycon, "SELECT * FROM operator_audit") == []
    assert table_rows(paycon, "SELECT * FROM gateway_switches") == []
    assert (await deposit(paycon, "still-a"))["gateway"] == "gateway_a"


async def test_switches_need_an_operator_key_and_a_known_gateway(paycon: RunningPaycon) -> None:
    path = "/v1/gateways/gateway_a/disable"
    status, _ = await operator_call(paycon, "POST", path, {"reason": "x"}, token=None)
    assert status == 401
    status, _ = await operator_call(paycon, "POST", path, {"reason": "x"}, token=CLIENT_KEY)
    assert status == 403
    status, problem = await operator_call(
        paycon, "POST", "/v1/gateways/gateway_z/disable", {"reason": "x"}
    )
    assert status == 404
    assert "gateway_a, gateway_b" in problem["detail"]
    assert table_rows(paycon, "SELECT * FROM operator_audit") == []


async def test_faults_are_404_when_the_mocks_are_not_embedded(paycon: RunningPaycon) -> None:
    status, problem = await operator_call(paycon, "GET", "/v1/gateways/gateway_a/faults")
    assert status == 404
    assert "embedded" in problem["detail"]
    status, _ = await operator_call(
        paycon, "PUT", "/v1/gateways/gateway_a/faults", {"error_rate": 0.5}
    )
    assert status == 404
    _, listed = await paycon.get("/v1/gateways", token=OPERATOR_KEY)
    assert [g["faults"] for g in listed["gateways"]] == [None, None]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def embedded(db_path: Path) -> Any:
    settings = make_settings(
        db_path,
        mock_gateways="embedded",
        gateways={
            "gateway_a": {"url": f"http://127.0.0.1:{_free_port()}"},
            "gateway_b": {"url": f"http://127.0.0.1:{_free_port()}"},
        },
    )
    service = Service(settings)
    await service.start()
    try:
        async with aiohttp.ClientSession() as http:
            yield RunningPaycon(service, http, db_path)
    finally:
        await service.stop()


async def test_embedded_mock_faults_are_read_and_switched(embedded: RunningPaycon) -> None:
    status, faults = await operator_call(embedded, "GET", "/v1/gateways/gateway_b/faults")
    assert status == 200
    assert (faults["error_rate"], faults["outage"]) == (0.0, False)
    status, faults = await operator_call(
        embedded, "PUT", "/v1/gateways/gateway_b/faults", {"error_rate": 0.25, "outage": "503"}
    )
    assert status == 200
    assert (faults["error_rate"], faults["outage"]) == (0.25, "503")
    assert embedded.service.mocks is not None
    assert embedded.service.mocks.gateway_b.faults.error_rate == 0.25
    assert embedded.service.mocks.gateway_a.faults.error_rate == 0.0
    _, listed = await embedded.get("/v1/gateways", token=OPERATOR_KEY)
    assert listed["gateways"][1]["faults"]["outage"] == "503"


async def test_fault_switches_are_audited_with_what_changed(embedded: RunningPaycon) -> None:
    status, _ = await operator_call(
        embedded, "PUT", "/v1/gateways/gateway_b/faults",
        {"error_rate": 0.25, "outage": "503", "latency_ms": 0, "reason": "chaos drill"},
    )  # fmt: skip
    assert status == 200
    status, _ = await operator_call(
        embedded, "PUT", "/v1/gateways/gateway_b/faults", {"outage": False}
    )
    assert status == 200
    rows = table_rows(
        embedded, "SELECT actor, action, subject, reason, detail FROM operator_audit ORDER BY id"
    )
    assert [row[1:] for row in rows] == [
        ("faults", "faults:gateway_b", "chaos drill",
         "error_rate: 0 → 0.25; outage: off → 503; latency_ms: 0 (unchanged)"),
        ("faults", "faults:gateway_b", "faults switched by an operator",
         "outage: 503 → off"),
    ]  # fmt: skip
    assert all(row[0].startswith("operator:key_") for row in rows)

    _, listed = await embedded.get("/v1/gateways", token=OPERATOR_KEY)
    a, b = listed["gateways"]
    assert a["fault_changes"] == []
    assert [(c["action"], c["reason"]) for c in b["fault_changes"]] == [
        ("faults", "faults switched by an operator"),
        ("faults", "chaos drill"),
    ]
    # As the mock recorded them, with who: the values that changed, spelt as the console does.
    assert b["fault_changes"][1]["detail"] == "error_rate: 0 → 0.25; outage: off → 503"
    assert all(c["actor"].startswith("operator:key_") for c in b["fault_changes"])
    assert b["routing_changes"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"error_rate": 2},
        {"error_rate": 0.5, "reason": "a\u0000b"},
        {"error_rate": 0.5, "reason": " "},
    ],
)
async def test_a_refused_fault_switch_is_not_audited(
    embedded: RunningPaycon, body: dict[str, Any]
) -> None:
    status, _ = await operator_call(embedded, "PUT", "/v1/gateways/gateway_a/faults", body)
    assert status == 400
    assert embedded.service.mocks is not None
    assert embedded.service.mocks.gateway_a.faults.error_rate == 0.0
    assert table_rows(embedded, "SELECT * FROM operator_audit") == []


@pytest.mark.parametrize(
    ("body", "field"),
    [({"error_rate": 2}, "error_rate"), ({"error_rate": "0.5"}, "error_rate"),
     ({"latency_ms": 10, "outage": "sometimes"}, "outage"), ({"chaos": 1}, "chaos")],
)  # fmt: skip
async def test_bad_faults_are_400_naming_the_field_and_change_nothing(
    embedded: RunningPaycon, body: dict[str, Any], field: str
) -> None:
    status, problem = await operator_call(embedded, "PUT", "/v1/gateways/gateway_a/faults", body)
    assert status == 400
    assert [e["field"] for e in problem["errors"]] == [field]
    assert embedded.service.mocks is not None
    faults = embedded.service.mocks.gateway_a.faults
    assert (faults.error_rate, faults.latency_ms, faults.outage) == (0.0, 0, False)


async def test_a_switch_made_by_another_process_applies_within_seconds(
    paycon: RunningPaycon,
) -> None:
    with sqlite3.connect(paycon.db_path) as conn:  # as `paycon gateways disable` offline does
        conn.execute(
            "INSERT INTO gateway_switches (gateway, enabled, changed_at, changed_by) "
            "VALUES ('gateway_a', 0, '2026-01-01 00:00:00.000000', 'cli:alice')"
        )
    started = time.monotonic()
    while time.monotonic() - started < SWITCH_REFRESH_S + 3:
        _, listed = await paycon.get("/v1/gateways", token=OPERATOR_KEY)
        if not listed["gateways"][0]["enabled"]:
            break
        await asyncio.sleep(0.1)
    assert listed["gateways"][0]["enabled"] is False
    assert (await deposit(paycon, "elsewhere"))["gateway"] == "gateway_b"


async def test_money_faults_and_the_settlement_fee_are_switched_through_paycon(
    embedded: RunningPaycon,
) -> None:
    body = {
        "callback_amount_skew": 0.1,
        "late_failure_rate": 0.05,
        "submit_decline": "amount_limit_exceeded",
        "settlement_fee_bps": 150,
        "report_missing_rate": 0.2,
    }
    status, faults = await operator_call(embedded, "PUT", "/v1/gateways/gateway_a/faults", body)
    assert status == 200, faults
    assert {name: faults[name] for name in body} == body
    assert embedded.service.mocks is not None
    switched = embedded.service.mocks.gateway_a.faults
    assert (switched.callback_amount_skew, switched.settlement_fee_bps) == (0.1, 150)
    status, listed = await operator_call(embedded, "GET", "/v1/gateways")
    assert status == 200
    shown = listed["gateways"][0]["faults"]
    assert (shown["submit_decline"], shown["report_missing_rate"]) == ("amount_limit_exceeded", 0.2)
    status, problem = await operator_call(
        embedded, "PUT", "/v1/gateways/gateway_a/faults", {"submit_decline": "maybe"}
    )
    assert status == 400
    assert [e["field"] for e in problem["errors"]] == ["submit_decline"]
    assert embedded.service.mocks.gateway_a.faults.submit_decline == "amount_limit_exceeded"
