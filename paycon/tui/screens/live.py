"""Screens that read again every ``refresh_s`` while shown: the dashboard and the gateways."""

from __future__ import annotations

from textual import work
from textual.worker import Worker

from paycon.tui.context import ConsoleContext
from paycon.tui.screens.base import ConsoleScreen


class LiveScreen(ConsoleScreen):
    """Reads on a timer while it is the screen on show; a read still running is not started
    again, so a slow database never piles reads up on the event loop the API shares."""

    def __init__(self, ctx: ConsoleContext) -> None:
        super().__init__(ctx)
        self._fetching: Worker[None] | None = None

    def on_mount(self) -> None:
        self.set_interval(self.ctx.refresh_s, self.action_reload)

    def action_reload(self) -> None:
        # Only the screen on show refreshes, and never twice at once.
        if not self.is_current:
            return
        if self._fetching is not None and not self._fetching.is_finished:
            return
        self._fetching = self._fetch()

    def fetch_now(self) -> None:
        """Read at once, dropping a read still running (its answer would be older)."""
        # After an action the operator wants to see its effect now, not at the next tick.
        if not self.is_attached:
            return
        if self._fetching is not None and not self._fetching.is_finished:
            self._fetching.cancel()
        self._fetching = self._fetch()

    @work(group="live")
    async def _fetch(self) -> None:
        await self.fetch()

    async def fetch(self) -> None:
        """Read the screen's data and post it back as a message (screens override this)."""
