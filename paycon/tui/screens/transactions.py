"""The transactions list: filtered by status, kind, gateway and customer, or searched by id."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input, Static

from paycon.facade.models import Page, TransactionSummary
from paycon.tui.context import ConsoleContext
from paycon.tui.filters import (
    FilterError,
    TransactionFilter,
    describe_transaction_filter,
    parse_transaction_filter,
)
from paycon.tui.messages import TransactionsFetched
from paycon.tui.screens.base import ConsoleScreen
from paycon.tui.screens.transaction_detail import TransactionDetailScreen
from paycon.tui.widgets.rows import transaction_row, transaction_table
from paycon.tui.widgets.tables import append, refill, selected_key

PAGE_ROWS = 50
# A refresh reads again the rows already shown, up to what one read may ask for.
RELOAD_MAX_ROWS = 200
MAX_ROWS = 1000

FILTER_HINT = "status:failed kind:deposit gateway:gateway_a customer:cus_42 — or an id / reference"


class TransactionsScreen(ConsoleScreen):
    """Newest first, a page at a time (``n`` for the next); ``/`` to filter or search."""

    MODE = "transactions"
    HELP = (
        "Every transaction, newest first. Press / and type filters such as "
        "'status:failed gateway:gateway_b customer:cus_42', or an id or merchant "
        "reference to find it; enter applies, an empty line shows all. Enter on a "
        "row opens the transaction: its timeline, the balances it touched and the "
        "outbox tasks that carried it."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter"),
        Binding("n", "more", "More"),
        Binding("enter", "open", "Open", show=False),
        Binding("escape", "leave_filter", "Back to list", show=False),
    ]
    DEFAULT_CSS = """
    TransactionsScreen #filter { margin: 0 1; }
    TransactionsScreen #summary { margin: 0 1; color: $text-muted; }
    TransactionsScreen #transactions { height: 1fr; }
    """

    def __init__(self, ctx: ConsoleContext) -> None:
        super().__init__(ctx)
        self._filter = TransactionFilter()
        self._next_cursor: str | None = None

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder=FILTER_HINT, id="filter")
        yield Static(id="summary", markup=False)
        yield transaction_table("transactions")

    def on_mount(self) -> None:
        self.query_one("#transactions", DataTable).focus()

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#transactions", DataTable)

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_leave_filter(self) -> None:
        self.table.focus()

    @on(Input.Submitted, "#filter")
    def apply_filter(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            self._filter = parse_transaction_filter(event.value)
        except FilterError as exc:
            self.notify(str(exc), title="Filter not applied", severity="error", markup=False)
            return
        self.table.clear()
        self.table.focus()
        self._load(more=False)

    def action_reload(self) -> None:
        self._load(more=False)

    def action_more(self) -> None:
        if self._next_cursor is None:
            self.notify("No more transactions match.", markup=False)
        elif self.table.row_count >= MAX_ROWS:
            self.notify(f"The first {MAX_ROWS:,} are shown; narrow the filter.", markup=False)
        else:
            self._load(more=True)

    @work(exclusive=True, group="transactions")
    async def _load(self, *, more: bool) -> None:
        chosen = self._filter
        facade = self.ctx.facade
        page: Page[TransactionSummary] | None
        if chosen.search is not None:
            found = await self.attempt(
                facade.search_transactions(chosen.search, limit=PAGE_ROWS),
                doing="search transactions",
                loud=False,
            )
            hits = () if found is None else tuple(t for t in found if chosen.admits(t))
            page = None if found is None else Page(hits, None)
        else:
            rows = min(max(self.table.row_count, PAGE_ROWS), RELOAD_MAX_ROWS)
            page = await self.attempt(
                facade.transactions(
                    chosen.query,
                    limit=PAGE_ROWS if more else rows,
                    cursor=self._next_cursor if more else None,
                ),
                doing="read transactions",
                loud=False,
            )
        if page is not None:
            self.post_message(TransactionsFetched(page, more=more))

    def on_transactions_fetched(self, message: TransactionsFetched) -> None:
        now = self.ctx.now()
        rows = (transaction_row(t, now) for t in message.page.items)
        if message.more:
            append(self.table, rows)
        else:
            refill(self.table, rows)
        self._next_cursor = message.page.next_cursor
        self._show_summary()

    def _show_summary(self) -> None:
        shown = self.table.row_count
        text = Text(f"{shown:,} shown · {describe_transaction_filter(self._filter)}")
        if self._next_cursor is not None:
            text.append(" · n for more", style="bold")
        elif shown == 0:
            text.append(" · nothing matches")
        self.query_one("#summary", Static).update(text)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.app.push_screen(TransactionDetailScreen(self.ctx, event.row_key.value))

    def action_open(self) -> None:
        key = selected_key(self.table)
        if key is not None:
            self.app.push_screen(TransactionDetailScreen(self.ctx, key))
