"""Logging set up at the entry point: one line per record, structured extras, request ids."""

from __future__ import annotations

import contextvars
import logging
import sys
import threading
from collections import deque
from dataclasses import dataclass
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import TextIO

from paycon.domain.text import escape_controls

# The id of the request being served, on every log line it causes.
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class KeyValueFormatter(logging.Formatter):
    """``time level logger [request] message key=value ...``

    Control characters (newlines, escape sequences, bidirectional overrides) in
    the message and the extras are written escaped (``\\x1b``, ``\\u202e``): a
    value that came from outside can neither forge a log line nor drive the
    terminal of whoever reads the log. A traceback keeps its lines.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:
        escaped = escape_controls(record.message)
        if escaped is record.message:
            return super().formatMessage(record)
        shown = logging.makeLogRecord(vars(record))  # other handlers keep the record as it is
        shown.message = escaped
        return super().formatMessage(shown)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = " ".join(
            f"{key}={escape_controls(str(value))}"
            for key, value in vars(record).items()
            if key not in _STANDARD and value is not None
        )
        return f"{line} {extras}" if extras else line


# A log file beside the console is rotated at this size, keeping this many old ones.
LOG_FILE_MAX_BYTES = 10 * 1024 * 1024
LOG_FILE_BACKUPS = 3


def setup_logging(level: str, stream: TextIO = sys.stderr) -> None:
    """Send paycon's logs to ``stream`` at ``level``; quieten chatty libraries."""
    _install(logging.StreamHandler(stream), level)


def setup_file_logging(
    level: str,
    path: Path,
    *,
    max_bytes: int = LOG_FILE_MAX_BYTES,
    backups: int = LOG_FILE_BACKUPS,
) -> logging.Handler:
    """Send paycon's logs to ``path`` (appending; rotated at ``max_bytes``, keeping
    ``backups`` old files) at ``level``. The caller closes the returned handler.

    Raises OSError when the file cannot be opened.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
    _install(handler, level)
    return handler


def _install(handler: logging.Handler, level: str) -> None:
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(
        KeyValueFormatter("%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiohttp.access", "sqlalchemy", "alembic", "aiosqlite", "asyncio", "httpx"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


@dataclass(frozen=True)
class LogLine:
    """One formatted log record; ``seq`` grows by one per record, from 1."""

    seq: int
    level: str
    text: str


class LogBuffer(logging.Handler):
    """The last ``capacity`` log lines in memory, for the console's log panel.

    Records are formatted like the log file's lines. ``since(seq)`` returns the
    lines after ``seq``, so a reader polls without missing or repeating any
    (unless more than ``capacity`` arrived in between).
    """

    def __init__(self, capacity: int = 500) -> None:
        super().__init__()
        self._lines: deque[LogLine] = deque(maxlen=capacity)
        self._seq = 0
        # Records come from any thread; the console reads on the event loop.
        self._guard = threading.Lock()
        self.addFilter(_RequestIdFilter())
        self.setFormatter(KeyValueFormatter("%(asctime)s %(levelname)-7s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # a bad record must not break the caller's logging
            self.handleError(record)
            return
        with self._guard:
            self._seq += 1
            self._lines.append(LogLine(self._seq, record.levelname, text))

    def since(self, seq: int) -> tuple[LogLine, ...]:
        """Lines with a ``seq`` above ``seq``, oldest first. Safe beside logging threads."""
        with self._guard:
            lines = tuple(self._lines)
        return tuple(line for line in lines if line.seq > seq)
