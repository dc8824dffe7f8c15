"""The databases the tests run on: a SQLite file, or a fresh PostgreSQL database per test.

PostgreSQL comes from ``TEST_POSTGRES_URL`` (scripts/test.sh starts a private cluster and
sets it). Each test gets its own database, copied from a template that was migrated once per
test session, and dropped after the test. ``rows`` and ``execute`` read and change either
engine synchronously, as the tests did with ``sqlite3`` (``?`` placeholders on both).
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.engine import make_url

from store.database import Database

ENGINES = ("sqlite", "postgresql")
T = TypeVar("T")

#: A database the tests use: the path of a SQLite file or a PostgreSQL URL.
Target = Path | str


def wanted_engines() -> tuple[str, ...]:
    """Both engines, unless TEST_ENGINES names fewer (quick local runs); CI runs both."""
    if os.environ.get("CI", "").lower() == "true":
        return ENGINES
    named = os.environ.get("TEST_ENGINES", "")
    chosen = tuple(e for e in ENGINES if e in {n.strip() for n in named.split(",")})
    return chosen or ENGINES


def is_postgres(target: Target) -> bool:
    return isinstance(target, str) and target.startswith("postgresql")


def _blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to the end from synchronous test code, also inside a running loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _dsn(url: str) -> str:
    """asyncpg's own DSN for a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresServer:
    """The test server of TEST_POSTGRES_URL: one template per session, a copy per test."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.template = f"hjt_template_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self._template_ready = False

    def _url_of(self, database: str) -> str:
        return self.url.set(database=database).render_as_string(hide_password=False)

    async def _admin(self, *statements: str) -> None:
        conn = await asyncpg.connect(_dsn(self._url_of(self.url.database or "postgres")))
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    def new_database(self) -> str:
        if not self._template_ready:
            _blocking(self._admin(f'CREATE DATABASE "{self.template}"'))

            async def migrate() -> None:
                db = Database(self._url_of(self.template))
                await db.open()
                await db.close()

            _blocking(migrate())
            self._template_ready = True
        name = f"hjt_{uuid.uuid4().hex[:16]}"
        # WAL_LOG: no checkpoint per copy (FILE_COPY's), a fourth of the time for a small one.
        _blocking(
            self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}" STRATEGY WAL_LOG')
        )
        return self._url_of(name)

    def empty_database(self) -> str:
        """A database with no tables (what a new server gives the bot)."""
        name = f"hjt_{uuid.uuid4().hex[:16]}"
        _blocking(self._admin(f'CREATE DATABASE "{name}"'))
        return self._url_of(name)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        _blocking(self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        if self._template_ready:
            _blocking(self._admin(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)'))

    def admin(self, *statements: str) -> None:
        _blocking(self._admin(*statements))


def _numbered(sql: str) -> str:
    count = 0

    def number(_match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f"${count}"

    return re.sub(r"\?", number, sql)


async def _pg_rows(url: str, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(_dsn(url))
    try:
        return [tuple(r) for r in await conn.fetch(_numbered(sql), *params)]
    finally:
        await conn.close()


def rows(target: Target, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """The rows of one query, as tuples, on either engine."""
    if is_postgres(target):
        return _blocking(_pg_rows(str(target), sql, params))
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(target)) as conn:
        return [tuple(r) for r in conn.execute(sql, params).fetchall()]


def execute(target: Target, sql: str, *params: Any) -> None:
    """One changing statement, committed, on either engine."""
    if is_postgres(target):
        _blocking(_pg_rows(str(target), sql, params))
        return
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(target)) as conn, conn:
        conn.execute(sql, params)


async def downgrade(target: Target, revision: str) -> None:
    """Take the store's schema down to an Alembic ``revision``, as an older release left it."""
    from alembic import command

    from store.migrate import config

    db = Database(target)
    await db.open()
    try:

        def down(sync: Any) -> None:
            cfg = config()
            cfg.attributes["connection"] = sync
            command.downgrade(cfg, revision)

        async with db.transaction() as conn:
            await conn.run_sync(down)
    finally:
        await db.close()
