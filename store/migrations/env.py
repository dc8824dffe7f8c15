"""Alembic's environment: migrations run on the connection the store hands over
(``store.migrate``), inside the store's own transaction; there is no offline mode."""

from __future__ import annotations

from alembic import context

from store.schema import metadata

context.configure(
    connection=context.config.attributes["connection"],
    target_metadata=metadata,
    compare_server_default=True,
)
with context.begin_transaction():
    context.run_migrations()
