"""Lists read a page at a time, newest first: the transactions and the outbox tasks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import ClassVar, Generic, TypeVar

from rich.text import Text
from textual import work
from textual.widgets import Input, Static

from paycon.models.queries import Page
from paycon.tui.context import ConsoleContext
from paycon.tui.messages import PageFetched
from paycon.tui.screens.base import ConsoleScreen
from paycon.tui.widgets.tables import Row, RowTable, append, refill, selected_key

T = TypeVar("T")

ReadPage = Callable[[int, str | None], Awaitable[Page[T] | None]]


async def read_rows(
    read: ReadPage[T],
    *,
    wanted: int,
    cursor: str | None,
    read_max_rows: int,
    look_further_reads: int,
) -> Page[T] | None:
    """Up to ``wanted`` rows from ``cursor`` on, in reads of at most ``read_max_rows``.

    A read can bring fewer rows than it asked for and still a next cursor (a
    filter the server checks over a bounded stretch of its index); reading
    goes on from that cursor, at most ``look_further_reads`` reads beyond the
    ones ``wanted`` needs. The answer's cursor is where the next request goes
    on (None: nothing more). None when a read failed (``read`` reported why).
    """
    items: list[T] = []
    reads_left = -(-wanted // read_max_rows) + look_further_reads
    while reads_left > 0:
        page = await read(min(wanted - len(items), read_max_rows), cursor)
        if page is None:
            return None
        items += page.items
        cursor = page.next_cursor
        reads_left -= 1
        if cursor is None or len(items) >= wanted:
            break
    return Page(tuple(items), cursor)


class PagedListScreen(ConsoleScreen, Generic[T]):
    """A table newest first, ``PAGE_ROWS`` at a time (``n`` for more), under a filter line.

    A refresh reads again as many rows as are shown, page by page, so rows
    reached by paging stay, and so does the cursor. At most ``MAX_ROWS`` are
    shown. Screens say how a page is read (``read``), drawn (``row``) and what
    the list holds in words (``describe``).
    """

    NOUN: ClassVar[str] = "rows"
    TABLE_ID: ClassVar[str] = "rows"
    PAGE_ROWS: ClassVar[int] = 50
    # The most one read may ask for (the operator API's limit for the list).
    READ_MAX_ROWS: ClassVar[int] = 50
    MAX_ROWS: ClassVar[int] = 1000
    # Reads that follow a short page with a next cursor before the operator is told.
    LOOK_FURTHER_READS: ClassVar[int] = 3

    def __init__(self, ctx: ConsoleContext) -> None:
        super().__init__(ctx)
        self._next_cursor: str | None = None
        # The last read came back with fewer rows than asked for, yet not at the end.
        self._short = False
        self._shown: dict[str, T] = {}

    def on_mount(self) -> None:
        self.table.focus()

    @property
    def table(self) -> RowTable:
        return self.query_one(f"#{self.TABLE_ID}", RowTable)

    async def read(self, limit: int, cursor: str | None) -> Page[T] | None:
        """One page of the list as chosen now; None when the read failed (it was reported)."""
        raise NotImplementedError

    def row(self, item: T, now: datetime) -> Row:
        """``item`` as a table row, keyed."""
        raise NotImplementedError

    def describe(self) -> str:
        """What the list holds, in words (``dead tasks for gateway_b``)."""
        raise NotImplementedError

    def selected_item(self) -> T | None:
        """The item under the cursor, as last read."""
        key = selected_key(self.table)
        return None if key is None else self._shown.get(key)

    # The filter line.

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_leave_filter(self) -> None:
        self.table.focus()

    def start_over(self) -> None:
        """Empty the list and read its first page (what it shows was chosen anew)."""
        self.table.clear()
        self._shown.clear()
        self.table.focus()
        self._load(more=False)

    # Reading.

    def action_reload(self) -> None:
        self._load(more=False)

    def action_more(self) -> None:
        if self._next_cursor is None:
            self.notify(f"No more {self.NOUN} match.", markup=False)
        elif self.table.row_count >= self.MAX_ROWS:
            self.notify(f"The first {self.MAX_ROWS:,} are shown; narrow the filter.", markup=False)
        else:
            self._load(more=True)

    @work(exclusive=True, group="list")
    async def _load(self, *, more: bool) -> None:
        shown = self.table.row_count
        if more:
            wanted = min(self.PAGE_ROWS, self.MAX_ROWS - shown)
        else:
            wanted = min(max(shown, self.PAGE_ROWS), self.MAX_ROWS)
        page = await read_rows(
            self.read,
            wanted=wanted,
            cursor=self._next_cursor if more else None,
            read_max_rows=self.READ_MAX_ROWS,
            look_further_reads=self.LOOK_FURTHER_READS,
        )
        if page is not None:
            self.post_message(PageFetched(page, more=more, wanted=wanted))

    def on_page_fetched(self, message: PageFetched) -> None:
        now = self.ctx.now()
        items: Iterable[T] = message.page.items
        rows = [(self.row(item, now), item) for item in items]
        if not message.more:
            self._shown.clear()
        self._shown.update((key, item) for (key, _), item in rows)
        if message.more:
            append(self.table, (row for row, _ in rows))
        else:
            refill(self.table, (row for row, _ in rows))
        self._next_cursor = message.page.next_cursor
        self._short = self._next_cursor is not None and len(rows) < message.wanted
        self._show_summary()
        self.update_bindings()

    def _show_summary(self) -> None:
        shown = self.table.row_count
        text = Text(f"{shown:,} shown · {self.describe()}")
        if self._next_cursor is None:
            if shown == 0:
                text.append(" · nothing matches")
        elif self._short:
            # Only part of the index was looked at: an empty page is not the end.
            text.append(" · more may follow: n looks further back", style="bold")
        else:
            text.append(" · n for more", style="bold")
        self.query_one("#summary", Static).update(text)
