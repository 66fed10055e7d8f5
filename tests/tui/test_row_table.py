"""``RowTable``: each row one line of aligned columns, refilled and appended in place."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from paycon.tui.widgets.tables import RowTable, append, plain, refill, selected_key


class OneTable(App[None]):
    def compose(self) -> ComposeResult:
        yield RowTable("ID", "Amount", "Note", id="t")


def amount(text: str) -> Text:
    return Text(text, justify="right")


def lines(table: RowTable) -> list[str]:
    header = str(table.columns[next(iter(table.columns))].label)
    return [header, *(table.get_row(row.key)[0].plain for row in table.ordered_rows)]


async def test_columns_line_up_numbers_to_the_right_and_widen_with_their_content() -> None:
    app = OneTable()
    async with app.run_test() as pilot:
        table = app.query_one(RowTable)
        refill(table, [("a", (plain("a"), amount("5.00"), plain("x"))),
                       ("bb", (plain("bb"), amount("120.00"), plain("yy")))])  # fmt: skip
        await pilot.pause()
        assert lines(table) == [
            "ID  Amount  Note",
            "a     5.00  x   ",
            "bb  120.00  yy  ",
        ]
        append(table, [("ccc", (plain("ccc"), amount("1,000.00"), plain("a longer note")))])
        await pilot.pause()
        assert lines(table) == [
            "ID   Amount    Note         ",
            "a        5.00  x            ",
            "bb     120.00  yy           ",
            "ccc  1,000.00  a longer note",
        ]


async def test_styles_survive_and_text_from_the_service_is_never_markup() -> None:
    app = OneTable()
    async with app.run_test() as pilot:
        table = app.query_one(RowTable)
        refill(table, [("k", (plain("[red]x[/]"), Text("9", style="bold red"), plain("")))])
        await pilot.pause()
        [line] = table.get_row("k")
        assert line.plain.startswith("[red]x[/]")
        assert [(line.plain[s.start : s.end], str(s.style)) for s in line.spans] == [
            ("9", "bold red")
        ]


async def test_refill_keeps_the_cursor_on_its_row_and_append_skips_rows_shown() -> None:
    app = OneTable()
    async with app.run_test() as pilot:
        table = app.query_one(RowTable)
        rows = [(key, (plain(key), amount("1"), plain(""))) for key in ("a", "b", "c")]
        refill(table, rows)
        table.move_cursor(row=1)
        await pilot.pause()
        assert selected_key(table) == "b"
        refill(table, [rows[2], rows[0], rows[1]])
        await pilot.pause()
        assert selected_key(table) == "b"
        assert [row.key.value for row in table.ordered_rows] == ["c", "a", "b"]
        append(table, [rows[0], ("d", (plain("d"), amount("2"), plain("")))])
        await pilot.pause()
        assert [row.key.value for row in table.ordered_rows] == ["c", "a", "b", "d"]
        assert selected_key(table) == "b"
