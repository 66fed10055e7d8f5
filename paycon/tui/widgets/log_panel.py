"""The log panel: the process's recent log lines, read from a ``LogBuffer``."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog

from paycon.logs import LogBuffer, LogLine

POLL_S = 0.5
LEVEL_STYLES = {"WARNING": "yellow", "ERROR": "bold red", "CRITICAL": "bold red", "DEBUG": "dim"}


def log_text(line: LogLine) -> Text:
    """One log line in its level's colour (as it is: log lines are never markup)."""
    return Text(line.text, style=LEVEL_STYLES.get(line.level, ""), no_wrap=True)


class LogPanel(RichLog):
    """Shows the buffer's lines while it is displayed, polling it for new ones."""

    DEFAULT_CSS = """
    LogPanel {
        dock: bottom;
        height: 10;
        border-top: solid $primary;
        background: $surface;
    }
    """

    def __init__(self, buffer: LogBuffer | None) -> None:
        super().__init__(max_lines=500, wrap=False, markup=False, id="logs")
        self._buffer = buffer
        self._seen = 0

    def on_mount(self) -> None:
        self.set_interval(POLL_S, self.catch_up)

    def show(self, shown: bool) -> None:
        """Show or hide the panel; a shown panel is brought up to date at once."""
        self.display = shown
        self.catch_up()

    def catch_up(self) -> None:
        """Write the lines logged since the last look (only while the panel is shown)."""
        if self._buffer is None or not self.display:
            return
        for line in self._buffer.since(self._seen):
            self.write(log_text(line))
            self._seen = line.seq
