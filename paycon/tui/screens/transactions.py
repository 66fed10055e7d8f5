"""The transactions list: filtered by status, kind, gateway and customer, or searched by id."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input, Static

from paycon.models.queries import Page
from paycon.models.transactions import TransactionOut
from paycon.tui.context import ConsoleContext
from paycon.tui.filters import (
    FilterError,
    TransactionFilter,
    describe_transaction_filter,
    parse_transaction_filter,
)
from paycon.tui.formatting import HELD_MARK
from paycon.tui.messages import OpenTransaction
from paycon.tui.screens.base import QUIT
from paycon.tui.screens.paged import PagedListScreen
from paycon.tui.widgets.rows import transaction_row, transaction_table
from paycon.tui.widgets.tables import Row, selected_key

FILTER_HINT = (
    "status:failed kind:deposit gateway:gateway_a customer:cus_42 review:held — "
    "or an id / reference"
)


class TransactionsScreen(PagedListScreen[TransactionOut]):
    """Newest first, a page at a time (``n`` for the next); ``/`` to filter or search."""

    MODE = "transactions"
    NOUN = "transactions"
    TABLE_ID = "transactions"
    READ_MAX_ROWS = 200
    HELP = (
        "Every transaction, newest first. Press / and type filters such as "
        "'status:failed gateway:gateway_b customer:cus_42', or an id or merchant "
        "reference to find it; enter applies, an empty line shows all. 'review:held' "
        f"shows only the payments held for review (flagged {HELD_MARK} in every list), "
        "which wait for a person's decision. Enter on a row opens the transaction: its "
        "timeline, the balances it touched and the outbox tasks that carried it; a held "
        "one is resolved there."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter"),
        Binding("n", "more", "More"),
        Binding("enter", "open", "Open", show=False),
        Binding("escape", "leave_filter", "Back to list", show=False),
        QUIT,
    ]
    DEFAULT_CSS = """
    TransactionsScreen #filter { margin: 0 1; }
    TransactionsScreen #summary { margin: 0 1; color: $text-muted; }
    TransactionsScreen #transactions { height: 1fr; }
    """

    def __init__(self, ctx: ConsoleContext) -> None:
        super().__init__(ctx)
        self._filter = TransactionFilter()

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder=FILTER_HINT, id="filter")
        yield Static(id="summary", markup=False)
        yield transaction_table(self.TABLE_ID)

    @on(Input.Submitted, "#filter")
    def apply_filter(self, event: Input.Submitted) -> None:
        event.stop()
        self._apply(event.value)

    def show_filter(self, text: str) -> None:
        """List what the filter line ``text`` chooses, with the line showing it."""
        self.query_one("#filter", Input).value = text
        self._apply(text)

    def _apply(self, text: str) -> None:
        try:
            self._filter = parse_transaction_filter(text)
        except FilterError as exc:
            self.notify(str(exc), title="Filter not applied", severity="error", markup=False)
            return
        self.start_over()

    async def read(self, limit: int, cursor: str | None) -> Page[TransactionOut] | None:
        chosen = self._filter
        if chosen.search is None:
            return await self.attempt(
                self.ctx.facade.transactions(chosen.query, limit=limit, cursor=cursor),
                doing="read transactions",
                loud=False,
            )
        # A search finds a few exact matches: one read, no further pages.
        found = await self.attempt(
            self.ctx.facade.search_transactions(chosen.search, limit=self.PAGE_ROWS),
            doing="search transactions",
            loud=False,
        )
        if found is None:
            return None
        return Page(tuple(t for t in found if chosen.admits(t)), None)

    def row(self, item: TransactionOut, now: datetime) -> Row:
        return transaction_row(item, now)

    def describe(self) -> str:
        text = describe_transaction_filter(self._filter)
        if any(item.review is not None for item in self._shown.values()):
            text += f" · {HELD_MARK} held for review"
        return text

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(OpenTransaction(event.row_key.value))

    def action_open(self) -> None:
        key = selected_key(self.table)
        if key is not None:
            self.post_message(OpenTransaction(key))
