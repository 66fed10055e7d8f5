"""The outbox pool inside the service."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from tests.paycon_fixtures import RunningPaycon

DEPOSIT = {"customer_id": "cus_1", "amount": "1.00", "currency": "EUR", "country": "DE"}


def task_states(db_path: Path) -> dict[str, int]:
    with sqlite3.connect(db_path) as conn:
        return dict(conn.execute("SELECT state, count(*) FROM outbox_tasks GROUP BY state"))


async def test_an_api_only_process_leaves_tasks_to_others(paycon: RunningPaycon) -> None:
    assert paycon.service.settings.outbox.workers == 0
    assert paycon.service.pool is None
    await paycon.post_json("/v1/deposits", DEPOSIT, key="wait-1")
    await asyncio.sleep(0.2)
    assert task_states(paycon.db_path) == {"pending": 1}
