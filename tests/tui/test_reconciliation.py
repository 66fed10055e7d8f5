"""The console's reconciliation screen: each gateway's latest run, the open breaks with
what each side says, and resolving a break from there."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from paycon.domain.reconcile import BreakKind
from paycon.tui.app import PayconConsole
from paycon.tui.screens.modals import AskScreen
from paycon.tui.screens.reconciliation import BREAK_KINDS, ReconciliationScreen
from paycon.tui.screens.resolve import ResolveScreen
from paycon.tui.screens.transaction_detail import TransactionDetailScreen
from tests.tui.conftest import SIZE, actions_finished, screen_text, table_keys, until
from tests.tui.static_facade import NOW, StaticFacade
from tests.tui.test_review import choose, notices, submit
from tests.tui.test_snapshots import settle

UNKNOWN, REVERSAL = "8", "7"


def test_every_kind_of_break_is_told_in_words() -> None:
    assert set(BREAK_KINDS) == {kind.value for kind in BreakKind}


async def show(pilot: Pilot[None]) -> None:
    """Go to the reconciliation screen (key 5) and wait until it shows a break."""
    app = pilot.app
    await pilot.press("5")
    await until(
        pilot,
        lambda: isinstance(app.screen, ReconciliationScreen) and "Break " in screen_text(app),
        what="the reconciliation screen with a break",
    )


async def test_the_latest_run_of_each_gateway_and_the_open_breaks_are_shown() -> None:
    app = PayconConsole(StaticFacade(), refresh_s=3600, now=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await show(pilot)
        assert "5 Reconciliation" in screen_text(app)
        assert table_keys(app, "#runs") == ["gateway_a", "gateway_b"]
        assert table_keys(app, "#breaks") == [UNKNOWN, REVERSAL]
        text = screen_text(app)
        # gateway_a's newest run (12) booked 2 of its 40 lines; its net per currency
        [line_a] = [line for line in text.splitlines() if line.strip().startswith("gateway_a ")]
        assert "2026-11-27" in line_a
        assert "+980.25 EUR" in line_a
        assert "Break 8 — unknown_transaction" in text
        assert "the report  deposit 3.00 EUR (fee 0.00, net 3.00), GB0000000077" in text
        assert "paycon      no such payment" in text
        await pilot.press("down")
        await settle(pilot)
        text = screen_text(app)
        assert "Break 7 — reversal" in text
        assert "paycon      completed deposit 25.00 EUR through gateway_a" in text


async def test_a_line_no_payment_carries_is_resolved_with_a_reason() -> None:
    facade = StaticFacade()
    app = PayconConsole(facade, refresh_s=3600, now=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await show(pilot)
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, AskScreen), what="the reason dialog")
        app.screen.query_one(Input).value = "the bank's own test payment"
        await pilot.press("enter")
        await actions_finished(pilot)
        assert facade.calls == [("resolve_break", (8, "the bank's own test payment"))]
        await until(pilot, lambda: table_keys(app, "#breaks") == [REVERSAL], what="8 gone")
        assert ("Resolved", "Break 8 resolved.") in notices(app)


async def test_a_break_about_a_payment_resolves_the_payment_in_the_resolve_dialog() -> None:
    facade = StaticFacade()
    held = facade.transactions_[1]  # the reversal break's payment, held for review
    app = PayconConsole(facade, refresh_s=3600, now=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await show(pilot)
        await pilot.press("down", "v")
        await until(pilot, lambda: isinstance(app.screen, ResolveScreen), what="the dialog")
        await choose(pilot, "failed")
        app.screen.query_one("#answer", Input).value = "the gateway reversed it, R05"
        await submit(pilot)
        await actions_finished(pilot)
        assert facade.calls == [("resolve", (held.id, "failed", "the gateway reversed it, R05"))]
        await until(pilot, lambda: table_keys(app, "#breaks") == [UNKNOWN], what="7 gone")


async def test_enter_opens_the_payment_behind_a_break() -> None:
    facade = StaticFacade()
    app = PayconConsole(facade, refresh_s=3600, now=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await show(pilot)
        app.screen.query_one("#breaks", DataTable).focus()
        await pilot.press("down", "enter")
        await until(
            pilot, lambda: isinstance(app.screen, TransactionDetailScreen), what="the payment"
        )
        screen = app.screen
        assert isinstance(screen, TransactionDetailScreen)
        assert screen.transaction_id == facade.transactions_[1].id


async def test_a_read_only_console_shows_breaks_but_does_not_resolve() -> None:
    facade = StaticFacade()
    app = PayconConsole(facade, refresh_s=3600, now=lambda: NOW, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await show(pilot)
        assert "Resolve" not in screen_text(app)
        await pilot.press("v")
        await pilot.pause()
        assert not app.screen.is_modal
        assert facade.calls == []
