"""Dialogs: ask the operator for a value (a reason, a rate, the reason for a bulk action)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

MODAL_CSS = """
{name} {{
    align: center middle;
    background: $background 60%;
}}
{name} > Vertical {{
    width: 72;
    height: auto;
    padding: 1 2;
    border: thick $primary;
    background: $surface;
}}
{name} .title {{
    text-style: bold;
    margin-bottom: 1;
}}
{name} .error {{
    color: $error;
    height: auto;
}}
{name} Horizontal {{
    height: auto;
    margin-top: 1;
    align-horizontal: right;
}}
{name} Button {{
    margin-left: 2;
}}
"""


def required(value: str) -> str | None:
    """A check for ``AskScreen``: anything but blank."""
    return None if value.strip() else "Please give one; it is kept in the audit trail."


def share(value: str) -> str | None:
    """A check for ``AskScreen``: a number from 0 to 1."""
    try:
        number = float(value)
    except ValueError:
        return "A number from 0 to 1, for example 0.3"
    return None if 0 <= number <= 1 else "A number from 0 to 1, for example 0.3"


T = TypeVar("T")


class AnswerDialog(ModalScreen[T]):
    """A dialog answered from its line (enter) or its ``ok`` button, cancelled by escape
    or any other button; ``_submit`` checks what was entered and dismisses with it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _submit(self) -> None:
        raise NotImplementedError


class AskScreen(AnswerDialog[str | None]):
    """Asks for one line; answers it (checked by ``check``), or None when cancelled.

    ``ok`` labels the button that submits it (say what it will do: "Replay 12 tasks").
    """

    DEFAULT_CSS = MODAL_CSS.format(name="AskScreen")

    def __init__(
        self,
        title: str,
        prompt: str,
        *,
        placeholder: str = "",
        value: str = "",
        check: Callable[[str], str | None] = required,
        ok: str = "OK",
    ) -> None:
        super().__init__()
        self._ok = ok
        self._title = title
        self._prompt = prompt
        self._placeholder = placeholder
        self._value = value
        self._check = check

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self._title), classes="title")
            yield Static(Text(self._prompt), id="prompt")
            yield Input(value=self._value, placeholder=self._placeholder, id="answer")
            yield Static(id="error", classes="error", markup=False)
            with Horizontal():
                yield Button(self._ok, variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def _submit(self) -> None:
        value = self.query_one("#answer", Input).value.strip()
        problem = self._check(value)
        if problem is not None:
            self.query_one("#error", Static).update(problem)
            return
        self.dismiss(value)
