"""The console over a large database refreshes, and the API beside it answers meanwhile.

200,000 transactions and 200,000 done tasks are bulk-inserted into a migrated
paycon database (API traffic would take far too long to make them). How long a
refresh takes, and what the console costs the API's latency, are figures of
``python -m bench`` (``bench.console``, over a million of each), not asserted here.
"""

from __future__ import annotations

import asyncio

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

        refreshed: list[bool] = []
        answered: list[int] = []

        async def refreshes() -> None:
            for _ in range(5):
                screen.action_reload()
                running = [w for w in app.workers if w.group == "live" and not w.is_finished]
                await asyncio.gather(*(w.wait() for w in running))
                refreshed.append(all(w.error is None for w in running))

        async def requests() -> None:
            for n in range(20):
                status, _, _ = await paycon.post_json("/v1/deposits", DEPOSIT, key=f"during-{n}")
                answered.append(status)

        await asyncio.gather(refreshes(), requests())
        await until(pilot, lambda: len(table_keys(app, "#live")) == 50, timeout_s=10)
    assert refreshed == [True] * 5
    assert answered == [202] * 20
