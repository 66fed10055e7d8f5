"""The hot write path's statements: compiled once, run on the DBAPI cursor.

Accepting a payment runs a handful of small statements per request inside
the group commit; SQLAlchemy's per-execution machinery costs several times
what SQLite needs for each (figures in docs/architecture.md). The outbox's
``Prepared`` keeps SQLAlchemy's SQL generation and bind processing and drops
that overhead; this module adds the shapes paycon needs.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Table, insert

from outbox.prepared import Prepared


def prepared_insert(table: Table, *, skip: Sequence[str] = ()) -> Prepared:
    """An INSERT of every column of ``table`` but ``skip`` (e.g. an autoincrement id)."""
    keys = [column.key for column in table.columns if column.key not in skip]
    return Prepared(insert(table), column_keys=keys)


def raw(conn: Connection, sql: str) -> None:
    """Run a parameterless statement (SAVEPOINT, RELEASE ...) on the DBAPI cursor."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
    finally:
        cursor.close()
