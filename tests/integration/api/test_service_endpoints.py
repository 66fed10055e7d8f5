"""Auth, health, the OpenAPI document, and atomicity of an accepted payment."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiohttp
import pytest
from openapi_spec_validator import validate

from paycon.runtime.service import Service
from tests.paycon_fixtures import OPERATOR_KEY, RunningPaycon, make_settings

DEPOSIT = {"customer_id": "cus_1", "amount": "1.00", "currency": "EUR", "country": "DE"}


@pytest.mark.parametrize("token", [None, "pk_wrong_key_000000000000", ""])
async def test_missing_or_wrong_key_is_401(paycon: RunningPaycon, token: str | None) -> None:
    status, headers, body = await paycon.post_json("/v1/deposits", DEPOSIT, token=token)
    assert status == 401
    assert body["code"] == "unauthorized"
    assert headers["WWW-Authenticate"].startswith("Bearer")
    status, _ = await paycon.get("/v1/transactions", token=token)
    assert status == 401
    assert paycon.counts()["transactions"] == 0


async def test_operator_routes_need_an_operator_key(paycon: RunningPaycon) -> None:
    status, body = await paycon.get("/v1/outbox/stats")
    assert status == 403
    assert body["code"] == "forbidden"
    await paycon.post_json("/v1/deposits", DEPOSIT, key="stats-1")
    status, stats = await paycon.get("/v1/outbox/stats", token=OPERATOR_KEY)
    assert status == 200
    assert stats["counts"] == {"pending": 1, "running": 0, "done": 0, "dead": 0}
    assert stats["backlog"] == 1
    assert stats["scheduled"] == 0
    assert stats["oldest_due_age_s"] >= 0


async def test_health_says_the_process_serves(paycon: RunningPaycon) -> None:
    status, body = await paycon.get("/healthz", token=None)
    assert (status, body) == (200, {"status": "ok"})


async def test_openapi_is_valid_and_lists_every_route(paycon: RunningPaycon) -> None:
    status, document = await paycon.get("/openapi.json", token=None)
    assert status == 200
    validate(document)
    assert document["openapi"].startswith("3.1")
    app = paycon.service.runner.app if paycon.service.runner else None
    assert app is not None
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    assert served == documented


async def test_openapi_offers_the_operator_name_on_operator_actions_only(
    paycon: RunningPaycon,
) -> None:
    _, document = await paycon.get("/openapi.json", token=None)

    def headers(path: str, method: str) -> list[str]:
        operation = document["paths"][path][method]
        return [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]

    assert headers("/v1/outbox/replay", "post") == ["X-Operator-Name"]
    assert headers("/v1/gateways/{name}/disable", "post") == ["X-Operator-Name"]
    assert headers("/v1/outbox/tasks", "get") == []
    assert headers("/v1/deposits", "post") == ["Idempotency-Key"]


async def test_openapi_request_schema_is_the_validating_model(paycon: RunningPaycon) -> None:
    _, document = await paycon.get("/openapi.json", token=None)
    deposit = document["components"]["schemas"]["DepositIn"]
    assert set(deposit["required"]) == {"customer_id", "amount", "currency", "country"}
    assert deposit["additionalProperties"] is False
    assert "EUR" in deposit["properties"]["currency"]["enum"]


async def test_payment_and_task_are_stored_together_or_not_at_all(db_path: Path) -> None:
    service = Service(make_settings(db_path))
    await service.start()
    try:
        # Make the outbox insert fail after the transaction row is written.
        with sqlite3.connect(db_path) as conn:
            conn.execute(
                "CREATE TRIGGER fail_outbox BEFORE INSERT ON outbox_tasks "
                "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
            )
        async with aiohttp.ClientSession() as http:
            paycon = RunningPaycon(service, http, db_path)
            status, headers, body = await paycon.post_json("/v1/deposits", DEPOSIT, key="atomic")
            assert status == 500
            # The id an operator is quoted is the one on the request's log lines.
            assert f"request id {headers['X-Request-Id']}" in body["detail"]
            counts = paycon.counts()
            assert counts["transactions"] == 0
            assert counts["transaction_events"] == 0
            assert counts["idempotency_keys"] == 0
            with sqlite3.connect(db_path) as conn:
                conn.execute("DROP TRIGGER fail_outbox")
            # Nothing was stored, so the same key now goes through.
            status, _, _ = await paycon.post_json("/v1/deposits", DEPOSIT, key="atomic")
            assert status == 202
            assert paycon.counts()["outbox_tasks"] == 1
    finally:
        await service.stop()


async def test_the_outbox_lease_setting_reaches_both_worker_pools(tmp_path: Path) -> None:
    service = Service(make_settings(tmp_path / "lease.db", outbox={"workers": 1, "lease_s": 7}))
    await service.start()
    try:
        assert service.pool is not None
        assert service.notify_pool is not None
        assert service.pool.config.lease_s == 7
        assert service.notify_pool.config.lease_s == 7
    finally:
        await service.stop()
