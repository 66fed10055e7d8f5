"""One transaction: its fields, timeline, the balances it touched and the tasks that carried it."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Label, Static

from paycon.facade.models import TransactionDetail
from paycon.tui import formatting as fmt
from paycon.tui.context import ConsoleContext
from paycon.tui.messages import TransactionFetched
from paycon.tui.screens.base import ConsoleScreen
from paycon.tui.screens.task_detail import TaskDetailScreen
from paycon.tui.widgets.rows import task_row, task_table
from paycon.tui.widgets.tables import RowTable, plain, refill, selected_key


def transaction_facts(detail: TransactionDetail) -> Table:
    """The transaction's fields as a two-column grid."""
    transaction = detail.transaction
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    grid.add_column(style="dim")
    grid.add_column()
    status = fmt.styled(transaction.status, fmt.STATUS_STYLES)
    rows = [
        ("id", plain(transaction.id), "status", status),
        (
            "kind",
            plain(transaction.kind),
            "amount",
            plain(fmt.money(transaction.amount, transaction.currency)),
        ),
        ("customer", plain(transaction.customer_id), "country", plain(transaction.country)),
        (
            "gateway",
            plain(transaction.gateway),
            "reference",
            plain(transaction.reference or fmt.NOTHING),
        ),
        (
            "created",
            plain(fmt.clock(transaction.created_at)),
            "updated",
            plain(fmt.clock(transaction.updated_at)),
        ),
    ]
    for row in rows:
        grid.add_row(*row)
    if transaction.failure_reason:
        grid.add_row("failure", Text(transaction.failure_reason, style="red"), "", "")
    return grid


class TransactionDetailScreen(ConsoleScreen):
    """Opened from a list; escape goes back. Enter on a task opens the task."""

    HELP = (
        "One transaction. The timeline lists every state change with who made it; "
        "'balances touched' lists the ledger lines it wrote; the outbox tasks are "
        "the submits, status checks and notifications that carried it (enter opens one)."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("enter", "open_task", "Open task", show=False),
    ]
    DEFAULT_CSS = """
    TransactionDetailScreen #facts { margin: 0 1; height: auto; }
    TransactionDetailScreen .heading { margin: 1 1 0 1; text-style: bold; }
    TransactionDetailScreen DataTable { height: auto; max-height: 12; margin: 0 1; }
    """

    def __init__(self, ctx: ConsoleContext, transaction_id: str) -> None:
        super().__init__(ctx)
        self.transaction_id = transaction_id

    def compose_body(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text(f"Transaction {self.transaction_id}"), id="facts")
            yield Label("Timeline", classes="heading")
            yield RowTable("At", "Event", "Detail", "Actor", id="events")
            yield Label("Balances touched", classes="heading")
            yield RowTable("At", "Customer", "Bucket", "Change", "Reason", id="ledger")
            yield Label("Outbox tasks", classes="heading")
            yield task_table("tasks")

    def on_mount(self) -> None:
        self.sub_title = f"transaction {self.transaction_id}"
        self.query_one("#tasks", DataTable).focus()

    def action_back(self) -> None:
        self.dismiss()

    def action_reload(self) -> None:
        self._load()

    @work(exclusive=True, group="transaction")
    async def _load(self) -> None:
        detail = await self.attempt(
            self.ctx.facade.transaction(self.transaction_id),
            doing=f"read transaction {self.transaction_id}",
            loud=False,
        )
        if detail is not None:
            self.post_message(TransactionFetched(detail))

    def on_transaction_fetched(self, message: TransactionFetched) -> None:
        detail = message.detail
        now = self.ctx.now()
        self.query_one("#facts", Static).update(transaction_facts(detail))
        refill(
            self.query_one("#events", RowTable),
            (
                (str(n), (plain(fmt.clock(e.at)), plain(e.type), plain(e.detail), plain(e.actor)))
                for n, e in enumerate(detail.events)
            ),
        )
        refill(
            self.query_one("#ledger", RowTable),
            (
                (
                    str(n),
                    (
                        plain(fmt.clock(line.at)),
                        plain(line.customer_id),
                        plain(line.bucket),
                        Text(
                            fmt.signed_money(line.delta, line.currency),
                            style="green" if line.delta > 0 else "red",
                            justify="right",
                        ),
                        plain(line.reason),
                    ),
                )
                for n, line in enumerate(detail.ledger)
            ),
        )
        refill(self.query_one("#tasks", RowTable), (task_row(t, now) for t in detail.tasks))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.data_table.id == "tasks" and event.row_key.value is not None:
            self._open_task(int(event.row_key.value))

    def action_open_task(self) -> None:
        key = selected_key(self.query_one("#tasks", DataTable))
        if key is not None:
            self._open_task(int(key))

    def _open_task(self, task_id: int) -> None:
        self.app.push_screen(TaskDetailScreen(self.ctx, task_id))
