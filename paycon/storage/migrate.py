"""Alembic migrations, applied at start on the writer's connection."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(conn: Connection | None = None) -> Config:
    """An alembic Config pointing at paycon's migrations (no ini file needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    return config


def upgrade_to_head(conn: Connection) -> None:
    """Apply every pending migration inside ``conn``'s open transaction."""
    command.upgrade(alembic_config(conn), "head")


@functools.cache
def head_revision() -> str | None:
    """The newest migration this code knows (read from the scripts once)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(conn: Connection) -> str | None:
    """The migration the database is at (None before the first)."""
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
