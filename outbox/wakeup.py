"""The in-process signal that wakes idle pools when a commit made work due.

``enqueue`` (and the operator actions that make a task due) register
``notify`` as an after-commit callback of their unit of work; the writer calls
it once the transaction is committed, and every pool subscribed in this process
looks for due tasks at once instead of waiting for its next poll. Other
processes sharing the database find the work on their poll.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


class WakeupHub:
    """Listeners to wake; safe to notify from any thread."""

    def __init__(self) -> None:
        self._listeners: dict[Callable[[], None], asyncio.AbstractEventLoop | None] = {}

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` on every notify, on the loop it subscribed from (if any)."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        self._listeners[listener] = loop

    def unsubscribe(self, listener: Callable[[], None]) -> None:
        """Stop calling ``listener``; unknown listeners are ignored."""
        self._listeners.pop(listener, None)

    def notify(self) -> None:
        """Wake every listener. Never raises."""
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        for listener, loop in list(self._listeners.items()):
            try:
                if loop is None or loop is current:
                    listener()
                elif not loop.is_closed():
                    loop.call_soon_threadsafe(listener)
            except Exception:
                log.exception("outbox wake-up listener failed")


hub = WakeupHub()


def notify() -> None:
    """Wake the idle pools of this process (the after-commit callback of enqueue)."""
    hub.notify()
