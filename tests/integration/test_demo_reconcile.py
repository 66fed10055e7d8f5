"""The demo reconciles each gateway's settlement report as it runs, so the console
shows live reconciliation: matched payments settle in the ledger."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from paycon.runtime.demo import DEMO_SETTLEMENT, Demo, demo_for
from paycon.runtime.service import Service
from paycon.storage.ledger_check import verify
from paycon.usecases.reconcile import Reconciliation
from tests.integration.storage.engines import sqlite_engine
from tests.integration.test_demo import (
    QUICK,
    SCHEDULE,
    get,
    mocks_of,
    service,
    wait_until,
)
from tests.paycon_fixtures import CLIENT_KEY, OPERATOR_KEY

__all__ = ["service"]  # the fixture, shared with the demo's tests


async def test_demo_for_reconciles_both_gateways_with_fees_on_the_mocks(service: Service) -> None:
    demo = demo_for(service)
    for mock in mocks_of(service).values():
        assert mock.faults.settlement_fee_bps == DEMO_SETTLEMENT["settlement_fee_bps"]
    await demo.start()
    try:
        await wait_until(lambda: demo.stats.reconciled >= 2)
    finally:
        await demo.stop()
    async with aiohttp.ClientSession() as http:
        runs = await get(http, f"{service.url}/v1/reconciliation/runs", OPERATOR_KEY)
    assert {(run["gateway"], run["actor"]) for run in runs["items"]} == {
        ("gateway_a", "demo"), ("gateway_b", "demo"),
    }  # fmt: skip


async def test_demo_payments_settle_through_the_reports(service: Service, db_path: Path) -> None:
    desk = Reconciliation(service.db, service.settings.gateways)
    demo = Demo(
        api_url=service.url, client_key=CLIENT_KEY, mocks=mocks_of(service), schedule=SCHEDULE,
        shape=QUICK, seed=3, reconciliation=desk, reconcile_every_s=0.2,
    )  # fmt: skip
    booked = 0

    async def count_booked() -> None:
        nonlocal booked
        booked = sum(run.booked for run in await desk.runs(limit=500))

    await demo.start()
    try:
        while booked < 3:  # each look waits for the demo's next run
            runs = demo.stats.reconciled
            await wait_until(lambda runs=runs: demo.stats.reconciled > runs)  # type: ignore[misc]
            await count_booked()
    finally:
        await demo.stop()
    async with aiohttp.ClientSession() as http:
        accounts = await get(http, f"{service.url}/v1/ledger/accounts?name=settled", OPERATOR_KEY)
    assert any(account["balance"] != "0.00" for account in accounts["items"])
    # The payments still move: check the ledger in one read transaction (one snapshot).
    engine = sqlite_engine(db_path)
    try:
        with engine.begin() as conn:
            assert verify(conn) == []
    finally:
        engine.dispose()
