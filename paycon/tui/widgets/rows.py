"""Transactions and tasks as table rows, shared by the screens that list them."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from paycon.models.outbox import OutboxTaskOut
from paycon.models.transactions import TransactionOut
from paycon.tui import formatting as fmt
from paycon.tui.widgets.tables import Row, RowTable, plain

TRANSACTION_COLUMNS = (
    "Created",
    "ID",
    "Kind",
    "Status",
    "Customer",
    "Amount",
    "Gateway",
    "Reference",
)
# On a narrow terminal, columns are left out in this order (the least needed first).
TRANSACTION_DROP_ORDER = (7, 6, 2, 4, 0)  # Reference, Gateway, Kind, Customer, Created
TASK_COLUMNS = ("ID", "Kind", "State", "Attempts", "Runs", "Updated", "Key", "Last error")


def status_cell(transaction: TransactionOut) -> Text:
    """The status in its colour, flagged (``HELD_MARK``) while the payment is held for
    review."""
    cell = fmt.styled(transaction.status, fmt.STATUS_STYLES)
    if transaction.review is not None:
        cell.append(" ")
        cell.append(fmt.HELD_MARK, style=fmt.HELD_STYLE)
    return cell


def transaction_row(transaction: TransactionOut, now: datetime) -> Row:
    """A transaction as a row keyed by its id, its status in colour (marked while held)."""
    return transaction.id, (
        Text(fmt.age(transaction.created_at, now)),
        plain(transaction.id),
        plain(transaction.kind),
        status_cell(transaction),
        plain(transaction.customer_id),
        Text(fmt.money(transaction.amount, transaction.currency), justify="right"),
        plain(transaction.gateway),
        plain(transaction.reference or fmt.NOTHING),
    )


def runs(task: OutboxTaskOut, now: datetime) -> Text:
    """When a task runs: ``due 3 s ago`` or ``scheduled in 12 s`` while pending, who holds it
    while running."""
    if task.state == "pending":
        moment = fmt.age(task.run_at, now)
        if task.run_at > now and moment != "now":
            return Text(f"scheduled {moment}", style="cyan")
        return Text("due now" if moment == "now" else f"due {moment}")
    if task.state == "running":
        return Text(f"leased by {task.lease_owner or fmt.NOTHING}")
    return Text(fmt.NOTHING, style="dim")


def task_row(task: OutboxTaskOut, now: datetime) -> Row:
    """A task as a row keyed by its id, its state in colour."""
    return str(task.id), (
        Text(str(task.id), justify="right"),
        plain(task.kind),
        fmt.styled(task.state, fmt.TASK_STATE_STYLES),
        Text(f"{task.attempts}/{task.max_attempts}", justify="right"),
        runs(task, now),
        Text(fmt.age(task.updated_at, now)),
        plain(task.dedupe_key or fmt.NOTHING),
        Text(fmt.one_line(task.last_error, 60), style="red" if task.last_error else "dim"),
    )


def task_table(table_id: str) -> RowTable:
    return RowTable(*TASK_COLUMNS, id=table_id, zebra_stripes=True)


def transaction_table(table_id: str) -> RowTable:
    return RowTable(
        *TRANSACTION_COLUMNS,
        id=table_id,
        zebra_stripes=True,
        drop_order=TRANSACTION_DROP_ORDER,
    )
