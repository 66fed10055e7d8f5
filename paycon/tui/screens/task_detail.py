"""One outbox task: its payload (masked), every attempt, its last error and its audit trail."""

from __future__ import annotations

import json
from datetime import datetime
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Label, Static

from paycon.models.outbox import OutboxAttemptOut, OutboxTaskDetailOut, OutboxTaskOut
from paycon.tui import formatting as fmt
from paycon.tui.context import ConsoleContext
from paycon.tui.messages import OpenTransaction, TaskFetched
from paycon.tui.screens.task_actions import TaskActionScreen
from paycon.tui.widgets.rows import runs
from paycon.tui.widgets.tables import RowTable, plain, refill

OUTCOME_STYLES = {"done": "green", "retry": "yellow", "defer": "cyan", "dead": "bold red"}


def task_facts(task: OutboxTaskOut, now: datetime) -> Table:
    """The task's fields as a two-column grid."""
    grid = Table.grid(padding=(0, 2))
    for style in ("dim", "", "dim", ""):
        grid.add_column(style=style)
    rows = [
        ("id", plain(task.id), "state", fmt.styled(task.state, fmt.TASK_STATE_STYLES)),
        ("kind", plain(task.kind), "attempts", plain(f"{task.attempts}/{task.max_attempts}")),
        ("runs", runs(task, now), "run at", plain(fmt.clock(task.run_at))),
        (
            "key",
            plain(task.dedupe_key or fmt.NOTHING),
            "lease",
            plain(task.lease_owner or fmt.NOTHING),
        ),
        (
            "created",
            plain(fmt.clock(task.created_at)),
            "updated",
            plain(fmt.clock(task.updated_at)),
        ),
    ]
    for row in rows:
        grid.add_row(*row)
    return grid


def attempt_cells(attempt: OutboxAttemptOut) -> tuple[Text, ...]:
    error = ": ".join(part for part in (attempt.error_class, attempt.error_message) if part)
    duration = fmt.NOTHING if attempt.duration_ms is None else f"{attempt.duration_ms:,} ms"
    outcome = attempt.outcome or "unfinished"
    return (
        Text(str(attempt.number), justify="right"),
        plain(fmt.clock(attempt.started_at)),
        Text(outcome, style=OUTCOME_STYLES.get(outcome, "yellow")),
        Text(duration, justify="right"),
        Text(fmt.one_line(error or None, 100), style="red" if error else "dim"),
    )


class TaskDetailScreen(TaskActionScreen):
    """Opened from a list or a transaction; escape goes back."""

    HELP = (
        "One outbox task: its payload (account data masked), every attempt with its "
        "outcome, error and duration, the last error, and the audit trail of operator "
        "actions. r replays it (dead: fresh attempts; scheduled: runs now), x discards "
        "a dead task (asks why), t opens the transaction it carries."
    )
    CHANGES: ClassVar[frozenset[str]] = frozenset({"replay", "discard"})
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("r", "replay", "Replay/run now"),
        Binding("x", "discard", "Discard…"),
        Binding("t", "open_transaction", "Transaction"),
    ]
    DEFAULT_CSS = """
    TaskDetailScreen #facts, TaskDetailScreen #last-error, TaskDetailScreen #payload {
        margin: 0 1;
        height: auto;
    }
    TaskDetailScreen .heading { margin: 1 1 0 1; text-style: bold; }
    TaskDetailScreen DataTable { height: auto; max-height: 14; margin: 0 1; }
    """

    def __init__(self, ctx: ConsoleContext, task_id: int) -> None:
        super().__init__(ctx)
        self.task_id = task_id
        self._shown_task: OutboxTaskOut | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text(f"Task {self.task_id}"), id="facts")
            yield Label("Last error", classes="heading")
            yield Static(id="last-error", markup=False)
            yield Label("Payload (masked)", classes="heading")
            yield Static(id="payload", markup=False)
            yield Label("Attempts", classes="heading")
            yield RowTable("#", "Started", "Outcome", "Took", "Error", id="attempts")
            yield Label("Audit", classes="heading")
            yield RowTable("At", "Actor", "Action", "Reason", "Detail", id="audit")

    def on_mount(self) -> None:
        self.sub_title = f"task {self.task_id}"

    def action_back(self) -> None:
        self.dismiss()

    def action_reload(self) -> None:
        self._load()

    @work(exclusive=True, group="task")
    async def _load(self) -> None:
        detail = await self.attempt(
            self.ctx.facade.task(self.task_id), doing=f"read task {self.task_id}", loud=False
        )
        if detail is not None:
            self.post_message(TaskFetched(detail))

    def on_task_fetched(self, message: TaskFetched) -> None:
        detail: OutboxTaskDetailOut = message.detail
        task = self._shown_task = detail
        self.query_one("#facts", Static).update(task_facts(task, self.ctx.now()))
        error = Text(task.last_error or fmt.NOTHING, style="red" if task.last_error else "dim")
        self.query_one("#last-error", Static).update(error)
        payload = json.dumps(dict(task.payload), indent=2, sort_keys=True, default=str)
        self.query_one("#payload", Static).update(Text(payload))
        refill(
            self.query_one("#attempts", RowTable),
            ((str(a.number), attempt_cells(a)) for a in detail.attempts_log),
        )
        refill(
            self.query_one("#audit", RowTable),
            (
                (
                    str(n),
                    (
                        plain(fmt.clock(e.at)),
                        plain(e.actor),
                        plain(e.action),
                        plain(e.reason or fmt.NOTHING),
                        plain(e.detail or fmt.NOTHING),
                    ),
                )
                for n, e in enumerate(detail.audit)
            ),
        )
        self.update_bindings()

    def binding_basis(self) -> object:
        task = self._shown_task
        return None if task is None else (task.state, self._transaction_id())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not allowed:
            return allowed
        if action in ("replay", "discard"):
            return self.task_action_allowed(action, self._shown_task)
        if action == "open_transaction":
            return True if self._transaction_id() is not None else None
        return True

    def action_replay(self) -> None:
        self.replay_task(self.task_id)

    def action_discard(self) -> None:
        self.discard_task(self.task_id)

    def after_task_action(self) -> None:
        self._load()

    def _transaction_id(self) -> str | None:
        if self._shown_task is None:
            return None
        value = self._shown_task.payload.get("transaction_id")
        return value if isinstance(value, str) else None

    def action_open_transaction(self) -> None:
        transaction_id = self._transaction_id()
        if transaction_id is None:
            return
        self.post_message(OpenTransaction(transaction_id))
