"""The console over a large database stays quick, and never holds up the API beside it.

200,000 transactions and 200,000 done tasks are bulk-inserted into a migrated
paycon database (API traffic would take far too long to make them). Bounds
are generous: they catch a refresh that scans tables or blocks the event loop
(seconds), not a slow machine (milliseconds).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from paycon.tui.screens.dashboard import DashboardScreen
from tests.paycon_fixtures import RunningPaycon
from tests.tui.conftest import DEPOSIT, SIZE, ConsoleFactory, table_keys, until

ROWS = 200_000
REFRESH_BOUND_S = 1.0
API_BOUND_S = 0.5


def seed(db_path: Path, rows: int) -> None:
    """``rows`` transactions, newest last, each with a done submit task, in two statements."""
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute(
            f"""
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {rows} - 1)
            INSERT INTO transactions (id, kind, status, customer_id, amount_minor, currency,
                country, gateway, route, reference, client_id, created_at, updated_at)
            SELECT printf('tx_00SEED%019d', i),
                CASE WHEN i % 3 THEN 'deposit' ELSE 'withdrawal' END,
                CASE i % 10 WHEN 0 THEN 'failed' WHEN 1 THEN 'submitted' ELSE 'completed' END,
                printf('cus_%05d', i % 5000), 100 + i % 50000, 'EUR', 'DE',
                CASE WHEN i % 2 THEN 'gateway_b' ELSE 'gateway_a' END,
                CASE WHEN i % 2 THEN 'gateway_b' ELSE 'gateway_a' END,
                printf('ref-%08d', i), 'seed',
                strftime('%Y-%m-%d %H:%M:%S', 'now', printf('-%d seconds', {rows} - i))
                    || '.000000',
                strftime('%Y-%m-%d %H:%M:%S', 'now', printf('-%d seconds', {rows} - i))
                    || '.000000'
            FROM n
            """  # noqa: S608 (only this module's own numbers go in)
        )
        conn.execute(
            "INSERT INTO outbox_tasks (kind, payload, dedupe_key, state, attempts, max_attempts,"
            " run_at, created_at, updated_at)"
            " SELECT 'submit', json_object('transaction_id', id, 'route', json_array(gateway)),"
            " 'submit:' || gateway || ':' || id, 'done', 1, 10, created_at, created_at,"
            " created_at FROM transactions"
        )
        conn.execute(
            "INSERT INTO outbox_counters (name, value) VALUES ('done', ?) "
            "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
            (rows,),
        )


async def test_dashboard_refreshes_quickly_and_the_api_answers_meanwhile(
    paycon: RunningPaycon, console: ConsoleFactory
) -> None:
    await asyncio.to_thread(seed, paycon.db_path, ROWS)
    app = console(refresh_s=3600)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(table_keys(app, "#live")) == 50, timeout_s=10)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        assert f"done {ROWS:,}" in str(screen.query_one("#outbox").render())

        refresh_s: list[float] = []
        api_s: list[float] = []

        async def refreshes() -> None:
            for _ in range(5):
                started = time.perf_counter()
                screen.action_reload()
                running = [w for w in app.workers if w.group == "live" and not w.is_finished]
                await asyncio.gather(*(w.wait() for w in running))
                refresh_s.append(time.perf_counter() - started)

        async def requests() -> None:
            for n in range(20):
                started = time.perf_counter()
                status, _, _ = await paycon.post_json("/v1/deposits", DEPOSIT, key=f"during-{n}")
                assert status == 202
                api_s.append(time.perf_counter() - started)

        await asyncio.gather(refreshes(), requests())
    assert max(refresh_s) < REFRESH_BOUND_S, refresh_s
    assert max(api_s) < API_BOUND_S, api_s
