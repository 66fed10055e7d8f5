"""Payments held for review in the console: the dashboard's figure, the list's filter and
flag, the transaction's reasons and the resolve action; gateways refusing our credentials."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input, RadioButton, Static

from paycon.domain.review import ReviewReason
from paycon.tui.app import PayconConsole
from paycon.tui.screens.resolve import REVIEW_REASONS, ResolveScreen
from paycon.tui.screens.transaction_detail import TransactionDetailScreen
from paycon.tui.screens.transactions import TransactionsScreen
from paycon.tui.widgets.cards import held_line
from tests.paycon_fixtures import CLIENT_KEY, OPERATOR_KEY, RunningPaycon, stored_now
from tests.tui.conftest import (
    SIZE,
    ConsoleFactory,
    accept_deposits,
    actions_finished,
    filter_by,
    screen_text,
    sql,
    summary,
    table_keys,
    until,
)
from tests.tui.static_facade import NOW, StaticFacade
from tests.tui.test_snapshots import settle

LAST_SAID = "gateway_b says completed for 0.01 JPY"


def hold(paycon: RunningPaycon, transaction_id: str) -> None:
    """Hold a payment for review with a mismatching callback, as the callback path does."""
    now = stored_now()
    sql(
        paycon.db_path,
        "UPDATE transactions SET review_reason = 'amount_mismatch', review_detail = ?, "
        "review_since = ? WHERE id = ?",
        LAST_SAID,
        now,
        transaction_id,
    )
    sql(
        paycon.db_path,
        "INSERT INTO transaction_events (transaction_id, at, type, detail, actor) "
        "VALUES (?, ?, 'held_for_review', ?, 'gateway_b')",
        transaction_id,
        now,
        f"amount_mismatch: {LAST_SAID}",
    )


def rendered(app: PayconConsole, selector: str) -> str:
    """The text a Static on the current screen shows ("" before it is there)."""
    return "".join(str(widget.render()) for widget in app.screen.query(selector).results(Static))


def notices(app: PayconConsole) -> list[tuple[str, str]]:
    return [(n.title, n.message) for n in app._notifications]


async def balance(paycon: RunningPaycon) -> Any:
    _, body = await paycon.get("/v1/customers/cus_1/balances", token=CLIENT_KEY)
    return body["balances"]


async def submit(pilot: Any) -> None:
    """Press enter in the resolve dialog's reason line."""
    pilot.app.screen.query_one("#answer", Input).focus()
    await pilot.pause()
    await pilot.press("enter")


async def choose(pilot: Any, outcome: str) -> None:
    """Choose ``outcome`` in the resolve dialog and wait until it says what that books."""
    dialog = pilot.app.screen
    dialog.query_one(f"#{outcome}", RadioButton).value = True
    await until(
        pilot,
        lambda: not str(dialog.query_one("#effect").render()).startswith("Choose one"),
        what=f"{outcome} chosen",
    )


async def open_transaction(pilot: Any, transaction_id: str) -> None:
    app = pilot.app
    app.push_screen(TransactionDetailScreen(app.ctx, transaction_id))
    await until(
        pilot,
        lambda: isinstance(app.screen, TransactionDetailScreen) and "customer " in screen_text(app),
        what="the transaction's fields",
    )


def test_every_review_reason_is_told_in_words() -> None:
    assert set(REVIEW_REASONS) == {reason.value for reason in ReviewReason}


def test_the_held_figure_is_red_only_while_payments_are_held() -> None:
    assert held_line(0).plain == "0 held for review"
    assert not any("red" in str(span.style) for span in held_line(0).spans)
    assert held_line(2).plain.startswith("2 held for review")
    assert "bold red" in [str(span.style) for span in held_line(2).spans]


async def test_the_dashboard_counts_held_payments_and_h_lists_them(
    paycon: RunningPaycon, console: ConsoleFactory
) -> None:
    first, second, _ = await accept_deposits(paycon, 3)
    app = console(refresh_s=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "0 held for review" in rendered(app, "#held"))
        hold(paycon, first)
        hold(paycon, second)
        await until(pilot, lambda: "2 held for review" in rendered(app, "#held"))
        # The live list flags them.
        assert screen_text(app).count("pending ⚑") == 2

        await pilot.press("h")
        await until(
            pilot,
            lambda: (
                isinstance(app.screen, TransactionsScreen)
                and table_keys(app, "#transactions") == [second, first]
            ),
            what="only the held payments",
        )
        assert app.screen.query_one("#filter", Input).value == "review:held"
        assert "held for review" in summary(app)


async def test_the_review_filter_lists_only_held_payments(
    paycon: RunningPaycon, console: ConsoleFactory
) -> None:
    first, second, third = await accept_deposits(paycon, 3)
    hold(paycon, second)
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await until(pilot, lambda: table_keys(app, "#transactions") == [third, second, first])
        assert "⚑ held for review" in summary(app)  # the flag's legend
        await filter_by(pilot, "review:held")
        await until(pilot, lambda: table_keys(app, "#transactions") == [second])
        await filter_by(pilot, "review:held customer:cus_2")
        await until(pilot, lambda: table_keys(app, "#transactions") == [])
        await filter_by(pilot, "review:maybe")
        await until(pilot, lambda: bool(app._notifications))
        assert "not one of held" in list(app._notifications)[-1].message


async def test_resolving_a_held_payment_books_it_once_with_a_reason(
    paycon: RunningPaycon, console: ConsoleFactory
) -> None:
    [held] = await accept_deposits(paycon, 1)
    hold(paycon, held)
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        await open_transaction(pilot, held)
        review = rendered(app, "#review")
        assert "amount_mismatch — a gateway stated another amount or currency" in review
        assert f"last said  {LAST_SAID}" in review
        assert f"amount_mismatch: {LAST_SAID}  by gateway_b" in review  # the timeline's hold
        assert "v Resolve…" in screen_text(app)

        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, ResolveScreen), what="the dialog")
        dialog = app.screen

        def error_line() -> str:
            return str(dialog.query_one("#error", Static).render())

        assert "gateway_b says completed for 0.01 JPY" in screen_text(app)
        # Neither an outcome nor a reason: nothing is decided.
        await submit(pilot)
        await until(pilot, lambda: "Choose the outcome" in error_line(), what="the outcome asked")
        dialog.query_one("#completed", RadioButton).value = True
        await until(
            pilot,
            lambda: "Settles the payment as completed" in str(dialog.query_one("#effect").render()),
            what="what completing books",
        )
        await submit(pilot)
        await until(pilot, lambda: "Please give one" in error_line(), what="the reason asked")
        assert await balance(paycon) == []
        dialog.query_one("#answer", Input).value = "gateway_b confirmed 1.00 EUR, OPS-7"
        await submit(pilot)
        await actions_finished(pilot)

        assert await balance(paycon) == [{"currency": "EUR", "available": "1.00", "held": "0.00"}]
        _, body = await paycon.get(f"/v1/transactions/{held}")
        assert (body["status"], body["review"]) == ("completed", None)
        assert (
            body["events"][-1]["detail"]
            == "pending → completed: gateway_b confirmed 1.00 EUR, OPS-7"
        )
        assert ("Resolved", f"Transaction {held} resolved as completed: it is completed now.") in (
            notices(app)
        )
        await until(pilot, lambda: not app.screen.query_one("#review").display)
        assert "completed ⚑" not in screen_text(app)
        # Not held any more: the key is greyed and does nothing.
        await pilot.press("v")
        await pilot.pause()
        assert not app.screen.is_modal


async def test_a_payment_resolved_meanwhile_is_not_resolved_twice(
    paycon: RunningPaycon, console: ConsoleFactory
) -> None:
    [held] = await accept_deposits(paycon, 1)
    hold(paycon, held)
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        await open_transaction(pilot, held)
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, ResolveScreen), what="the dialog")
        # Another operator resolves it while the dialog is open.
        status, _, _ = await paycon.post_json(
            f"/v1/transactions/{held}/resolve",
            {"status": "failed", "reason": "declined by phone"},
            key=None,
            token=OPERATOR_KEY,
        )
        assert status == 200
        await choose(pilot, "completed")
        app.screen.query_one("#answer", Input).value = "gateway_b confirmed it"
        await submit(pilot)
        await actions_finished(pilot)
        [(title, message)] = notices(app)
        assert title == "Not resolved"
        assert f"transaction {held} is not held for review" in message
        assert "resolved already" in message
        _, body = await paycon.get(f"/v1/transactions/{held}")
        assert body["status"] == "failed"  # the first decision stands
        await until(pilot, lambda: "status     failed" in screen_text(app))


async def test_an_invalid_reason_is_told_and_changes_nothing(
    paycon: RunningPaycon, console: ConsoleFactory
) -> None:
    [held] = await accept_deposits(paycon, 1)
    hold(paycon, held)
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        await open_transaction(pilot, held)
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, ResolveScreen), what="the dialog")
        await choose(pilot, "failed")
        app.screen.query_one("#answer", Input).value = "x" * 300
        await submit(pilot)
        await actions_finished(pilot)
        [(title, message)] = notices(app)
        assert title == "Not resolved: invalid input"
        assert "(reason: String should have at most 255 characters)" in message
        _, body = await paycon.get(f"/v1/transactions/{held}")
        assert (body["status"], body["review"]["reason"]) == ("pending", "amount_mismatch")


async def test_failing_a_completed_payment_says_it_is_a_reversal() -> None:
    facade = StaticFacade()
    app = PayconConsole(facade, refresh_s=3600, now=lambda: NOW)
    held = facade.transactions_[1]  # completed, held after a late failure
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_transaction(pilot, held.id)
        await pilot.press("question_mark")
        await settle(pilot)
        assert "v  Resolve…" in screen_text(app)
        await pilot.press("escape", "v")
        await settle(pilot)
        assert isinstance(app.screen, ResolveScreen)
        await choose(pilot, "failed")
        effect = str(app.screen.query_one("#effect").render())
        assert effect.startswith("A REVERSAL: the completed payment becomes reversed")
        assert "credit of 25.00 EUR is taken back" in effect
        app.screen.query_one("#answer", Input).value = "returned, R05"
        await submit(pilot)
        await actions_finished(pilot)
        assert facade.calls == [("resolve", (held.id, "failed", "returned, R05"))]


async def test_a_read_only_console_does_not_offer_resolve() -> None:
    facade = StaticFacade()
    app = PayconConsole(facade, refresh_s=3600, now=lambda: NOW, read_only=True)
    held = facade.transactions_[1]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_transaction(pilot, held.id)
        await settle(pilot)
        assert "Held for review" in rendered(app, "#review")  # still shown
        assert "Resolve" not in screen_text(app)
        await pilot.press("v")
        await pilot.pause()
        assert not app.screen.is_modal
        await pilot.press("question_mark")
        await settle(pilot)
        assert "Resolve" not in screen_text(app)
        assert facade.calls == []


async def test_a_gateway_refusing_our_credentials_says_since_when() -> None:
    facade = StaticFacade()  # gateway_a refuses them since 7 minutes
    app = PayconConsole(facade, refresh_s=3600, now=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # On gateway_a's card (the left one) only.
        [line] = [line for line in screen_text(app).splitlines() if "credentials" in line]
        left, right = line.split("││")
        assert "credentials refused for 7 min" in left
        assert "credentials" not in right
        await pilot.press("4")
        await settle(pilot)
        text = screen_text(app)
        assert "credentials refused since 2026-11-27 09:23:00 (7 min ago)" in text
        assert "credentials refused · closed 0/5 failures" in text
