"""Logging set up at the entry point: one line per record, structured extras, request ids."""

from __future__ import annotations

import contextvars
import logging
import sys
from typing import TextIO

# The id of the request being served, on every log line it causes.
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class KeyValueFormatter(logging.Formatter):
    """``time level logger [request] message key=value ...``"""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = " ".join(
            f"{key}={value}"
            for key, value in vars(record).items()
            if key not in _STANDARD and value is not None
        )
        return f"{line} {extras}" if extras else line


def setup_logging(level: str, stream: TextIO = sys.stderr) -> None:
    """Send paycon's logs to ``stream`` at ``level``; quieten chatty libraries."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(
        KeyValueFormatter("%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiohttp.access", "sqlalchemy", "alembic", "aiosqlite", "asyncio", "httpx"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
