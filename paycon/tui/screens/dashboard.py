"""The dashboard: payments flowing, the outbox's backlog and every gateway's health, live."""

from __future__ import annotations

from collections import deque
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Label, Sparkline, Static

from paycon.models.gateways import GatewayOut
from paycon.models.queries import TransactionQuery
from paycon.tui import formatting as fmt
from paycon.tui.context import ConsoleContext
from paycon.tui.messages import OpenTransaction, OverviewFetched, ShowTransactions
from paycon.tui.screens.base import QUIT
from paycon.tui.screens.live import LiveScreen
from paycon.tui.widgets.cards import gateway_card, held_line, outbox_card, traffic_card
from paycon.tui.widgets.rows import transaction_row, transaction_table
from paycon.tui.widgets.tables import Row, RowTable, refill, selected_key

LIVE_ROWS = 50
# Below this many lines the panels go compact (no borders, no trend line, two lines per
# gateway), so the live list keeps rows to show.
COMPACT_BELOW_LINES = 30
LIVE_HEADING = "Live transactions"
# Backlog samples the trend line keeps: a minute at the default refresh.
TREND_SAMPLES = 60


class DashboardScreen(LiveScreen):
    """Refreshes every ``refresh_s`` while shown; a refresh still running is not started again."""

    MODE = "dashboard"
    HELP = (
        "Live view of the service. The newest transactions, kept on top as they come "
        "in (enter opens one; move the cursor down and it stays on that row while the "
        "heading counts the newer ones above it, home jumps back to the newest), the "
        "outbox by state with the backlog's trend, how many payments are held for review "
        "(red while any are; h lists them), and one panel per gateway with its circuit "
        "breaker, latency, success rate, routing and whether it refuses our credentials."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open transaction", show=False),
        # Before the table's own home (scroll left), which means nothing on one column.
        Binding("home", "newest", "Newest", show=False, priority=True),
        Binding("h", "held", "Held payments"),
        QUIT,
    ]

    DEFAULT_CSS = """
    DashboardScreen #figures { height: auto; }
    DashboardScreen .card {
        border: round $primary-darken-2;
        padding: 0 1;
        height: auto;
        width: 1fr;
    }
    DashboardScreen #traffic-card { height: auto; }
    DashboardScreen #outbox-card { height: auto; width: 2fr; }
    DashboardScreen #backlog { height: 2; margin-top: 1; }
    DashboardScreen #gateways { height: auto; }
    DashboardScreen .heading { margin: 1 1 0 1; text-style: bold; }
    DashboardScreen #live { height: 1fr; }
    DashboardScreen.compact .card { border: none; }
    DashboardScreen.compact #backlog { display: none; }
    DashboardScreen.compact .heading { margin: 0 1; }
    DashboardScreen #ledger-banner {
        display: none; background: $error; color: $text; text-style: bold; padding: 0 1;
    }
    DashboardScreen #ledger-banner.broken { display: block; }
    """

    def __init__(self, ctx: ConsoleContext) -> None:
        super().__init__(ctx)
        self._backlog: deque[float] = deque(maxlen=TREND_SAMPLES)
        # Rows that came in above the operator's row since they moved off the newest one.
        self._newer = 0
        self._gateways: tuple[GatewayOut, ...] = ()

    def compose_body(self) -> ComposeResult:
        yield Static(id="ledger-banner")
        with Horizontal(id="figures"):
            with Vertical(id="traffic-card", classes="card"):
                yield Static(id="traffic")
                yield Static(id="held")
            with Vertical(id="outbox-card", classes="card"):
                yield Static(id="outbox")
                yield Sparkline([], id="backlog", summary_function=max)
        yield Horizontal(id="gateways")
        yield Label(LIVE_HEADING, id="live-heading", classes="heading")
        yield transaction_table("live")

    async def fetch(self) -> None:
        overview = await self.attempt(
            self.ctx.facade.overview(), doing="read the overview", loud=False
        )
        if overview is None:
            return
        page = await self.attempt(
            self.ctx.facade.transactions(TransactionQuery(), limit=LIVE_ROWS),
            doing="read the newest transactions",
            loud=False,
        )
        if page is not None:
            self.post_message(OverviewFetched(overview, page.items))

    def on_overview_fetched(self, message: OverviewFetched) -> None:
        now = self.ctx.now()
        overview = message.overview
        self.query_one("#traffic", Static).update(traffic_card(overview.traffic))
        self.query_one("#held", Static).update(held_line(overview.held_for_review))
        self.query_one("#outbox", Static).update(outbox_card(overview.outbox))
        self._backlog.append(float(overview.outbox.backlog))
        self.query_one("#backlog", Sparkline).data = list(self._backlog)
        self._show_gateways(tuple(overview.gateways))
        self._show_ledger_breaks(overview.ledger_breaks)
        self._show_live([transaction_row(t, now) for t in message.transactions])

    def _show_ledger_breaks(self, breaks: int | None) -> None:
        """A red banner while the service's ledger check finds breaks."""
        banner = self.query_one("#ledger-banner", Static)
        banner.set_class(bool(breaks), "broken")
        if breaks:
            banner.update(
                f"LEDGER: {breaks} broken invariant{'s' if breaks != 1 else ''} — "
                "run `paycon ledger verify` to list them"
            )

    def _show_live(self, rows: list[Row]) -> None:
        """The newest transactions on top, in view, unless the operator moved the cursor off
        the newest row: then it stays on their row, and the heading counts what came in above."""
        table = self.query_one("#live", RowTable)
        following = table.cursor_row <= 0
        before = table.cursor_row
        refill(table, rows)
        if following:
            self._newer = 0
            table.move_cursor(row=0, animate=False)
            table.scroll_home(animate=False, immediate=True)
        else:
            self._newer += max(0, table.cursor_row - before)
        self._show_heading()

    def _show_heading(self) -> None:
        heading = LIVE_HEADING
        if self._newer:
            heading += f" · {fmt.count(self._newer)} newer — home to jump"
        self.query_one("#live-heading", Label).update(heading)

    def action_newest(self) -> None:
        """Back to the newest transaction; the list follows new ones again."""
        table = self.query_one("#live", RowTable)
        table.move_cursor(row=0, animate=False)
        table.scroll_home(animate=False, immediate=True)
        self._newer = 0
        self._show_heading()

    def action_held(self) -> None:
        """The transactions list, showing only the payments held for review."""
        self.post_message(ShowTransactions("review:held"))

    def _show_gateways(self, gateways: tuple[GatewayOut, ...]) -> None:
        self._gateways = gateways
        box = self.query_one("#gateways", Horizontal)
        cards = {card.id: card for card in box.query(Static)}
        now = self.ctx.now()
        compact = self.has_class("compact")
        for gateway in gateways:
            card_id = f"gateway-{gateway.name}"
            card = cards.get(card_id)
            if card is None:
                card = Static(id=card_id, classes="card")
                box.mount(card)
            card.update(gateway_card(gateway, now, compact=compact))

    def on_resize(self, event: events.Resize) -> None:
        compact = event.size.height < COMPACT_BELOW_LINES
        if compact != self.has_class("compact"):
            self.set_class(compact, "compact")
            self._show_gateways(self._gateways)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self._open(event.row_key.value)

    def action_open(self) -> None:
        key = selected_key(self.query_one("#live", DataTable))
        if key is not None:
            self._open(key)

    def _open(self, transaction_id: str) -> None:
        self.post_message(OpenTransaction(transaction_id))
