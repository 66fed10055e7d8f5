"""How a list request is split into reads: never more than a read may ask for, on past short
pages a bounded number of times, and the cursor handed back where the reading stopped."""

from __future__ import annotations

from paycon.models.queries import Page
from paycon.tui.screens.paged import read_rows


class Source:
    """Rows 0..n-1 read newest first; each read looks at ``look`` rows at most and keeps those
    ``keep`` admits (like the server's gateway filter), noting the limits it was asked for."""

    def __init__(self, n: int, *, look: int = 10_000, keep: int = 1) -> None:
        self.rows = list(range(n - 1, -1, -1))
        self.look = look
        self.keep = keep
        self.asked: list[int] = []
        self.fail = False

    async def read(self, limit: int, cursor: str | None) -> Page[int] | None:
        self.asked.append(limit)
        if self.fail:
            return None
        start = int(cursor or 0)
        found: list[int] = []
        position = start
        for position in range(start, min(start + self.look, len(self.rows))):
            if self.rows[position] % self.keep == 0:
                found.append(self.rows[position])
                if len(found) == limit:
                    break
        else:
            position = min(start + self.look, len(self.rows)) - 1
        following = position + 1
        return Page(tuple(found), str(following) if following < len(self.rows) else None)


async def test_rows_beyond_one_read_come_in_reads_no_larger_than_allowed() -> None:
    source = Source(1000)
    page = await read_rows(
        source.read, wanted=600, cursor=None, read_max_rows=500, look_further_reads=0
    )
    assert page is not None
    assert page.items == tuple(range(999, 399, -1))
    assert page.next_cursor == "600"
    assert source.asked == [500, 100]


async def test_reading_stops_at_the_end() -> None:
    source = Source(30)
    page = await read_rows(
        source.read, wanted=50, cursor="10", read_max_rows=50, look_further_reads=3
    )
    assert page == Page(tuple(range(19, -1, -1)), None)
    assert source.asked == [50]


async def test_short_pages_are_followed_a_bounded_number_of_times() -> None:
    # Every 100th row matches and one read looks at 50 rows: most reads come back empty.
    source = Source(1000, look=50, keep=100)
    page = await read_rows(
        source.read, wanted=5, cursor=None, read_max_rows=50, look_further_reads=3
    )
    assert page is not None
    assert page.items == (900, 800)
    assert source.asked == [5, 5, 4, 4]  # one read, then three more looking further
    assert page.next_cursor == "200"  # where the next request goes on


async def test_a_failed_read_gives_nothing() -> None:
    source = Source(100)
    source.fail = True
    page = await read_rows(
        source.read, wanted=5, cursor=None, read_max_rows=50, look_further_reads=3
    )
    assert page is None
