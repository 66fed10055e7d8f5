"""Reconciliation: each gateway's latest run against its settlement report, the open breaks
with what each side says, and resolving them from here."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from datetime import datetime
from typing import ClassVar, TypeVar

from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static

from paycon.domain.errors import Conflict, InvalidInput, PayconError
from paycon.models.reconciliation import ReconciliationBreakOut, ReconciliationRunOut
from paycon.tui import formatting as fmt
from paycon.tui.context import ConsoleContext
from paycon.tui.messages import OpenTransaction
from paycon.tui.screens.base import QUIT
from paycon.tui.screens.live import LiveScreen
from paycon.tui.screens.modals import AskScreen
from paycon.tui.screens.resolve import ResolveScreen
from paycon.tui.widgets.tables import RowTable, plain, refill, selected_key

# What each kind of break means, and what resolving it does.
BREAK_KINDS = {
    "unknown_transaction": "the report settles a payment paycon does not have; its gross "
    "is in the gateway's suspense account",
    "other_gateway": "paycon holds this payment on another gateway; the gross is in suspense",
    "not_final": "paycon has the payment still in flight; resolving it lets the next run "
    "book the line",
    "status_differs": "paycon failed the payment (or it is of another type) while the report "
    "settles it",
    "reversal": "the report reverses a payment paycon holds as completed; resolving it as "
    "failed books the reversal, the next run its settlement",
    "amount_differs": "the amounts differ: paycon's amount left clearing, the difference is "
    "in suspense",
    "missing_from_report": "paycon completed the payment through the gateway; no report "
    "line settles it",
}
NO_PAYMENT = "unknown_transaction"
T = TypeVar("T")


class ReconciliationFetched(Message):
    """The latest runs and the open breaks."""

    def __init__(
        self, runs: tuple[ReconciliationRunOut, ...], breaks: tuple[ReconciliationBreakOut, ...]
    ) -> None:
        super().__init__()
        self.runs = runs
        self.breaks = breaks


def latest_per_gateway(runs: Sequence[ReconciliationRunOut]) -> list[ReconciliationRunOut]:
    """Each gateway's newest run (``runs`` come newest first), by gateway name."""
    latest: dict[str, ReconciliationRunOut] = {}
    for run in runs:
        latest.setdefault(run.gateway, run)
    return [latest[name] for name in sorted(latest)]


def run_cells(run: ReconciliationRunOut, now: datetime) -> tuple[Text, ...]:
    net = ", ".join(fmt.signed_money(t.net, currency) for currency, t in run.totals.items())
    open_style = "bold red" if run.open_breaks else "green"
    return (
        Text(run.gateway, style="bold"),
        plain(run.report_date),
        plain(f"{fmt.age(run.at, now)} ago"),
        Text(fmt.count(run.lines), justify="right"),
        Text(fmt.count(run.matched), justify="right"),
        Text(fmt.count(run.booked), justify="right"),
        Text(fmt.count(run.open_breaks), style=open_style, justify="right"),
        plain(net or fmt.NOTHING),
    )


def break_cells(found: ReconciliationBreakOut) -> tuple[Text, ...]:
    suspense = fmt.money(found.suspense, found.currency) if found.suspense else fmt.NOTHING
    return (
        Text(found.kind, style="bold red"),
        plain(found.gateway),
        plain(found.transaction_id),
        plain(found.type),
        plain(found.value_date),
        Text(suspense, justify="right"),
    )


def break_detail(found: ReconciliationBreakOut) -> Group:
    """What each side says about the break, and what resolving it does."""
    text = Text()
    text.append(f"Break {found.id} — {found.kind}", style="bold")
    text.append(f": {BREAK_KINDS.get(found.kind, '')}\n", style="dim")
    text.append("the report  ", style="bold")
    text.append(f"{found.report_says}\n")
    text.append("paycon      ", style="bold")
    text.append(f"{found.paycon_says}\n")
    if found.suspense:
        text.append("suspense    ", style="bold")
        text.append(f"{fmt.money(found.suspense, found.currency)} (debit positive)\n")
    text.append(
        f"first found by run {found.first_run_id}, last seen by run {found.last_run_id}\n",
        style="dim",
    )
    how = (
        "v marks it resolved, with a reason (audited): no payment of paycon carries it"
        if found.kind == NO_PAYMENT
        else "enter opens the payment; v resolves it there (completed or failed, audited)"
    )
    text.append(how, style="italic")
    return Group(text)


class ReconciliationScreen(LiveScreen):
    """The reconciliation runs and open breaks, refreshed every ``refresh_s`` while shown."""

    MODE = "reconciliation"
    HELP = (
        "Each gateway's latest reconciliation of its settlement report (paycon reconcile, "
        "or the demo every minute): lines, matched, booked by that run, the gateway's open "
        "breaks and the report's net per currency. Below, every open break with what the "
        "report and paycon each say. Enter opens the payment behind a break; v resolves "
        "it: a payment's outcome (completed or failed) through the resolve dialog — the "
        "next run then books the line if it matches — or, for a line no payment of paycon "
        "carries, marks it resolved with a reason. Both are audited."
    )
    CHANGES: ClassVar[frozenset[str]] = frozenset({"resolve"})
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open payment", show=False),
        Binding("v", "resolve", "Resolve…"),
        QUIT,
    ]
    DEFAULT_CSS = """
    ReconciliationScreen .heading { margin: 1 1 0 1; text-style: bold; }
    ReconciliationScreen #runs { height: auto; max-height: 8; margin: 0 1; }
    ReconciliationScreen #breaks { height: auto; max-height: 14; margin: 0 1; }
    ReconciliationScreen #break { margin: 1 1; height: auto; }
    """

    def __init__(self, ctx: ConsoleContext) -> None:
        super().__init__(ctx)
        self._breaks: dict[str, ReconciliationBreakOut] = {}

    def compose_body(self) -> ComposeResult:
        yield Static("Latest run per gateway", classes="heading")
        yield RowTable(
            "Gateway", "Report", "Run", "Lines", "Matched", "Booked", "Open breaks", "Net",
            id="runs", drop_order=(2, 5),
        )  # fmt: skip
        yield Static("Open breaks, newest first", classes="heading")
        yield RowTable(
            "Kind", "Gateway", "Transaction", "Type", "Value date", "Suspense",
            id="breaks", drop_order=(3, 4),
        )  # fmt: skip
        with VerticalScroll():
            yield Static(id="break")

    def on_mount(self) -> None:
        # Textual calls LiveScreen.on_mount as well: it starts the refresh timer.
        self.query_one("#breaks", DataTable).focus()

    async def fetch(self) -> None:
        runs = await self.attempt(
            self.ctx.facade.reconciliation_runs(), doing="read the reconciliation runs", loud=False
        )
        if runs is None:
            return
        breaks = await self.attempt(
            self.ctx.facade.reconciliation_breaks(), doing="read the open breaks", loud=False
        )
        if breaks is not None:
            self.post_message(ReconciliationFetched(runs, breaks))

    def on_reconciliation_fetched(self, message: ReconciliationFetched) -> None:
        now = self.ctx.now()
        latest = latest_per_gateway(message.runs)
        refill(self.query_one("#runs", RowTable), ((r.gateway, run_cells(r, now)) for r in latest))
        self._breaks = {str(b.id): b for b in message.breaks}
        refill(
            self.query_one("#breaks", RowTable),
            ((str(b.id), break_cells(b)) for b in message.breaks),
        )
        if not latest:
            self.query_one("#break", Static).update(
                Text(
                    "No reconciliation has run yet: paycon reconcile --gateway NAME --fetch",
                    style="dim",
                )
            )
        else:
            self._show_break()
        self.update_bindings()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "breaks":
            self._show_break()
            self.update_bindings()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.data_table.id == "breaks":
            self.action_open()

    def _show_break(self) -> None:
        found = self.selected()
        detail = self.query_one("#break", Static)
        if found is None:
            detail.update(Text("No open break.", style="green"))
        else:
            detail.update(break_detail(found))

    def selected(self) -> ReconciliationBreakOut | None:
        """The break under the cursor."""
        key = selected_key(self.query_one("#breaks", DataTable))
        return None if key is None else self._breaks.get(key)

    def binding_basis(self) -> object:
        found = self.selected()
        return None if found is None else found.id

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not allowed:
            return allowed
        if action in ("resolve", "open"):
            found = self.selected()
            if found is None:
                return None
            return True if action == "resolve" or found.kind != NO_PAYMENT else None
        return True

    def action_open(self) -> None:
        found = self.selected()
        if found is not None and found.kind != NO_PAYMENT:
            self.post_message(OpenTransaction(found.transaction_id))

    def action_resolve(self) -> None:
        found = self.selected()
        if found is not None and not self.ctx.read_only:
            self._resolve(found)

    @work(group="actions")
    async def _resolve(self, found: ReconciliationBreakOut) -> None:
        if found.kind == NO_PAYMENT:
            await self._resolve_line(found)
        else:
            await self._resolve_payment(found)
        self.fetch_now()

    async def _resolve_line(self, found: ReconciliationBreakOut) -> None:
        reason = await self.app.push_screen_wait(
            AskScreen(
                f"Resolve break {found.id}",
                f"{found.report_says}: no payment of paycon carries it. Its money stays in "
                f"{found.gateway}'s suspense account. Why is the break settled?",
                placeholder="for example: the bank's own test payment, OPS-42",
                ok="Resolve",
            )
        )
        if reason is None:
            return
        resolved = await self._told(self.ctx.facade.resolve_break(found.id, reason=reason), found)
        if resolved is not None:
            self.notify(f"Break {found.id} resolved.", title="Resolved", markup=False)

    async def _resolve_payment(self, found: ReconciliationBreakOut) -> None:
        detail = await self.attempt(
            self.ctx.facade.transaction(found.transaction_id),
            doing=f"read {found.transaction_id}",
        )
        if detail is None:
            return
        if detail.transaction.review is None:
            self.notify(
                f"{found.transaction_id} is not held for review (it was resolved already); "
                "the next run of its report decides the line again.",
                title="Nothing to resolve",
                markup=False,
            )
            return
        answer = await self.app.push_screen_wait(ResolveScreen(detail.transaction))
        if answer is None:
            return
        outcome, reason = answer
        done = await self._told(
            self.ctx.facade.resolve(found.transaction_id, status=outcome, reason=reason), found
        )
        if done is not None:
            self.notify(
                f"{found.transaction_id} resolved as {outcome}: it is "
                f"{done.transaction.status} now; the next run books its line if it matches.",
                title="Resolved",
                markup=False,
            )

    async def _told(self, call: Awaitable[T], found: ReconciliationBreakOut) -> T | None:
        """``call``'s answer; a refusal is told in the operator's terms (None)."""
        try:
            return await call
        except (Conflict, InvalidInput) as exc:
            self.notify(
                f"{exc.detail}. Nothing was changed.",
                title=f"Break {found.id} not resolved",
                severity="error",
                markup=False,
                timeout=15,
            )
        except PayconError as exc:
            self.notify(exc.detail, title="Could not resolve", severity="error", markup=False)
        return None
