"""Statements compiled once per dialect and run on the DBAPI cursor.

``enqueue`` runs inside every payment's transaction and the pool writes one
attempts row per task; SQLAlchemy's per-execution machinery costs several
times what SQLite needs for such a small INSERT. These statements keep
SQLAlchemy's SQL generation and the column types' own bind processors, and
drop only the per-call overhead. Dialects with named parameters (none of
paycon's) fall back to ``Connection.execute``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, Insert, Select

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    processors: tuple[_Processor, ...]

    def values(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(
            params[name] if process is None else process(params[name])
            for name, process in zip(self.names, self.processors, strict=True)
        )


class Prepared:
    """One INSERT (optionally with RETURNING) or SELECT, compiled on first use per dialect."""

    def __init__(self, statement: Insert | Select[Any], column_keys: Sequence[str] = ()) -> None:
        self._statement = statement
        self._column_keys = list(column_keys)
        self._by_dialect: dict[str, _Compiled | None] = {}

    def _compiled(self, dialect: Dialect) -> _Compiled | None:
        if dialect.name not in self._by_dialect:
            compiled = self._statement.compile(
                dialect=dialect, column_keys=self._column_keys or None
            )
            if not compiled.positional or compiled.positiontup is None:
                self._by_dialect[dialect.name] = None
            else:
                names = tuple(compiled.positiontup)
                processors = tuple(
                    compiled.binds[name].type.bind_processor(dialect) for name in names
                )
                self._by_dialect[dialect.name] = _Compiled(str(compiled), names, processors)
        return self._by_dialect[dialect.name]

    def fetch_one(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """Run with ``params``; the first row (raw DBAPI values), or None."""
        compiled = self._compiled(conn.dialect)
        if compiled is None:
            row = conn.execute(self._statement, dict(params)).first()
            return None if row is None else tuple(row)
        cursor = _cursor(conn)
        try:
            cursor.execute(compiled.sql, compiled.values(params))
            found: tuple[Any, ...] | None = cursor.fetchone()
        finally:
            cursor.close()
        return found

    def returning_one(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """Run with ``params``; the first column of the first returned row, or None."""
        row = self.fetch_one(conn, params)
        return None if row is None else row[0]

    def run(self, conn: Connection, params: Mapping[str, Any]) -> None:
        """Run with ``params``, returning nothing."""
        self.many(conn, [params])

    def many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run once per row of ``rows`` (no RETURNING)."""
        compiled = self._compiled(conn.dialect)
        if compiled is None:
            conn.execute(self._statement, [dict(row) for row in rows])
            return
        cursor = _cursor(conn)
        try:
            cursor.executemany(compiled.sql, [compiled.values(row) for row in rows])
        finally:
            cursor.close()


def _cursor(conn: Connection) -> Any:
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
