"""paycon's migrations build exactly ``outbox.schema``, and undo and redo the outbox's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, create_engine

from outbox import metadata
from paycon.storage.migrate import alembic_config, upgrade_to_head

OUTBOX_TABLES = {"outbox_tasks", "outbox_attempts", "outbox_audit", "outbox_counters"}


def _only_outbox(obj: Any, name: str | None, type_: str, reflected: bool, other: Any) -> bool:
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table in OUTBOX_TABLES


def _outbox_diff(conn: Connection) -> list[Any]:
    """What autogenerate would change in the outbox tables to match the metadata."""
    context = MigrationContext.configure(
        conn, opts={"compare_type": True, "include_object": _only_outbox}
    )
    return list(compare_metadata(context, metadata))


@pytest.fixture
def sync_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'outbox.db'}")
    with engine.begin() as conn:
        upgrade_to_head(conn)
    yield engine
    engine.dispose()


def test_the_migrated_schema_matches_the_outbox_metadata(sync_engine: Engine) -> None:
    with sync_engine.connect() as conn:
        assert _outbox_diff(conn) == []
        tables = set(conn.dialect.get_table_names(conn))
    assert tables >= OUTBOX_TABLES


@pytest.mark.parametrize(
    ("revision", "gone"), [("0001", "outbox_audit"), ("0006", "ix_outbox_tasks_resource_state_id")]
)
def test_outbox_migrations_downgrade_and_upgrade_again(
    sync_engine: Engine, revision: str, gone: str
) -> None:
    with sync_engine.begin() as conn:
        command.downgrade(alembic_config(conn), revision)
        names = set(conn.dialect.get_table_names(conn)) | {
            index["name"] for index in conn.dialect.get_indexes(conn, "outbox_tasks")
        }
        assert gone not in names
        command.upgrade(alembic_config(conn), "head")
    with sync_engine.connect() as conn:
        assert _outbox_diff(conn) == []
