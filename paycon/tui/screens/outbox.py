"""The outbox: tasks by state and kind, and the actions that put stuck or dead work right."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input, Static, Tab, Tabs

from paycon.models.outbox import OutboxTaskOut
from paycon.models.queries import Page
from paycon.tui.context import ConsoleContext
from paycon.tui.filters import (
    FilterError,
    TaskFilter,
    describe_task_query,
    parse_task_filter,
)
from paycon.tui.messages import OpenTask
from paycon.tui.screens.base import QUIT
from paycon.tui.screens.modals import AskScreen
from paycon.tui.screens.paged import PagedListScreen
from paycon.tui.screens.task_actions import TaskActionScreen
from paycon.tui.widgets.rows import task_row, task_table
from paycon.tui.widgets.tables import Row, selected_key

# The tabs, in the order operators look: what needs them first.
STATES = ("dead", "pending", "running", "done", "all")
BULK_STATES = ("dead", "pending")

FILTER_HINT = "kind:submit gateway:gateway_b — or a task id to open it"


class OutboxScreen(PagedListScreen[OutboxTaskOut], TaskActionScreen):
    """Tasks of one state (the tabs), filtered by kind and gateway, newest first."""

    MODE = "outbox"
    NOUN = "tasks"
    TABLE_ID = "tasks"
    READ_MAX_ROWS = 500
    HELP = (
        "Outbox tasks by state: dead (out of attempts, or a permanent error), pending "
        "(due, or scheduled for later), running (leased by a worker), done. [ and ] "
        "switch state; / filters by kind and gateway ('kind:submit gateway:gateway_b') "
        "or opens a task by its id. r replays the selected task: a dead one runs again "
        "with fresh attempts, a scheduled one runs now. x discards a dead task (asks "
        "why). R replays every task the tab and filter match, after saying how many "
        "and asking why."
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
        QUIT,
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

    def compose_body(self) -> ComposeResult:
        yield Tabs(*(Tab(state.capitalize(), id=state) for state in STATES), id="states")
        yield Input(placeholder=FILTER_HINT, id="filter")
        yield Static(id="summary", markup=False)
        yield task_table(self.TABLE_ID)

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
        self.start_over()

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
            self.post_message(OpenTask(chosen.task_id))
            return
        self._filter = chosen
        self.start_over()

    # Reading.

    async def read(self, limit: int, cursor: str | None) -> Page[OutboxTaskOut] | None:
        return await self.attempt(
            self.ctx.facade.tasks(self._filter.query(self.state), limit=limit, cursor=cursor),
            doing="read outbox tasks",
            loud=False,
        )

    def row(self, item: OutboxTaskOut, now: datetime) -> Row:
        return task_row(item, now)

    def describe(self) -> str:
        return describe_task_query(self._filter.query(self.state))

    # Acting on the selected task, or on everything that matches.

    def selected_task(self) -> OutboxTaskOut | None:
        """The task under the cursor, as last read."""
        return self.selected_item()

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
        matching = await self.attempt(self.ctx.facade.count_matching(query), doing=f"count {what}")
        if matching is None:
            return
        count = matching.matching
        if count == 0:
            self.notify(f"No {what} to replay.", markup=False)
            return
        noun = "task" if count == 1 else "tasks"
        # Enter alone cannot start it: the dialog takes no blank reason.
        reason = await self.app.push_screen_wait(
            AskScreen(
                "Replay the filtered tasks",
                f"Replay {count:,} {what}? Each runs again now, dead ones with fresh "
                "attempts. Why? The reason goes into each task's audit trail; esc cancels.",
                placeholder="for example: gateway_b is back, ticket OPS-123",
                ok=f"Replay {count:,} {noun}",
            )
        )
        if reason is None:
            return
        replayed = await self.attempt(
            # Bound to the count: tasks that died since the dialog opened are left alone.
            self.ctx.facade.replay_matching(query, reason=reason, as_of=matching.as_of),
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
            self.post_message(OpenTask(int(event.row_key.value)))

    def action_open(self) -> None:
        key = selected_key(self.table)
        if key is not None:
            self.post_message(OpenTask(int(key)))
