"""An in-memory SQLite database with the outbox tables, for the units of work."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import StaticPool

from outbox import metadata


@pytest.fixture
def engine() -> Iterator[Engine]:
    """One in-memory database (tables from the metadata, no migrations), with
    pysqlite's own transaction handling off so SAVEPOINT works as on a real writer."""
    engine = create_engine("sqlite://", poolclass=StaticPool)

    @event.listens_for(engine, "connect")
    def _autocommit_driver(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")

    metadata.create_all(engine)
    yield engine
    engine.dispose()
