"""The transactions screen on a real paycon: filters, search by id and reference, the detail."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable

from paycon.tui.app import PayconConsole
from paycon.tui.screens.task_detail import TaskDetailScreen
from paycon.tui.screens.transaction_detail import TransactionDetailScreen
from paycon.tui.screens.transactions import TransactionsScreen
from tests.paycon_fixtures import RunningPaycon
from tests.tui.conftest import (
    SIZE,
    ConsoleFactory,
    accept_deposits,
    cursor_key,
    filter_by,
    screen_text,
    seed_transactions,
    sql,
    submit_task_ids,
    summary,
    table_keys,
    until,
)


def listed(app: PayconConsole) -> list[str]:
    """Transaction ids in the list, top to bottom."""
    return table_keys(app, "#transactions")


async def test_filters_narrow_the_list_and_search_finds_by_id_and_reference(
    paycon: RunningPaycon, console: ConsoleFactory
) -> None:
    on_a = await accept_deposits(paycon, 2, gateway="gateway_a", customer_id="cus_a")
    on_b = await accept_deposits(paycon, 2, gateway="gateway_b", customer_id="cus_b")
    [referenced] = await accept_deposits(paycon, 1, customer_id="cus_c", reference="order-77")
    sql(paycon.db_path, "UPDATE transactions SET status = 'failed' WHERE id = ?", on_b[0])
    everything = [referenced, *reversed(on_b), *reversed(on_a)]
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await until(pilot, lambda: listed(app) == everything, what="every transaction")

        await filter_by(pilot, "gateway:gateway_a")
        gateway_a = [referenced, *reversed(on_a)]  # unpinned deposits go to gateway_a
        await until(pilot, lambda: listed(app) == gateway_a, what="gateway filter")
        await filter_by(pilot, "status:failed")
        await until(pilot, lambda: listed(app) == [on_b[0]], what="status filter")
        await filter_by(pilot, "customer:cus_b status:pending kind:deposit")
        await until(pilot, lambda: listed(app) == [on_b[1]], what="combined filters")
        await filter_by(pilot, "kind:withdrawal")
        await until(pilot, lambda: listed(app) == [], what="no withdrawals")
        assert "nothing matches" in str(app.screen.query_one("#summary").render())

        await filter_by(pilot, on_a[0])
        await until(pilot, lambda: listed(app) == [on_a[0]], what="search by id")
        await filter_by(pilot, "order-77")
        await until(pilot, lambda: listed(app) == [referenced], what="search by reference")
        await filter_by(pilot, "order-77 gateway:gateway_b")  # the hit is on gateway_a
        await until(pilot, lambda: listed(app) == [], what="search within a filter")

        await filter_by(pilot, "status:lost")
        await until(pilot, lambda: bool(app._notifications))
        assert "not one of" in list(app._notifications)[-1].message
        assert listed(app) == []  # the last good filter still applies

        await filter_by(pilot, "")
        await until(pilot, lambda: listed(app) == everything, what="all again")


async def test_detail_shows_timeline_and_tasks_and_opens_a_task(
    paycon: RunningPaycon, console: ConsoleFactory
) -> None:
    [transaction_id] = await accept_deposits(paycon, 1, gateway="gateway_b")
    [task_id] = submit_task_ids(paycon.db_path)
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await until(pilot, lambda: listed(app) == [transaction_id])
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TransactionDetailScreen))
        screen = app.screen
        await until(pilot, lambda: table_keys(app, "#tasks") == [str(task_id)], what="tasks")
        assert f"id        {transaction_id}" in screen_text(app)
        events = screen.query_one("#events", DataTable)
        assert events.row_count >= 1
        assert "accepted" in str(events.get_row_at(0)[0])
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TaskDetailScreen))
        assert isinstance(app.screen, TaskDetailScreen)
        assert app.screen.task_id == task_id
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, TransactionsScreen))


async def test_more_loads_the_next_page_and_the_dashboard_opens_a_transaction(
    paycon: RunningPaycon, console: ConsoleFactory
) -> None:
    ids = await accept_deposits(paycon, 55)
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(table_keys(app, "#live")) == 50, what="live rows")
        assert table_keys(app, "#live")[0] == ids[-1]
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TransactionDetailScreen))
        assert getattr(app.screen, "transaction_id", None) == ids[-1]
        await pilot.press("escape", "2")
        await until(pilot, lambda: len(listed(app)) == 50)
        await pilot.press("n")
        await until(pilot, lambda: listed(app) == list(reversed(ids)))
        await pilot.press("n")
        await until(pilot, lambda: bool(app._notifications))
        assert "No more" in list(app._notifications)[-1].message


async def test_a_refresh_after_paging_past_one_read_keeps_every_row_and_the_cursor(
    paycon: RunningPaycon, console: ConsoleFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(TransactionsScreen, "PAGE_ROWS", 100)
    rows = 250
    assert rows > TransactionsScreen.READ_MAX_ROWS  # a refresh takes more than one read
    seed_transactions(paycon.db_path, rows)
    newest, oldest = f"tx_00SEED{rows - 1:020d}", f"tx_00SEED{0:020d}"
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await until(pilot, lambda: len(listed(app)) == 100)
        await pilot.press("n")
        await until(pilot, lambda: len(listed(app)) == 200, what="page two")
        await pilot.press("n")
        await until(pilot, lambda: len(listed(app)) == rows, what="page three")
        await pilot.press("ctrl+end")
        assert cursor_key(app, "#transactions") == oldest

        # The newest fails meanwhile; the operator refreshes.
        sql(paycon.db_path, "UPDATE transactions SET status = 'failed' WHERE id = ?", newest)
        table = app.screen.query_one("#transactions", DataTable)
        await pilot.press("ctrl+r")
        await until(pilot, lambda: "failed" in str(table.get_row(newest)), what="the refresh")
        assert len(listed(app)) == rows
        assert listed(app)[0] == newest
        assert cursor_key(app, "#transactions") == oldest
        assert summary(app) == f"{rows} shown · all"
