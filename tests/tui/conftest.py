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
from collections.abc import Awaitable, Callable, Mapping
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from paycon.facade.local import LocalFacade
from paycon.models.gateways import GatewayOut
from paycon.models.outbox import OutboxCountOut, OutboxTaskOut
from paycon.models.queries import TaskQuery
from paycon.tui.app import PayconConsole
from paycon.tui.widgets.tables import selected_key
from tests.paycon_fixtures import OPERATOR_KEY, RunningPaycon, stored_now

ACTOR = "console:test"
DEPOSIT = {"customer_id": "cus_1", "amount": "1.00", "currency": "EUR", "country": "DE"}
SIZE = (120, 36)
_KEYS = itertools.count()
ConsoleFactory = Callable[..., PayconConsole]


@pytest.fixture(autouse=True)
def _no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking cursor would make screenshots differ from run to run."""
    monkeypatch.setattr(Input, "cursor_blink", False)


class RecordingFacade(LocalFacade):
    """The running paycon's own facade, noting each action as it is asked for, before it runs.

    A test can then tell "the console never asked" from "not yet done".
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actions: list[str] = []

    async def replay(self, task_id: int, *, reason: str) -> OutboxTaskOut:
        self.actions.append("replay")
        return await super().replay(task_id, reason=reason)

    async def discard(self, task_id: int, *, reason: str) -> OutboxTaskOut:
        self.actions.append("discard")
        return await super().discard(task_id, reason=reason)

    async def count_matching(self, query: TaskQuery) -> OutboxCountOut:
        self.actions.append("count_matching")  # the first step of a bulk replay
        return await super().count_matching(query)

    async def replay_matching(
        self, query: TaskQuery, *, reason: str, as_of: datetime | None = None
    ) -> int:
        self.actions.append("replay_matching")
        return await super().replay_matching(query, reason=reason, as_of=as_of)

    async def set_gateway_enabled(self, name: str, *, enabled: bool, reason: str) -> GatewayOut:
        self.actions.append("set_gateway_enabled")
        return await super().set_gateway_enabled(name, enabled=enabled, reason=reason)

    async def set_faults(self, name: str, changes: Mapping[str, Any]) -> Mapping[str, Any]:
        self.actions.append("set_faults")
        return await super().set_faults(name, changes)


@pytest.fixture
def console(paycon: RunningPaycon) -> ConsoleFactory:
    """Makes consoles on the running paycon's own facade (a ``RecordingFacade``)."""

    def make(**options: Any) -> PayconConsole:
        options.setdefault("refresh_s", 1.0)
        return PayconConsole(RecordingFacade.for_service(paycon.service, actor=ACTOR), **options)

    return make


def actions_asked(app: PayconConsole) -> list[str]:
    """The actions the console asked its facade for so far, in order."""
    assert isinstance(app.facade, RecordingFacade)
    return list(app.facade.actions)


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
        # A plain sleep lets the console run; Pilot.pause would also force a repaint each time.
        await asyncio.sleep(0.02)


async def until_true(
    pilot: Pilot[None], check: Callable[[], Awaitable[bool]], *, timeout_s: float = 5.0
) -> None:
    """Like ``until`` for a check that reads the service (the facade or the API)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {check}")
        await asyncio.sleep(0.02)


async def actions_finished(pilot: Pilot[None]) -> None:
    """Wait until every action the console started has finished and no dialog is open."""
    app = pilot.app

    def settled() -> bool:
        running = [w for w in app.workers if w.group == "actions" and not w.is_finished]
        return not running and not app.screen.is_modal

    await until(pilot, settled, what="the actions to finish, with no dialog open")


async def filter_by(pilot: Pilot[None], text: str) -> None:
    """Put ``text`` in the list's filter line (``/`` opens it unless it is open) and apply it."""
    line = pilot.app.screen.query_one("#filter", Input)
    if not line.has_focus:  # a filter refused keeps the focus on the line
        await pilot.press("slash")
    assert line.has_focus
    line.value = text  # typed at once: key by key is slow and tests nothing more
    await pilot.press("enter")


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


def cursor_key(app: PayconConsole, selector: str) -> str | None:
    """The key of the row under the cursor of a table on the current screen."""
    return selected_key(app.screen.query_one(selector, DataTable))


def summary(app: PayconConsole) -> str:
    """The line above a list: how many rows are shown, of what, and whether more follow."""
    return str(app.screen.query_one("#summary").render())


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
    """Make tasks dead now, as exhausted attempts would."""
    now = stored_now()
    for task_id in task_ids:
        sql(
            db_path,
            "UPDATE outbox_tasks SET state = 'dead', attempts = max_attempts, updated_at = ?, "
            "last_error = 'GatewayTransient: 502 from gateway' WHERE id = ?",
            now,
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


def database_dump(db_path: Path) -> list[str]:
    """Every row of every table, as SQL: equal dumps mean nothing was changed."""
    with closing(sqlite3.connect(db_path)) as conn:
        return list(conn.iterdump())


def seed_transactions(db_path: Path, rows: int) -> None:
    """``rows`` transactions, newest last, each with a done submit task, in two statements.

    For lists longer than API traffic could make in a test's time.
    """
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute(
            f"""
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {rows} - 1)
            INSERT INTO transactions (id, kind, status, customer_id, amount_minor, currency,
                country, gateway, route, reference, client_id, created_at, updated_at)
            SELECT printf('tx_00SEED%020d', i),
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
            " created_at FROM transactions WHERE client_id = 'seed'"
        )
        conn.execute(
            "INSERT INTO outbox_counters (name, value) VALUES ('done', ?) "
            "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
            (rows,),
        )


def seed_dead_tasks(db_path: Path, count: int, *, gateway: str) -> list[int]:
    """``count`` dead submit tasks bound for ``gateway``, in one statement; ids oldest first.

    For outbox lists longer than API traffic could make in a test's time (the
    transactions they name do not exist).
    """
    with closing(sqlite3.connect(db_path)) as conn, conn:
        [(first,)] = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM outbox_tasks")
        conn.execute(
            """
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
            INSERT INTO outbox_tasks (kind, payload, dedupe_key, state, attempts, max_attempts,
                last_error, run_at, created_at, updated_at, resource)
            SELECT 'submit',
                json_object('transaction_id', printf('tx_seed_%d_%d', ?, i)),
                printf('submit:%s:tx_seed_%d_%d', ?, ?, i), 'dead', 10, 10,
                'GatewayTransient: 502 from gateway', '2026-01-01 00:00:00.000000',
                '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000', ?
            FROM n
            """,
            (count, first, gateway, first, gateway),
        )
        rows = conn.execute("SELECT id FROM outbox_tasks WHERE id >= ? ORDER BY id", (first,))
        return [row[0] for row in rows]
