"""The console as a whole: the live dashboard, help, the command palette, read-only mode, the
log panel, and facade errors shown instead of raised."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest
from textual.command import CommandPalette
from textual.widgets import Input, Sparkline, Tabs

from paycon.logs import LogBuffer
from paycon.models.gateways import OverviewOut
from paycon.tui.app import PayconConsole
from paycon.tui.screens.dashboard import DashboardScreen
from paycon.tui.screens.help import HelpScreen
from paycon.tui.screens.modals import AskScreen
from paycon.tui.screens.outbox import OutboxScreen
from paycon.tui.screens.task_detail import TaskDetailScreen
from paycon.tui.screens.transaction_detail import TransactionDetailScreen
from paycon.tui.widgets.key_bar import KeyBar
from paycon.tui.widgets.log_panel import LogPanel
from tests.paycon_fixtures import RunningPaycon
from tests.tui.conftest import (
    SIZE,
    ConsoleFactory,
    accept_deposits,
    actions_asked,
    actions_finished,
    cursor_key,
    database_dump,
    kill,
    screen_text,
    sql,
    submit_task_ids,
    table_keys,
    task_state,
    until,
)
from tests.tui.static_facade import NOW, StaticFacade

ACTION_KEYS = {"r", "x", "R"}


async def test_the_dashboard_shows_live_figures_and_keeps_up(
    paycon: RunningPaycon, console: ConsoleFactory
) -> None:
    first = await accept_deposits(paycon, 2)
    app = console(refresh_s=0.2)
    async with app.run_test(size=SIZE) as pilot:
        assert app.title == f"paycon · {app.facade.where}"
        assert paycon.service.url in app.title
        await until(pilot, lambda: table_keys(app, "#live") == list(reversed(first)))
        figures = (
            "pending 2 · running 0 · dead 0 · done 0",
            "gateway_a json · routing on",
            "gateway_b xml · routing on",
            "breaker closed 0/5 failures",
        )
        # The gateway panels are mounted with the first figures: they show a moment later.
        await until(pilot, lambda: all(f in screen_text(app) for f in figures), what="figures")
        [later] = await accept_deposits(paycon, 1)
        await until(pilot, lambda: table_keys(app, "#live")[:1] == [later], what="a new row")
        await until(pilot, lambda: "pending 3 ·" in screen_text(app), what="the new count")


async def test_the_backlog_is_due_work_and_scheduled_work_is_shown_apart(
    paycon: RunningPaycon, console: ConsoleFactory
) -> None:
    await accept_deposits(paycon, 3)
    later = submit_task_ids(paycon.db_path)[:2]
    for task_id in later:  # as a status check a minute ahead is
        sql(
            paycon.db_path,
            "UPDATE outbox_tasks SET run_at = datetime('now', '+60 seconds') WHERE id = ?",
            task_id,
        )
    app = console(refresh_s=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "backlog 1 · 2 scheduled" in screen_text(app), what="figures")
        assert "pending 3 ·" in screen_text(app)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        assert set(screen.query_one("#backlog", Sparkline).data or []) == {1.0}


async def test_help_lists_this_screens_keys_and_the_palette_runs_commands(
    paycon: RunningPaycon, console: ConsoleFactory
) -> None:
    await accept_deposits(paycon, 1)
    [task_id] = submit_task_ids(paycon.db_path)
    kill(paycon.db_path, [task_id])
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await until(pilot, lambda: table_keys(app, "#tasks") == [str(task_id)])
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        app.screen.query_one("VerticalScroll").scroll_end(animate=False)
        await pilot.pause()
        shown = screen_text(app)
        for line in (
            "r  Replay/run now",
            "x  Discard…",
            "R  Replay all…",
            "q  Quit",
            "1-5  Dashboard · Transactions · Outbox · Gateways · Reconciliation",
            "?  Help",
            "^q  Quit",
        ):
            assert line in shown
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, OutboxScreen))

        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        app.screen.query_one(Input).value = f"Replay task {task_id}"
        await until(pilot, lambda: f"Replay task {task_id}" in screen_text(app), what="a hit")
        await pilot.press("enter")
        await until(pilot, lambda: task_state(paycon.db_path, task_id)[0] == "pending")

        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        app.screen.query_one(Input).value = "Go to Gateways"
        await until(pilot, lambda: "Show the gateways screen" in screen_text(app))
        await pilot.press("enter")
        await until(pilot, lambda: app.current_mode == "gateways")


async def test_read_only_hides_and_refuses_every_action(
    paycon: RunningPaycon, console: ConsoleFactory
) -> None:
    await accept_deposits(paycon, 1)
    [task_id] = submit_task_ids(paycon.db_path)
    kill(paycon.db_path, [task_id])
    before = database_dump(paycon.db_path)
    app = console(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        assert app.sub_title == "read-only"
        await pilot.press("3")
        await until(pilot, lambda: table_keys(app, "#tasks") == [str(task_id)])
        assert not ACTION_KEYS & set(app.screen.active_bindings)
        assert "Replay" not in screen_text(app)  # nor in the footer
        # The action keys, then a harmless one: once its effect shows, they were handled.
        await pilot.press("r", "x", "R", "right_square_bracket")
        await until(pilot, lambda: app.screen.query_one("#states", Tabs).active == "pending")
        await actions_finished(pilot)
        assert actions_asked(app) == []
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Go to Outbox" in titles
        assert not [t for t in titles if t.startswith(("Replay", "Discard"))]

        await pilot.press("left_square_bracket")
        await until(pilot, lambda: table_keys(app, "#tasks") == [str(task_id)])
        await pilot.press("enter")  # the task's own screen: no actions either
        await until(pilot, lambda: isinstance(app.screen, TaskDetailScreen))
        await until(pilot, lambda: "GatewayTransient" in screen_text(app))
        assert not ACTION_KEYS & set(app.screen.active_bindings)
        await pilot.press("r", "x", "question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert "Replay" not in screen_text(app)
        await pilot.press("escape")
        await actions_finished(pilot)
        assert actions_asked(app) == []

        await pilot.press("escape", "4")
        await until(pilot, lambda: table_keys(app, "#gateways") == ["gateway_a", "gateway_b"])
        assert not {"e", "o", "f", "c", "h"} & set(app.screen.active_bindings)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert not [t for t in titles if "routing" in t or "outage" in t]
        await pilot.press("e", "o", "f", "c", "h", "down")
        await until(pilot, lambda: cursor_key(app, "#gateways") == "gateway_b")
        await actions_finished(pilot)
        assert actions_asked(app) == []
    assert database_dump(paycon.db_path) == before


async def test_fault_switches_exist_only_for_embedded_mocks(
    paycon: RunningPaycon, console: ConsoleFactory
) -> None:
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await until(pilot, lambda: table_keys(app, "#gateways") == ["gateway_a", "gateway_b"])
        keys = set(app.screen.active_bindings)
        assert "e" in keys
        assert not {"o", "f", "c", "h"} & keys
        assert "not an embedded mock" in screen_text(app)
        await pilot.press("o", "f", "c", "h", "down")  # once the cursor moves, they were handled
        await until(pilot, lambda: cursor_key(app, "#gateways") == "gateway_b")
        await actions_finished(pilot)
        assert actions_asked(app) == []


@pytest.fixture
def log_buffer() -> Iterator[LogBuffer]:
    buffer = LogBuffer(capacity=50)
    logger = logging.getLogger("paycon.tui.test")
    logger.addHandler(buffer)
    logger.setLevel(logging.INFO)
    yield buffer
    logger.removeHandler(buffer)


def panel_lines(app: PayconConsole) -> list[str]:
    panel = app.screen.query_one(LogPanel)
    return [strip.text for strip in panel.lines]


async def test_the_log_panel_shows_the_buffers_lines_while_open(log_buffer: LogBuffer) -> None:
    log = logging.getLogger("paycon.tui.test")
    log.warning("gateway_b answered 503", extra={"task_id": 7})
    app = PayconConsole(StaticFacade(), logs=log_buffer, refresh_s=60, now=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.screen.query_one(LogPanel)
        assert not panel.display
        await pilot.press("l")
        await until(pilot, lambda: len(panel_lines(app)) == 1)
        assert "gateway_b answered 503 task_id=7" in panel_lines(app)[0]
        log.info("replayed task 7")
        await until(pilot, lambda: len(panel_lines(app)) == 2, what="a new line")
        await pilot.press("2")  # the panel stays open on every screen
        await until(pilot, lambda: app.screen.query_one(LogPanel).display)
        await pilot.press("l")
        assert not app.screen.query_one(LogPanel).display
    without = PayconConsole(StaticFacade(), refresh_s=60, now=lambda: NOW)
    async with without.run_test(size=SIZE):
        assert "l" not in without.screen.active_bindings


async def test_an_unavailable_service_is_shown_and_the_console_recovers() -> None:
    facade = StaticFacade()
    facade.unavailable = True
    app = PayconConsole(facade, refresh_s=0.1, now=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        problem = "Could not read the overview: Service unavailable: database is locked (retrying)"
        await until(pilot, lambda: problem in screen_text(app))
        assert isinstance(app.screen, DashboardScreen)
        facade.unavailable = False
        await until(pilot, lambda: len(table_keys(app, "#live")) == 24, what="the data")
        await until(pilot, lambda: "Could not" not in screen_text(app))


class SlowFacade(StaticFacade):
    """Overviews take a while; counts how many run at once."""

    def __init__(self) -> None:
        super().__init__()
        self.running = 0
        self.most_at_once = 0
        self.slow_overviews = 0

    async def overview(self) -> OverviewOut:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await asyncio.sleep(0.1)
            self.slow_overviews += 1
            return await super().overview()
        finally:
            self.running -= 1


async def test_a_refresh_still_running_is_not_started_again() -> None:
    facade = SlowFacade()
    app = PayconConsole(facade, refresh_s=0.02, now=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: facade.slow_overviews >= 3, what="three refreshes")
    assert facade.most_at_once == 1


def footer(app: PayconConsole) -> str:
    return screen_text(app).splitlines()[-1]


async def test_q_quits_from_a_list_and_is_only_typed_in_filter_lines_and_dialogs() -> None:
    app = PayconConsole(StaticFacade(), refresh_s=60, now=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await until(pilot, lambda: len(table_keys(app, "#tasks")) > 0)
        assert "q Quit" in footer(app)
        await pilot.press("slash", "q")
        assert app.screen.query_one("#filter", Input).value == "q"
        await pilot.press("escape", "x")
        await until(pilot, lambda: isinstance(app.screen, AskScreen))
        await pilot.press("q")
        assert app.screen.query_one("#answer", Input).value == "q"
        await pilot.press("escape", "R")
        await until(pilot, lambda: isinstance(app.screen, AskScreen))
        await pilot.press("q")
        assert app.screen.query_one("#answer", Input).value == "q"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, OutboxScreen))
        assert app.return_code is None  # not quitting

        # A detail screen: q could be taken for "back", so only ctrl+q quits there.
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TaskDetailScreen))
        assert "^q Quit" in footer(app)
        await pilot.press("q", "t")
        await until(pilot, lambda: isinstance(app.screen, TransactionDetailScreen))
        assert app.return_code is None

        await pilot.press("escape", "escape", "q")
        await until(pilot, lambda: app.return_code == 0, what="the console to quit")


async def test_ctrl_q_quits_even_while_typing_in_the_command_palette() -> None:
    app = PayconConsole(StaticFacade(), refresh_s=60, now=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p", "q")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        assert app.screen.query_one(Input).value == "q"
        await pilot.press("ctrl+q")
        await until(pilot, lambda: app.return_code == 0, what="the console to quit")


async def test_clicking_a_key_in_the_key_bar_presses_it() -> None:
    app = PayconConsole(StaticFacade(), refresh_s=60, now=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await until(pilot, lambda: len(table_keys(app, "#tasks")) > 0)
        await pilot.click(KeyBar, offset=(footer(app).index("State"), 0))
        await until(pilot, lambda: app.screen.query_one("#states", Tabs).active == "pending")
        await pilot.click(KeyBar, offset=(footer(app).index("palette"), 0))
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
