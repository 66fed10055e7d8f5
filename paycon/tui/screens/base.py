"""What every console screen shares: layout, read-only mode, and facade calls that never crash."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import ClassVar, TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Header, Static

from paycon.domain.errors import FacadeUnavailable, PayconError
from paycon.tui.context import ConsoleContext
from paycon.tui.widgets.key_bar import KeyBar
from paycon.tui.widgets.log_panel import LogPanel
from paycon.tui.widgets.nav import nav_text

log = logging.getLogger(__name__)

T = TypeVar("T")

# The reason recorded with actions that do not ask for one.
CONSOLE_REPLAY_REASON = "replayed from the console"
# q quits from the list screens; elsewhere it is typed (filter lines, dialogs) or unbound
# (a detail screen, where it could be taken for "back"). ctrl+q quits everywhere.
QUIT = Binding("q", "quit", "Quit")


def describe_error(exc: BaseException) -> str:
    """One line for an operator: what went wrong, in the service's own words."""
    if isinstance(exc, FacadeUnavailable):
        return f"{exc.title}: {exc.detail} (retrying)"
    if isinstance(exc, PayconError):
        return f"{exc.title}: {exc.detail}"
    return f"Unexpected error: {type(exc).__name__}: {exc} (details in the log)"


class ConsoleScreen(Screen[None]):
    """A console screen: header, a problem line, the screen's body, the log panel, the footer.

    ``CHANGES`` names the screen's actions that change something; in read-only
    mode they are neither shown nor run.
    """

    CHANGES: ClassVar[frozenset[str]] = frozenset()
    HELP: ClassVar[str] = ""
    # The list screen this is (None: a detail screen, shown within the current one).
    MODE: ClassVar[str | None] = None
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "reload", "Refresh", show=False),
    ]

    DEFAULT_CSS = """
    ConsoleScreen #nav { background: $panel; }
    ConsoleScreen #problem { padding: 0 1; display: none; }
    """

    def __init__(self, ctx: ConsoleContext) -> None:
        super().__init__()
        self.ctx = ctx
        self._binding_basis: object = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(nav_text(self.MODE or self.app.current_mode), id="nav")
        yield Static(id="problem", markup=False)
        yield from self.compose_body()
        yield LogPanel(self.ctx.logs)
        yield KeyBar()

    def compose_body(self) -> ComposeResult:
        """The screen's own widgets, between the header and the footer."""
        yield from ()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (self.ctx.read_only and action in self.CHANGES)

    def binding_basis(self) -> object:
        """What ``check_action``'s answers depend on besides read-only (the selected item...)."""
        return None

    def update_bindings(self) -> None:
        """Redraw the footer's keys when what they depend on changed (redrawing is not free)."""
        basis = self.binding_basis()
        if basis != self._binding_basis:
            self._binding_basis = basis
            self.refresh_bindings()

    def on_screen_resume(self) -> None:
        self.query_one(LogPanel).show(self.ctx.view.show_logs)
        self.action_reload()

    def action_reload(self) -> None:
        """Read the screen's data again (screens with data override this)."""

    async def action_quit(self) -> None:
        await self.app.action_quit()

    def show_problem(self, problem: str | None) -> None:
        """Show why the last read failed above the body, or clear it."""
        # A read can finish after the screen was taken down (the console closing).
        for line in self.query("#problem").results(Static):
            line.update(Text(problem or "", style="bold red"))
            line.display = problem is not None

    async def attempt(self, call: Awaitable[T], *, doing: str, loud: bool = True) -> T | None:
        """Await one facade call; an error is shown, never raised, and the answer is None.

        ``loud`` errors (actions) become notifications; quiet ones (reads) stay on
        the problem line until the next read succeeds.
        """
        try:
            result = await call
        except PayconError as exc:
            self._report(doing, exc, loud=loud)
            return None
        except Exception as exc:  # the console must not take the service's process down
            log.exception("console: %s failed", doing)
            self._report(doing, exc, loud=loud)
            return None
        if not loud:
            self.show_problem(None)
        return result

    def _report(self, doing: str, exc: Exception, *, loud: bool) -> None:
        text = describe_error(exc)
        if loud:
            self.notify(text, title=f"Could not {doing}", severity="error", markup=False)
        else:
            self.show_problem(f"Could not {doing}: {text}")
