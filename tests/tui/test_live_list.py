"""The dashboard's live list keeps the newest transactions in view as time goes by, unless the
operator moved the cursor on purpose: then it keeps their row and says how many came in above."""

from __future__ import annotations

from datetime import datetime, timedelta

from textual.widgets import DataTable, Label

from paycon.tui.app import PayconConsole
from paycon.tui.screens.dashboard import DashboardScreen
from paycon.tui.widgets.rows import TRANSACTION_COLUMNS
from paycon.tui.widgets.tables import RowTable
from tests.tui.conftest import SIZE, cursor_key, screen_text, table_keys
from tests.tui.static_facade import NOW, StaticFacade
from tests.tui.test_snapshots import settle


class Clock:
    """The console's clock, moved on by the test."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def top_visible_key(app: PayconConsole) -> str:
    """The key of the first row in the live table's viewport."""
    table = app.screen.query_one("#live", DataTable)
    return table_keys(app, "#live")[int(table.scroll_y)]


def refresh(app: PayconConsole) -> None:
    """A dashboard refresh now (the timer's interval is an hour)."""
    screen = app.screen
    assert isinstance(screen, DashboardScreen)
    screen.action_reload()


def heading(app: PayconConsole) -> str:
    return str(app.screen.query_one("#live-heading", Label).render())


async def test_the_newest_row_stays_in_view_as_time_goes_by() -> None:
    facade, clock = StaticFacade(), Clock()
    app = PayconConsole(facade, refresh_s=3600, now=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for _ in range(40):  # more than the table shows: a followed row would scroll away
            clock.now += timedelta(seconds=1)
            newest = facade.arrive(clock.now)
            refresh(app)
            await settle(pilot)
            assert top_visible_key(app) == newest.id
            assert cursor_key(app, "#live") == newest.id
        assert heading(app) == "Live transactions"


async def test_a_row_the_operator_chose_stays_and_the_newer_ones_are_counted() -> None:
    facade, clock = StaticFacade(), Clock()
    app = PayconConsole(facade, refresh_s=3600, now=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "down")
        chosen = cursor_key(app, "#live")
        assert chosen == table_keys(app, "#live")[2]
        for _ in range(12):
            clock.now += timedelta(seconds=1)
            facade.arrive(clock.now)
            refresh(app)
            await settle(pilot)
        assert cursor_key(app, "#live") == chosen
        assert heading(app) == "Live transactions · 12 newer — home to jump"
        await pilot.press("home")
        await settle(pilot)
        assert cursor_key(app, "#live") == table_keys(app, "#live")[0]
        assert heading(app) == "Live transactions"
        clock.now += timedelta(seconds=1)
        newest = facade.arrive(clock.now)
        refresh(app)
        await settle(pilot)
        assert cursor_key(app, "#live") == newest.id
        assert top_visible_key(app) == newest.id


async def test_a_small_terminal_drops_columns_not_rows() -> None:
    app = PayconConsole(StaticFacade(), refresh_s=3600, now=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#live", RowTable)
        assert table.shown_columns == ("Created", "ID", "Status", "Customer", "Amount")
        lines = screen_text(app).splitlines()
        first = next(n for n, line in enumerate(lines) if "tx_01STATIC" in line)
        rows = [line for line in lines[first:] if "tx_01STATIC" in line]
        assert len(rows) >= 10
        assert rows[0].split()[-2:] == ["12.50", "GBP"]  # whole rows, the amount included
        await pilot.resize_terminal(160, 48)
        await settle(pilot)
        assert app.screen.query_one("#live", RowTable).shown_columns == TRANSACTION_COLUMNS
        assert "order-1001" in screen_text(app)
