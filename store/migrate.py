"""Alembic, run by the store itself at start (no alembic.ini, no CLI needed).

``upgrade`` brings any database to the newest revision in one transaction: a new database
gets every revision, a SQLite file of the first release (``schema_migrations`` at version 4,
the revisions before Alembic) is stamped at the baseline revision and upgraded from there,
and a database at a revision this code does not know (newer code upgraded it) is refused.
On PostgreSQL a transaction-scoped advisory lock makes instances that start together
migrate one after the other (transaction-scoped, so it also holds behind a PgBouncer).
"""

from __future__ import annotations

import logging
from functools import cache
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from store.database import BASELINE, LEGACY_TABLE, LEGACY_VERSION, MIGRATIONS_DIR, StoreError
from store.schema import metadata

if TYPE_CHECKING:
    from store.database import Database

log = logging.getLogger(__name__)
# Alembic's "Running upgrade …" lines stay; its plugin set-up at every start is noise.
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
_MIGRATION_LOCK = 7_311_214_001


def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


@cache
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(config())


def head() -> str:
    revision = _script().get_current_head()
    assert revision is not None
    return revision


def known_revisions() -> frozenset[str]:
    return frozenset(script.revision for script in _script().walk_revisions())


def state_of(revision: str | None) -> str:
    if revision == head():
        return "current"
    return "older" if revision is None or revision in known_revisions() else "newer"


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


async def upgrade(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.run_sync(_upgrade, db.engine_name)


def _upgrade(conn: Connection, engine_name: str) -> None:
    if engine_name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
    tables = set(inspect(conn).get_table_names())
    current = current_revision(conn) if "alembic_version" in tables else None
    cfg = config()
    cfg.attributes["connection"] = conn
    if current is None and LEGACY_TABLE in tables:
        version = conn.execute(text(f"SELECT MAX(version) FROM {LEGACY_TABLE}")).scalar()
        if version != LEGACY_VERSION:
            raise StoreError(
                f"the database is at schema version {version} of a build before the"
                f" release of 2026-12; open it with that release first (version {LEGACY_VERSION})"
            )
        log.info("database of the release of 2026-12: stamped at revision %s", BASELINE)
        command.stamp(cfg, BASELINE)
        current = BASELINE
    elif current is None and tables & set(metadata.tables):
        raise StoreError(
            "the database holds tables of this bot but no schema revision: it was not made by"
            " the bot, refusing to change it"
        )
    elif current is not None and current not in known_revisions():
        raise StoreError(
            f"the database schema is at revision {current}, newer than this version of the bot"
            f" knows (up to {head()}): run the newer version, or restore a backup"
        )
    if current != head():
        command.upgrade(cfg, "head")
        log.info("database migrated from revision %s to %s", current, head())
