"""Console tests: a real paycon with the console attached through ``LocalFacade``.

Helpers here accept payments through the HTTP API, put outbox tasks into the
states a test needs (as the outbox tests do, straight in the database file),
and wait for the console's workers, which answer asynchronously.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from paycon.facade.local import LocalFacade
from paycon.tui.app import PayconConsole
from tests.paycon_fixtures import OPERATOR_KEY, RunningPaycon

ACTOR = "console:test"
DEPOSIT = {"customer_id": "cus_1", "amount": "1.00", "currency": "EUR", "country": "DE"}
SIZE = (120, 36)
_KEYS = itertools.count()
ConsoleFactory = Callable[..., PayconConsole]


@pytest.fixture(autouse=True)
def _no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking cursor would make screenshots differ from run to run."""
    monkeypatch.setattr(Input, "cursor_blink", False)


@pytest.fixture
def console(paycon: RunningPaycon) -> ConsoleFactory:
    """Makes consoles on the running paycon's own facade."""

    def make(**options: Any) -> PayconConsole:
        options.setdefault("refresh_s", 1.0)
        return PayconConsole(LocalFacade.for_service(paycon.service, actor=ACTOR), **options)

    return make


async def until(
    pilot: Pilot[None], condition: Callable[[], bool], *, timeout_s: float = 5.0, what: str = ""
) -> None:
    """Let the console run until ``condition()`` holds; fail after ``timeout_s``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        if loop.time() > deadline:
            print(screen_text(pilot.app))  # what the screen showed, for the failure report
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.02)


async def until_true(
    pilot: Pilot[None], check: Callable[[], Awaitable[bool]], *, timeout_s: float = 5.0
) -> None:
    """Like ``until`` for a check that reads the service (the facade or the API)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {check}")
        await pilot.pause(0.02)


def screen_text(app: App[Any]) -> str:
    """What the terminal shows now, as plain text (the frame a screenshot would take)."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        record=True,
        force_terminal=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()


def table_keys(app: PayconConsole, selector: str) -> list[str]:
    """The row keys of a table on the current screen, top to bottom."""
    table = app.screen.query_one(selector, DataTable)
    return [str(row.key.value) for row in table.ordered_rows]


async def accept_deposits(
    paycon: RunningPaycon, count: int, *, gateway: str | None = None, **fields: str
) -> list[str]:
    """``count`` deposits through the API; their transaction ids, oldest first."""
    ids = []
    for _ in range(count):
        body: dict[str, Any] = {**DEPOSIT, **fields}
        if gateway is not None:
            body["gateway"] = gateway
        status, _, answer = await paycon.post_json("/v1/deposits", body, key=f"tui-{next(_KEYS)}")
        assert status == 202, answer
        ids.append(answer["id"])
    return ids


def sql(db_path: Path, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    """Run one statement on the database file (to set up task states)."""
    with closing(sqlite3.connect(db_path)) as conn, conn:
        return conn.execute(statement, params).fetchall()


def submit_task_ids(db_path: Path, gateway: str | None = None) -> list[int]:
    """Ids of submit tasks (for ``gateway``, or all), oldest first."""
    pattern = f"submit:{gateway or '%'}:%"
    rows = sql(
        db_path,
        "SELECT id FROM outbox_tasks WHERE kind = 'submit' AND dedupe_key LIKE ? ORDER BY id",
        pattern,
    )
    return [row[0] for row in rows]


def kill(db_path: Path, task_ids: list[int]) -> None:
    """Make tasks dead, as exhausted attempts would."""
    for task_id in task_ids:
        sql(
            db_path,
            "UPDATE outbox_tasks SET state = 'dead', attempts = max_attempts, "
            "last_error = 'GatewayTransient: 502 from gateway' WHERE id = ?",
            task_id,
        )


def task_state(db_path: Path, task_id: int) -> tuple[str, int]:
    """State and attempts of a task, read from the file."""
    [row] = sql(db_path, "SELECT state, attempts FROM outbox_tasks WHERE id = ?", task_id)
    return row[0], row[1]


async def api_task(paycon: RunningPaycon, task_id: int) -> Any:
    """The task as the operator API shows it."""
    status, body = await paycon.get(f"/v1/outbox/tasks/{task_id}", token=OPERATOR_KEY)
    assert status == 200, body
    return body
