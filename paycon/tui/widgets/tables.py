"""Tables of rows drawn one line of text per row, refilled in place, keeping the operator's place.

Textual's ``DataTable`` renders every cell on its own, through Rich's padding
and styling, and draws them all again after any change. ``RowTable`` lays the
cells of a row out in one ``Text`` (columns as wide as their widest cell,
right-aligned where the cell says so) and hands the ``DataTable`` a single
column, so a redraw renders one cell per row instead of eight, and holds the
event loop the API shares for less time (docs/architecture.md has the figures
measured). Cursor, scrolling, zebra stripes and the row events are the
``DataTable``'s own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.text import Text
from textual import events
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

Row = tuple[str, Sequence[Text]]

GAP = "  "
LINE = "line"


def plain(value: object) -> Text:
    """A cell shown exactly as it is (text from the service is never markup)."""
    return Text(str(value))


class RowTable(DataTable[Text]):
    """A ``DataTable`` of keyed rows under fixed column titles; fill it with ``refill`` and
    ``append``.

    When the rows are wider than the table, whole columns are left out, first
    the one ``drop_order`` names first (column indexes), so a narrow terminal
    shows every row with fewer columns rather than rows cut off mid-column.
    """

    def __init__(
        self,
        *titles: str,
        id: str,
        zebra_stripes: bool = False,
        drop_order: Sequence[int] = (),
    ) -> None:
        super().__init__(cursor_type="row", zebra_stripes=zebra_stripes, id=id)
        self._titles = tuple(Text(title) for title in titles)
        self._cells: dict[str, Sequence[Text]] = {}
        self._drop_order = tuple(drop_order)
        self._laid_out_for = 0
        self.add_column(_line(self._titles, _widths(self._titles, [])), key=LINE)

    @property
    def shown_columns(self) -> tuple[str, ...]:
        """The titles of the columns shown now."""
        widths = _widths(self._titles, self._cells.values())
        return tuple(self._titles[n].plain for n in self._fitting(widths))

    def show(self, rows: Iterable[Row], *, keep: bool) -> None:
        """Show ``rows``: after the ones shown when ``keep`` (skipping keys already there,
        as pages can overlap), or instead of them."""
        if not keep:
            self._cells.clear()
        for key, cells in rows:
            self._cells.setdefault(key, cells)
        self._lay_out()

    def _lay_out(self) -> None:
        widths = _widths(self._titles, self._cells.values())
        shown = self._fitting(widths)
        self._laid_out_for = self.size.width

        def pick(items: Sequence[Any]) -> list[Any]:
            return [items[n] for n in shown]

        self.clear(columns=True)
        self.add_column(_line(pick(self._titles), pick(widths)), key=LINE)
        for key, cells in self._cells.items():
            self.add_row(_line(pick(cells), pick(widths)), key=key)

    def _fitting(self, widths: Sequence[int]) -> list[int]:
        """The columns that fit the table's width, in order (all before it has a size)."""
        shown = list(range(len(widths)))
        # The row's cell padding on both sides and the vertical scrollbar.
        room = self.size.width - 2 * self.cell_padding - self.styles.scrollbar_size_vertical
        if self.size.width <= 0:
            return shown
        drops = [n for n in self._drop_order if n in shown]
        while drops and sum(widths[n] for n in shown) + len(GAP) * (len(shown) - 1) > room:
            shown.remove(drops.pop(0))
        return shown

    def on_resize(self, event: events.Resize) -> None:
        # Lay the rows out again for the new width, keeping the cursor on its row.
        if not self._drop_order or event.size.width == self._laid_out_for:
            return
        kept = selected_key(self)
        self._lay_out()
        if kept is not None:
            self.move_cursor(row=self.get_row_index(kept), animate=False)


def _widths(titles: Sequence[Text], rows: Iterable[Sequence[Text]]) -> list[int]:
    widths = [title.cell_len for title in titles]
    for cells in rows:
        for n, cell in enumerate(cells):
            widths[n] = max(widths[n], cell.cell_len)
    return widths


def _line(cells: Sequence[Text], widths: Sequence[int]) -> Text:
    """The cells side by side, each padded to its column's width (right-aligned if it says so)."""
    line = Text(no_wrap=True, end="")
    for n, (cell, width) in enumerate(zip(cells, widths, strict=True)):
        if n:
            line.append(GAP)
        padding = " " * (width - cell.cell_len)
        if cell.justify == "right":
            line.append(padding)
            line.append_text(cell)
        else:
            line.append_text(cell)
            line.append(padding)
    return line


def selected_key(table: DataTable[Any]) -> str | None:
    """The key of the row under the cursor, or None for an empty table."""
    if table.row_count == 0:
        return None
    row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
    return row_key.value


def refill(table: RowTable, rows: Iterable[Row]) -> None:
    """Replace every row, leaving the cursor on the row it was on, or, when that row is gone
    (a task replayed off the dead list), on the row now in its place."""
    kept = selected_key(table)
    place = table.cursor_row
    table.show(rows, keep=False)
    if kept is None or table.row_count == 0:
        return
    try:
        row = table.get_row_index(kept)
    except RowDoesNotExist:
        row = min(place, table.row_count - 1)
    table.move_cursor(row=row, animate=False)


def append(table: RowTable, rows: Iterable[Row]) -> None:
    """Add rows below the ones shown, skipping any already there (pages can overlap);
    the cursor stays on its row."""
    kept = selected_key(table)
    table.show(rows, keep=True)
    if kept is not None:
        table.move_cursor(row=table.get_row_index(kept), animate=False)
