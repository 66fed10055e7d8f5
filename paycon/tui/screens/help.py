"""The help screen: what the screen beneath shows, and every key that works there now."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from paycon.tui.screens.base import ConsoleScreen


def key_table(screen: Screen[None]) -> Table:
    """The keys of ``screen`` and of the whole console, as they stand (read-only hides some)."""
    app = screen.app
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", justify="right")
    table.add_column()
    own: list[tuple[str, Text]] = []
    everywhere: list[tuple[str, Text]] = []
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.description or active.node not in (screen, app):
            continue
        label = Text(binding.description, style="" if active.enabled else "dim")
        if not active.enabled:
            label.append("  (not for the selected item)", style="dim italic")
        row = (app.get_key_display(binding), label)
        (own if active.node is screen else everywhere).append(row)
    table.add_row(Text("This screen", style="bold"), "")
    for key, label in own:
        table.add_row(key, label)
    table.add_row("", "")
    table.add_row(Text("Everywhere", style="bold"), "")
    for key, label in everywhere:
        table.add_row(key, label)
    table.add_row("ctrl+p", Text("Command palette: screens and actions by name"))
    table.add_row("tab", Text("Next widget (filter line, lists)"))
    return table


class HelpScreen(ModalScreen[None]):
    """Shown over a console screen by ``?``; escape or ``?`` closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; background: $background 60%; }
    HelpScreen > VerticalScroll {
        width: 90;
        height: auto;
        max-height: 90%;
        padding: 1 2;
        border: thick $primary;
        background: $surface;
    }
    HelpScreen #about { margin-bottom: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close"),
    ]

    def __init__(self, beneath: ConsoleScreen) -> None:
        super().__init__()
        self._about = beneath.HELP
        self._keys = key_table(beneath)

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text(self._about), id="about")
            yield Static(self._keys, id="keys")

    def action_close(self) -> None:
        self.dismiss()
