"""One transaction: its fields, timeline, the balances it touched and the tasks that carried it."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Label, Static

from paycon.domain.errors import Conflict, InvalidInput
from paycon.models.queries import TransactionDetail
from paycon.models.transactions import EventOut
from paycon.tui import formatting as fmt
from paycon.tui.context import ConsoleContext
from paycon.tui.messages import OpenTask, TransactionFetched
from paycon.tui.screens.base import ConsoleScreen
from paycon.tui.screens.resolve import ResolveScreen, review_reason
from paycon.tui.widgets.rows import status_cell, task_row, task_table
from paycon.tui.widgets.tables import RowTable, plain, refill, selected_key


def transaction_facts(detail: TransactionDetail) -> Table:
    """The transaction's fields as a two-column grid."""
    transaction = detail.transaction
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    grid.add_column(style="dim")
    grid.add_column()
    status = status_cell(transaction)
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


HELD_EVENT = "held_for_review"


def held_text(detail: TransactionDetail, now: datetime) -> Text:
    """Why the payment is held, since when, what the gateway last said, and every hold on
    its timeline; empty when it is not held."""
    review = detail.transaction.review
    if review is None:
        return Text()
    text = Text()
    text.append("Held for review", style=fmt.HELD_STYLE)
    text.append(f"  since {fmt.clock(review.since)} ({fmt.age(review.since, now)})", style="bold")
    text.append("\nwhy        ", style="dim")
    text.append(review_reason(review.reason))
    text.append("\nlast said  ", style="dim")
    text.append(review.detail, style="yellow")
    holds = [e for e in detail.events if e.type == HELD_EVENT]
    for number, event in enumerate(holds):
        text.append("\nholds      " if number == 0 else "\n           ", style="dim")
        text.append(f"{fmt.clock(event.at)}  {event.detail}  by {event.actor}")
    return text


def event_cells(event: EventOut) -> tuple[Text, ...]:
    """A timeline entry; holds for review stand out."""
    held = event.type == HELD_EVENT
    return (
        plain(fmt.clock(event.at)),
        Text(event.type, style="bold yellow" if held else ""),
        Text(event.detail, style="yellow" if held else ""),
        plain(event.actor),
    )


class TransactionDetailScreen(ConsoleScreen):
    """Opened from a list; escape goes back. Enter on a task opens the task; ``v`` resolves
    a payment held for review."""

    HELP = (
        "One transaction. The timeline lists every state change with who made it; "
        "'balances touched' lists the ledger lines it wrote; the outbox tasks are "
        "the submits, status checks and notifications that carried it (enter opens one). "
        "A payment held for review says why, since when and what the gateway said last; "
        "v resolves it: choose its outcome (completed or failed — failed on a completed "
        "payment books a reversal) and say why (audited)."
    )
    CHANGES: ClassVar[frozenset[str]] = frozenset({"resolve"})
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("v", "resolve", "Resolve…"),
        Binding("enter", "open_task", "Open task", show=False),
    ]
    DEFAULT_CSS = """
    TransactionDetailScreen #facts { margin: 0 1; height: auto; }
    TransactionDetailScreen #review { margin: 1 1 0 1; height: auto; display: none; }
    TransactionDetailScreen .heading { margin: 1 1 0 1; text-style: bold; }
    TransactionDetailScreen DataTable { height: auto; max-height: 12; margin: 0 1; }
    """

    def __init__(self, ctx: ConsoleContext, transaction_id: str) -> None:
        super().__init__(ctx)
        self.transaction_id = transaction_id
        self._shown: TransactionDetail | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text(f"Transaction {self.transaction_id}"), id="facts")
            yield Static(id="review")
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
        detail = self._shown = message.detail
        now = self.ctx.now()
        self.query_one("#facts", Static).update(transaction_facts(detail))
        review = self.query_one("#review", Static)
        review.update(held_text(detail, now))
        review.display = detail.transaction.review is not None
        refill(
            self.query_one("#events", RowTable),
            ((str(n), event_cells(e)) for n, e in enumerate(detail.events)),
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
        self.update_bindings()

    # Resolving a held payment.

    def held(self) -> bool:
        """Whether the payment, as last read, is held for review."""
        return self._shown is not None and self._shown.transaction.review is not None

    def binding_basis(self) -> object:
        return self.held()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not allowed:
            return allowed
        if action == "resolve":
            return True if self.held() else None
        return True

    def action_resolve(self) -> None:
        if self.held() and not self.ctx.read_only:
            self._resolve()

    @work(group="actions")
    async def _resolve(self) -> None:
        assert self._shown is not None
        answer = await self.app.push_screen_wait(ResolveScreen(self._shown.transaction))
        if answer is None:
            return
        outcome, reason = answer
        detail = await self.attempt(
            self._resolve_call(outcome, reason), doing=f"resolve {self.transaction_id}"
        )
        if detail is not None:
            self.notify(
                f"Transaction {self.transaction_id} resolved as {outcome}: it is "
                f"{detail.transaction.status} now.",
                title="Resolved",
                markup=False,
            )
        if self.is_attached:
            # Read it again rather than show the answer: a read started when the dialog
            # closed may end after it, and must not leave the payment shown as held.
            self._load()

    async def _resolve_call(self, outcome: str, reason: str) -> TransactionDetail | None:
        """The facade's resolve; a refusal is told in the operator's terms (None)."""
        try:
            return await self.ctx.facade.resolve(self.transaction_id, status=outcome, reason=reason)
        except Conflict as exc:
            self.notify(
                f"{exc.detail}. Either it was resolved already (a second resolve is refused) "
                "or the decision cannot be booked; nothing was changed.",
                title="Not resolved",
                severity="error",
                markup=False,
                timeout=15,
            )
        except InvalidInput as exc:
            fields = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
            self.notify(
                f"{exc.detail}{f' ({fields})' if fields else ''}. Nothing was changed.",
                title="Not resolved: invalid input",
                severity="error",
                markup=False,
                timeout=15,
            )
        return None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.data_table.id == "tasks" and event.row_key.value is not None:
            self._open_task(int(event.row_key.value))

    def action_open_task(self) -> None:
        key = selected_key(self.query_one("#tasks", DataTable))
        if key is not None:
            self._open_task(int(key))

    def _open_task(self, task_id: int) -> None:
        self.post_message(OpenTask(task_id))
