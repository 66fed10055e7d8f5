"""The line of keys at the bottom of every console screen."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget


class KeyBar(Widget, can_focus=False):
    """The keys that work on the screen now, drawn as Textual's ``Footer`` draws them.

    A key that does not fit the selected item is dimmed, the command palette's
    key sits on the right, and clicking a key presses it. ``Footer`` mounts a
    widget per key each time the bindings change (every focus move); this is
    one widget drawn again, which keeps such changes from holding up the API
    that shares the console's event loop.
    """

    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "key-bar--key",
        "key-bar--description",
        "key-bar--separator",
    }
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        .key-bar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .key-bar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .key-bar--separator {
            color: $foreground 20%;
        }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        # Where each key was drawn: (first cell, cell after the last, key), for clicks.
        self._spans: list[tuple[int, int, str]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[Any]) -> None:
        if screen is self.screen:
            self.refresh()

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                event.stop()
                self.app.simulate_key(key)
                return

    def render(self) -> Text:
        keys: list[tuple[Text, str]] = []
        palette: tuple[Text, str] | None = None
        shown: set[str] = set()
        for _, binding, enabled, _ in self.screen.active_bindings.values():
            if binding.key == self.app.COMMAND_PALETTE_BINDING:
                palette = self._key(binding, enabled, padded=False), binding.key
            elif binding.show and binding.action not in shown:
                # Several keys for one action (q and ctrl+q): the first one stands for them.
                shown.add(binding.action)
                keys.append((self._key(binding, enabled, padded=True), binding.key))
        line = Text(no_wrap=True, end="")
        self._spans = []
        for text, key in keys:
            self._spans.append((line.cell_len, line.cell_len + text.cell_len, key))
            line.append_text(text)
        if palette is not None:
            text, key = palette
            separator = Text("▏", self.get_component_rich_style("key-bar--separator"))
            right = Text.assemble(separator, text, " ")
            start = max(self.size.width - right.cell_len, 0)
            line.truncate(start)
            line.append(" " * (start - line.cell_len))
            # Keys cut off to make room are not clickable either.
            self._spans = [(a, min(b, start), k) for a, b, k in self._spans if a < start]
            self._spans.append((start + 1, self.size.width, key))
            line.append_text(right)
        return line

    def _key(self, binding: Binding, enabled: bool, *, padded: bool) -> Text:
        """`` r Replay `` (padded), or ``^p palette``; dimmed when not ``enabled``."""
        key = self.app.get_key_display(binding)
        text = Text.assemble(
            (f" {key} " if padded else key, self.get_component_rich_style("key-bar--key")),
            (
                f"{binding.description} " if padded else f" {binding.description}",
                self.get_component_rich_style("key-bar--description"),
            ),
        )
        if not enabled:
            text.stylize(Style(dim=True))
        return text
