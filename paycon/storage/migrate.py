"""Alembic migrations, applied at start on the writer's connection."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

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
