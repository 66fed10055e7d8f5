"""Alembic environment: runs on the connection paycon hands over."""

from __future__ import annotations

from alembic import context

from outbox.schema import metadata as outbox_metadata
from paycon.storage.schema import metadata as paycon_metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run migrations through paycon (paycon.storage.migrate), not the alembic CLI"
    )

context.configure(
    connection=connection,
    target_metadata=[paycon_metadata, outbox_metadata],
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
