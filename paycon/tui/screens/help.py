"""The help screen: what the screen beneath shows, and every key that works there now."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.actions import parse as parse_action
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from paycon.tui.screens.base import ConsoleScreen
from paycon.tui.widgets.nav import SCREENS as NAV


def declared_bindings(node: DOMNode) -> list[Binding]:
    """The bindings the console's own classes declare for ``node``, most derived first."""
    found: dict[str, Binding] = {}
    for cls in type(node).__mro__:
        if not cls.__module__.startswith("paycon.tui"):
            continue
        for binding in vars(cls).get("BINDINGS", ()):
            if isinstance(binding, Binding) and binding.description:
                found.setdefault(binding.key, binding)
    return list(found.values())


def _rows(node: DOMNode) -> list[tuple[str, Text]]:
    rows = []
    for binding in declared_bindings(node):
        _, name, parameters = parse_action(binding.action)
        if name == "screen":  # the list screens' keys share one row
            continue
        state = node.check_action(name, parameters)
        if state is False:  # not here (read-only, or nothing it could act on)
            continue
        label = Text(binding.description, style="" if state else "dim")
        if state is None:
            label.append("  (not for the selected item)", style="dim italic")
        rows.append((node.app.get_key_display(binding), label))
    return rows


def key_table(screen: Screen[None]) -> Table:
    """The keys of ``screen`` and of the whole console as they stand (read-only hides some)."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", justify="right")
    table.add_column()
    table.add_row("", Text("This screen", style="bold"))
    for key, label in _rows(screen):
        table.add_row(key, label)
    table.add_row("", "")
    table.add_row("", Text("Everywhere", style="bold"))
    table.add_row(f"{NAV[0][0]}-{NAV[-1][0]}", Text(" · ".join(title for _, _, title in NAV)))
    for key, label in _rows(screen.app):
        table.add_row(key, label)
    table.add_row("^p", Text("Command palette: screens and actions by name"))
    table.add_row("tab", Text("Next part of the screen (filter line, lists)"))
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
