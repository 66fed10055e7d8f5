"""The console over a large database stays quick, and never holds up the API beside it.

200,000 transactions and 200,000 done tasks are bulk-inserted into a migrated
paycon database (API traffic would take far too long to make them). Bounds
are generous: they catch a refresh that scans tables or blocks the event loop
(seconds), not a slow machine (milliseconds).

The heap is settled before the timed part, as ``paycon run`` does once it has
started (``paycon.runtime.heap``). Here it also holds what every earlier test left, and
a full collection of it (over 0.7 s late in the suite) would be timed as the
console's.
"""

from __future__ import annotations

import asyncio
import time

from paycon.runtime import heap
from paycon.tui.screens.dashboard import DashboardScreen
from tests.paycon_fixtures import RunningPaycon
from tests.tui.conftest import (
    DEPOSIT,
    SIZE,
    ConsoleFactory,
    seed_transactions,
    table_keys,
    until,
)

ROWS = 200_000
REFRESH_BOUND_S = 1.0
API_BOUND_S = 0.5


async def test_dashboard_refreshes_quickly_and_the_api_answers_meanwhile(
    paycon: RunningPaycon, console: ConsoleFactory
) -> None:
    await asyncio.to_thread(seed_transactions, paycon.db_path, ROWS)
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

        heap.settle()
        await asyncio.gather(refreshes(), requests())
    assert max(refresh_s) < REFRESH_BOUND_S, refresh_s
    assert max(api_s) < API_BOUND_S, api_s
