"""Table helpers: rows refilled in place, keeping the operator's place in the list."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import RenderableType
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

Row = tuple[str, Sequence[RenderableType]]


def plain(value: object) -> Text:
    """A cell shown exactly as it is (text from the service is never markup)."""
    return Text(str(value))


def selected_key(table: DataTable[Any]) -> str | None:
    """The key of the row under the cursor, or None for an empty table."""
    if table.row_count == 0:
        return None
    row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
    return row_key.value


def refill(table: DataTable[Any], rows: Iterable[Row]) -> None:
    """Replace every row, leaving the cursor on the row it was on, or, when that row is gone
    (a task replayed off the dead list), on the row now in its place."""
    kept = selected_key(table)
    place = table.cursor_row
    table.clear()
    append(table, rows)
    if kept is None or table.row_count == 0:
        return
    try:
        row = table.get_row_index(kept)
    except RowDoesNotExist:
        row = min(place, table.row_count - 1)
    table.move_cursor(row=row, animate=False)


def append(table: DataTable[Any], rows: Iterable[Row]) -> None:
    """Add rows below the ones shown, skipping any already there (pages can overlap)."""
    for key, cells in rows:
        if key not in table.rows:
            table.add_row(*cells, key=key)
