"""Phrases side by side that wrap between phrases, never inside one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text


class Phrases:
    """``first · second · third``, broken into lines only at the separators.

    A line that wraps starts again under the first phrase (after ``lead``, the
    label in front of the first line, such as ``breaker ``); a phrase wider than
    the whole line is the only one that may be cut.
    """

    def __init__(
        self, phrases: Iterable[Text], *, lead: Text | None = None, separator: str = " · "
    ) -> None:
        self.phrases: Sequence[Text] = [p for p in phrases if p.plain]
        self.lead = lead or Text()
        self.separator = Text(separator, style="dim")

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        indent = Text(" " * self.lead.cell_len)
        line = self.lead.copy()
        started = False
        for phrase in self.phrases:
            joined = self.separator.cell_len if started else 0
            if started and line.cell_len + joined + phrase.cell_len > width:
                yield line
                line, started = indent.copy(), False
            if started:
                line.append_text(self.separator)
            line.append_text(phrase)
            started = True
        yield line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        whole = self.lead.cell_len + sum(p.cell_len for p in self.phrases)
        whole += self.separator.cell_len * max(0, len(self.phrases) - 1)
        widest = max((p.cell_len for p in self.phrases), default=0) + self.lead.cell_len
        return Measurement(min(widest, options.max_width), min(whole, options.max_width))

    def as_line(self) -> Text:
        """Every phrase on one line (for a table cell)."""
        line = self.lead.copy()
        for number, phrase in enumerate(self.phrases):
            if number:
                line.append_text(self.separator)
            line.append_text(phrase)
        return line
