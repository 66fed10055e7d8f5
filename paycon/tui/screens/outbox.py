"""The outbox: tasks by state and kind, and the actions that put stuck or dead work right."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input, Static, Tab, Tabs

from paycon.facade.models import TaskSummary
from paycon.tui.context import ConsoleContext
from paycon.tui.filters import (
    FilterError,
    TaskFilter,
    describe_task_query,
    parse_task_filter,
)
from paycon.tui.messages import TasksFetched
from paycon.tui.screens.modals import ConfirmScreen
from paycon.tui.screens.task_actions import TaskActionScreen
from paycon.tui.screens.task_detail import TaskDetailScreen
from paycon.tui.widgets.rows import task_row, task_table
from paycon.tui.widgets.tables import append, refill, selected_key

PAGE_ROWS = 50
RELOAD_MAX_ROWS = 500
MAX_ROWS = 1000
# The tabs, in the order operators look: what needs them first.
STATES = ("dead", "pending", "running", "done", "all")
BULK_STATES = ("dead", "pending")
BULK_REPLAY_REASON = "bulk replay from the console"

FILTER_HINT = "kind:submit gateway:gateway_b — or a task id to open it"


class OutboxScreen(TaskActionScreen):
    """Tasks of one state (the tabs), filtered by kind and gateway, newest first."""

    MODE = "outbox"
    HELP = (
        "Outbox tasks by state: dead (out of attempts, or a permanent error), pending "
        "(due, or scheduled for later), running (leased by a worker), done. [ and ] "
        "switch state; / filters by kind and gateway ('kind:submit gateway:gateway_b') "
        "or opens a task by its id. r replays the selected task: a dead one runs again "
        "with fresh attempts, a scheduled one runs now. x discards a dead task (asks "
        "why). R replays every task the tab and filter match, after saying how many."
    )
    CHANGES: ClassVar[frozenset[str]] = frozenset({"replay", "discard", "replay_matching"})
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left_square_bracket", "state(-1)", "Previous state", show=False),
        Binding("right_square_bracket", "state(1)", "State", key_display="[ ]"),
        Binding("slash", "filter", "Filter"),
        Binding("r", "replay", "Replay/run now"),
        Binding("x", "discard", "Discard…"),
        Binding("R", "replay_matching", "Replay all…", key_display="R"),
        Binding("n", "more", "More"),
        Binding("enter", "open", "Open", show=False),
        Binding("escape", "leave_filter", "Back to list", show=False),
    ]
    DEFAULT_CSS = """
    OutboxScreen #filter { margin: 0 1; }
    OutboxScreen #summary { margin: 0 1; color: $text-muted; }
    OutboxScreen #tasks { height: 1fr; }
    """

    def __init__(self, ctx: ConsoleContext) -> None:
        super().__init__(ctx)
        self._state = STATES[0]
        self._filter = TaskFilter()
        self._next_cursor: str | None = None
        self._shown: dict[str, TaskSummary] = {}

    def compose_body(self) -> ComposeResult:
        yield Tabs(*(Tab(state.capitalize(), id=state) for state in STATES), id="states")
        yield Input(placeholder=FILTER_HINT, id="filter")
        yield Static(id="summary", markup=False)
        yield task_table("tasks")

    def on_mount(self) -> None:
        self.table.focus()

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#tasks", DataTable)

    @property
    def state(self) -> str | None:
        """The state the list shows; None for every state."""
        return None if self._state == "all" else self._state

    def show_state(self, state: str) -> None:
        """Switch to the tab of ``state`` (one of ``STATES``)."""
        self.query_one("#states", Tabs).active = state

    # Choosing what to list.

    def action_state(self, step: int) -> None:
        position = (STATES.index(self._state) + step) % len(STATES)
        self.show_state(STATES[position])

    @on(Tabs.TabActivated, "#states")
    def state_chosen(self, event: Tabs.TabActivated) -> None:
        event.stop()
        chosen = event.tab.id or STATES[0]
        if chosen == self._state and self._shown:
            return
        self._state = chosen
        self.table.clear()
        self._shown.clear()
        self.table.focus()
        self._load(more=False)

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_leave_filter(self) -> None:
        self.table.focus()

    @on(Input.Submitted, "#filter")
    def apply_filter(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            chosen = parse_task_filter(event.value)
        except FilterError as exc:
            self.notify(str(exc), title="Filter not applied", severity="error", markup=False)
            return
        if chosen.task_id is not None:
            self.query_one("#filter", Input).value = ""
            self.table.focus()
            self.app.push_screen(TaskDetailScreen(self.ctx, chosen.task_id))
            return
        self._filter = chosen
        self.table.clear()
        self._shown.clear()
        self.table.focus()
        self._load(more=False)

    # Reading.

    def action_reload(self) -> None:
        self._load(more=False)

    def action_more(self) -> None:
        if self._next_cursor is None:
            self.notify("No more tasks match.", markup=False)
        elif self.table.row_count >= MAX_ROWS:
            self.notify(f"The first {MAX_ROWS:,} are shown; narrow the filter.", markup=False)
        else:
            self._load(more=True)

    @work(exclusive=True, group="outbox")
    async def _load(self, *, more: bool) -> None:
        rows = min(max(self.table.row_count, PAGE_ROWS), RELOAD_MAX_ROWS)
        page = await self.attempt(
            self.ctx.facade.tasks(
                self._filter.query(self.state),
                limit=PAGE_ROWS if more else rows,
                cursor=self._next_cursor if more else None,
            ),
            doing="read outbox tasks",
            loud=False,
        )
        if page is not None:
            self.post_message(TasksFetched(page, more=more))

    def on_tasks_fetched(self, message: TasksFetched) -> None:
        now = self.ctx.now()
        if not message.more:
            self._shown.clear()
        self._shown.update((str(t.id), t) for t in message.page.items)
        rows = (task_row(t, now) for t in message.page.items)
        if message.more:
            append(self.table, rows)
        else:
            refill(self.table, rows)
        self._next_cursor = message.page.next_cursor
        self._show_summary()
        self.update_bindings()

    def _show_summary(self) -> None:
        shown = self.table.row_count
        text = Text(f"{shown:,} shown · {describe_task_query(self._filter.query(self.state))}")
        if self._next_cursor is not None:
            text.append(" · n for more", style="bold")
        elif shown == 0:
            text.append(" · nothing matches")
        self.query_one("#summary", Static).update(text)

    # Acting on the selected task, or on everything that matches.

    def selected_task(self) -> TaskSummary | None:
        key = selected_key(self.table)
        return None if key is None else self._shown.get(key)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.update_bindings()

    def binding_basis(self) -> object:
        task = self.selected_task()
        return self._state, None if task is None else task.state

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not allowed:
            return allowed
        if action == "replay_matching":
            return True if self._state in BULK_STATES else None
        if action in ("replay", "discard"):
            return self.task_action_allowed(action, self.selected_task())
        return True

    def action_replay(self) -> None:
        task = self.selected_task()
        if task is not None:
            self.replay_task(task.id)

    def action_discard(self) -> None:
        task = self.selected_task()
        if task is not None:
            self.discard_task(task.id)

    def action_replay_matching(self) -> None:
        if self.ctx.read_only:
            return
        self._replay_matching()

    @work(group="actions")
    async def _replay_matching(self) -> None:
        query = self._filter.query(self.state)
        what = describe_task_query(query)
        count = await self.attempt(self.ctx.facade.count_matching(query), doing=f"count {what}")
        if count is None:
            return
        if count == 0:
            self.notify(f"No {what} to replay.", markup=False)
            return
        noun = "task" if count == 1 else "tasks"
        confirmed = await self.app.push_screen_wait(
            ConfirmScreen(
                "Replay the filtered tasks",
                f"Replay {count:,} {what}? Each runs again now, dead ones with fresh "
                f"attempts. Press y to replay, n to cancel.",
                yes=f"Replay {count:,} {noun}",
            )
        )
        if not confirmed:
            return
        replayed = await self.attempt(
            self.ctx.facade.replay_matching(query, reason=BULK_REPLAY_REASON),
            doing=f"replay {what}",
        )
        if replayed is not None:
            self.notify(f"Replayed {replayed:,} {what}.", markup=False)
        if self.is_attached:
            self.action_reload()

    def after_task_action(self) -> None:
        self.action_reload()

    # Opening a task.

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.app.push_screen(TaskDetailScreen(self.ctx, int(event.row_key.value)))

    def action_open(self) -> None:
        key = selected_key(self.table)
        if key is not None:
            self.app.push_screen(TaskDetailScreen(self.ctx, int(key)))
