"""What every screen of the console is given: the facade, the mode, the clock, the logs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from paycon.facade.protocol import OperatorFacade
from paycon.logs import LogBuffer


@dataclass
class ViewState:
    """Console-wide view settings that outlive any one screen."""

    show_logs: bool = False


@dataclass(frozen=True)
class ClientKey:
    """The client API key merchants' requests use, and where it is kept (for a new user
    of a local paycon: the console shows it masked and copies it)."""

    key: str
    where: str


@dataclass(frozen=True)
class ConsoleContext:
    """The console's dependencies, passed to each screen when it is made.

    ``read_only`` hides every action that changes something; ``now`` is the
    clock ages are measured with ("3 s ago", "next trial in 12 s").
    """

    facade: OperatorFacade
    now: Callable[[], datetime]
    read_only: bool = False
    refresh_s: float = 1.0
    logs: LogBuffer | None = None
    view: ViewState = field(default_factory=ViewState)
