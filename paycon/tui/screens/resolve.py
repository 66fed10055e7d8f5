"""Resolving a payment held for review: the dialog that asks the outcome and why."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from paycon.models.transactions import TransactionOut
from paycon.tui import formatting as fmt
from paycon.tui.screens.modals import MODAL_CSS, AnswerDialog, required

OUTCOMES = ("completed", "failed")

# Why a payment waits for a person, in words (the reasons of paycon.domain.review).
REVIEW_REASONS = {
    "wrong_gateway": "a gateway that does not hold the payment spoke about it",
    "amount_mismatch": "a gateway stated another amount or currency",
    "conflicting_status": "a gateway contradicted the recorded final status",
    "request_refused": "the gateway refused the request without a documented decline",
    "task_dead": "the task carrying it died: nothing will move it now",
    "task_discarded": "an operator discarded the task carrying it",
    "in_flight_too_long": "it has been in flight too long",
    "reconciliation_break": "the gateway's settlement report disagrees with paycon",
}


def review_reason(reason: str) -> str:
    """``conflicting_status — a gateway contradicted the recorded final status``."""
    meaning = REVIEW_REASONS.get(reason)
    return reason if meaning is None else f"{reason} — {meaning}"


def resolution_effect(transaction: TransactionOut, outcome: str) -> str:
    """What deciding ``outcome`` books for ``transaction``, as the service's review rules do."""
    deposit = transaction.kind == "deposit"
    amount = fmt.money(transaction.amount, transaction.currency)
    current = transaction.status
    if current == "reversed":
        return "A reversed payment is final: nothing more can be booked."
    if current == outcome:
        return f"Confirms the recorded status ({current}): no money moves, the hold is lifted."
    if current == "completed":
        taken = (
            f"the deposit's credit of {amount} is taken back from available (what "
            "available does not cover becomes owed)"
            if deposit
            else f"the payout of {amount} returns to the customer (paying owed first)"
        )
        return f"A REVERSAL: the completed payment becomes reversed and {taken}."
    if current == "failed":
        paid = (
            f"the deposit credits {amount} to available"
            if deposit
            else f"the withdrawal of {amount} is paid out of available (what available "
            "does not cover becomes owed)"
        )
        return f"The failed payment becomes completed: {paid}."
    if outcome == "completed":
        settled = f"credits {amount} to available" if deposit else f"pays out the {amount} held"
        return f"Settles the payment as completed: {settled}."
    released = "" if deposit else f": the {amount} held returns to available"
    return f"Settles the payment as failed{released}."


class ResolveScreen(AnswerDialog[tuple[str, str] | None]):
    """Asks a held payment's outcome and the reason; answers ``(outcome, reason)``, or None
    when cancelled. No outcome is chosen beforehand: enter alone decides nothing."""

    DEFAULT_CSS = (
        MODAL_CSS.format(name="ResolveScreen")
        + """
    ResolveScreen > Vertical { width: 84; max-height: 100%; overflow-y: auto; }
    ResolveScreen #held { margin-bottom: 1; height: auto; }
    ResolveScreen RadioSet { layout: horizontal; width: auto; margin-bottom: 1; }
    ResolveScreen #effect { height: auto; margin-bottom: 1; }
    """
    )

    def __init__(self, transaction: TransactionOut) -> None:
        super().__init__()
        self._transaction = transaction
        self._outcome: str | None = None

    def compose(self) -> ComposeResult:
        transaction = self._transaction
        with Vertical():
            yield Label(Text(f"Resolve transaction {transaction.id}"), classes="title")
            yield Static(self._held(), id="held")
            with RadioSet(id="outcome") as outcomes:
                outcomes.border_title = "Outcome"
                for outcome in OUTCOMES:
                    yield RadioButton(outcome, id=outcome)
            yield Static(
                Text("Choose one: failed on a completed payment books a reversal.", style="dim"),
                id="effect",
            )
            yield Static(Text("Why? The reason goes into the audit trail; esc cancels."))
            yield Input(
                placeholder="for example: gateway_a confirmed the return, OPS-123", id="answer"
            )
            yield Static(id="error", classes="error", markup=False)
            with Horizontal():
                yield Button("Resolve", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def _held(self) -> Text:
        transaction = self._transaction
        text = Text()
        text.append(f"{transaction.kind} of {fmt.money(transaction.amount, transaction.currency)}")
        text.append(" · now ")
        text.append_text(fmt.styled(transaction.status, fmt.STATUS_STYLES))
        review = transaction.review
        if review is not None:
            text.append(f"\nheld since {fmt.clock(review.since)}: {review_reason(review.reason)}")
            text.append("\nlast said: ", style="dim")
            text.append(review.detail)
        return text

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        self._outcome = event.pressed.id
        if self._outcome is None:
            return
        effect = resolution_effect(self._transaction, self._outcome)
        reversal = effect.startswith("A REVERSAL")
        self.query_one("#effect", Static).update(Text(effect, style="bold red" if reversal else ""))
        self.query_one("#error", Static).update("")

    def _submit(self) -> None:
        reason = self.query_one("#answer", Input).value.strip()
        problem = (
            "Choose the outcome: completed or failed."
            if self._outcome is None
            else required(reason)
        )
        if problem is not None:
            self.query_one("#error", Static).update(problem)
            return
        assert self._outcome is not None
        self.dismiss((self._outcome, reason))
