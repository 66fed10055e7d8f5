"""The outbox pool inside the service: tasks committed with payments get run."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import aiohttp

from paycon.service import Service
from tests.paycon_fixtures import RunningPaycon, make_settings

DEPOSIT = {"customer_id": "cus_1", "amount": "1.00", "currency": "EUR", "country": "DE"}


def task_states(db_path: Path) -> dict[str, int]:
    with sqlite3.connect(db_path) as conn:
        return dict(conn.execute("SELECT state, count(*) FROM outbox_tasks GROUP BY state"))


async def test_without_handlers_tasks_wait_in_the_database(paycon: RunningPaycon) -> None:
    assert paycon.service.pool is None
    await paycon.post_json("/v1/deposits", DEPOSIT, key="wait-1")
    await asyncio.sleep(0.2)
    assert task_states(paycon.db_path) == {"pending": 1}


async def test_drained_submit_tasks_complete_and_leave_payments_pending(db_path: Path) -> None:
    service = Service(make_settings(db_path, outbox={"drain_submit_tasks": True}))
    await service.start()
    try:
        assert service.pool is not None
        async with aiohttp.ClientSession() as http:
            paycon = RunningPaycon(service, http, db_path)
            results = await asyncio.gather(
                *(paycon.post_json("/v1/deposits", DEPOSIT, key=f"drain-{i}") for i in range(50))
            )
            assert {status for status, _, _ in results} == {202}
            for _ in range(100):
                if task_states(db_path) == {"done": 50}:
                    break
                await asyncio.sleep(0.05)
            assert task_states(db_path) == {"done": 50}
            _, page = await paycon.get("/v1/transactions?status=pending&limit=100")
            assert len(page["items"]) == 50
    finally:
        await service.stop()
    assert "running" not in task_states(db_path)
