"""The store's connections: what a statement returns, and how each engine runs it.

Both engines give the store modules the same small interface, ``StoreConnection``: ``execute``
a statement and get its rows back already read (``Rows``), or ``run_sync`` a function on the
underlying synchronous SQLAlchemy connection (Alembic, inspection).

- PostgreSQL: SQLAlchemy's asyncio extension over asyncpg (``PooledConnection`` wraps its
  ``AsyncConnection``); asyncpg reads a statement's rows in one round trip.
- SQLite: SQLAlchemy's synchronous pysqlite dialect on one thread of its own
  (``SqliteThread``). SQLite is a file in this process, so "async" only means "not on the event
  loop": SQLAlchemy's aiosqlite dialect hands every cursor call (create, execute, description,
  fetch, close) to aiosqlite's thread and back, about ten thread hops per statement, which
  made the p99 of a turn at 50 conversations 60 ms on two cores. Here a whole statement, its
  rows included, is one hop; the sqlite3 connection is only ever touched on its thread. The
  process keeps one connection, so turns queue for it (an asyncio lock) as they did for the
  aiosqlite pool of one; the lock is taken before the thread is asked, so the thread never
  waits for a connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, CursorResult, Engine, Executable, Row
from sqlalchemy.engine import Dialect, FrozenResult, MappingResult, Result
from sqlalchemy.exc import ResourceClosedError
from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")
Parameters = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None


class Rows:
    """A statement's outcome, read completely: its rows (if it returns any) and its rowcount.

    The methods are those of SQLAlchemy's ``Result`` that the store uses; each call reads the
    buffered rows afresh.
    """

    def __init__(self, result: CursorResult[Any]) -> None:
        self.rowcount: int = result.rowcount
        self._rows: FrozenResult[Any] | None = result.freeze() if result.returns_rows else None

    def _result(self) -> Result[Any]:
        if self._rows is None:
            raise ResourceClosedError("This result object does not return rows.")
        return self._rows()

    def mappings(self) -> MappingResult:
        return self._result().mappings()

    def all(self) -> Sequence[Row[Any]]:
        return self._result().all()

    def first(self) -> Row[Any] | None:
        return self._result().first()

    def scalar(self) -> Any:
        return self._result().scalar()

    def scalar_one(self) -> Any:
        return self._result().scalar_one()

    def scalar_one_or_none(self) -> Any:
        return self._result().scalar_one_or_none()


class StoreConnection(Protocol):
    """What the store modules do with a connection, on either engine."""

    @property
    def dialect(self) -> Dialect: ...

    async def execute(self, statement: Executable, parameters: Parameters = None) -> Rows: ...

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T: ...


class PooledConnection:
    """A connection of SQLAlchemy's asyncio pool (PostgreSQL)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    @property
    def dialect(self) -> Dialect:
        return self._conn.dialect

    async def execute(self, statement: Executable, parameters: Parameters = None) -> Rows:
        return Rows(await self._conn.execute(statement, parameters))

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._conn.run_sync(fn, *args)


class ThreadConnection:
    """A transaction on the SqliteThread; every call is one hop to that thread. It begins
    with its first statement (in the same hop), so a transaction of one statement and its
    commit are two hops."""

    def __init__(self, thread: SqliteThread, *, write: bool) -> None:
        self._thread = thread
        self._write = write
        self._conn: Connection | None = None

    def _connection(self) -> Connection:
        """On the thread: the transaction's connection, begun when first asked for."""
        if self._conn is None:
            self._conn = _begin(self._thread.engine, self._write)
        return self._conn

    @property
    def dialect(self) -> Dialect:
        return self._thread.engine.dialect

    async def execute(self, statement: Executable, parameters: Parameters = None) -> Rows:
        return await self._thread.call(
            lambda: Rows(self._connection().execute(statement, parameters))
        )

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._thread.call(lambda: fn(self._connection(), *args))

    async def end(self, *, commit: bool) -> None:
        # Read on the thread, after every statement sent before: a statement whose caller
        # was cancelled still runs there and may have begun the transaction since.
        if self._conn is not None or self._thread.busy:
            await self._thread.call(lambda: self._end_here(commit))

    def _end_here(self, commit: bool) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            _end(conn, commit=commit)


class SqliteThread:
    """The one thread that runs a synchronous SQLite engine for this process."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._lock: asyncio.Lock | None = None
        self._pending = 0

    @property
    def busy(self) -> bool:
        """Whether a call sent to the thread has not finished yet."""
        return self._pending > 0

    async def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the thread. A caller that is cancelled does not take the call back:
        once sent, it runs to its end (a transaction's BEGIN, a rollback), in the order the
        calls were sent, so what comes after it finds the connection as it left it."""
        self._pending += 1
        job = asyncio.get_running_loop().run_in_executor(self._executor, fn)
        job.add_done_callback(self._done)
        return await asyncio.shield(job)

    def _done(self, job: asyncio.Future[Any]) -> None:
        self._pending -= 1
        if not job.cancelled():
            job.exception()  # a cancelled caller's error is theirs to lose, not the log's

    @asynccontextmanager
    async def connection(self, *, write: bool) -> AsyncIterator[ThreadConnection]:
        """The connection for one transaction: ``write`` begins it with BEGIN IMMEDIATE (see
        store.database), otherwise it reads in autocommit mode. Committed at the end, rolled
        back on any error."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            conn = ThreadConnection(self, write=write)
            try:
                yield conn
            except BaseException:
                await conn.end(commit=False)
                raise
            await conn.end(commit=True)

    async def read(self, statement: Executable, parameters: Parameters = None) -> Rows:
        """One statement outside a transaction (autocommit): connect, run, read, return the
        connection, all in one hop."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            return await self.call(lambda: _read(self.engine, statement, parameters))

    async def write(self, statement: Executable, parameters: Parameters = None) -> Rows:
        """One statement in a write transaction of its own: begin, run, commit (or roll
        back), all in one hop."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            return await self.call(lambda: _write(self.engine, statement, parameters))

    async def close(self) -> None:
        await self.call(self.engine.dispose)
        self._executor.shutdown(wait=True)


def _begin(engine: Engine, write: bool) -> Connection:
    conn = engine.connect()
    if write:
        conn = conn.execution_options(store_write=True)
    conn.begin()
    return conn


def _read(engine: Engine, statement: Executable, parameters: Parameters) -> Rows:
    with engine.connect() as conn:
        rows = Rows(conn.execute(statement, parameters))
        conn.commit()
        return rows


def _write(engine: Engine, statement: Executable, parameters: Parameters) -> Rows:
    conn = _begin(engine, write=True)
    try:
        rows = Rows(conn.execute(statement, parameters))
    except BaseException:
        _end(conn, commit=False)
        raise
    _end(conn, commit=True)
    return rows


def _end(conn: Connection, *, commit: bool) -> None:
    try:
        if commit:
            conn.commit()
        else:
            conn.rollback()
    finally:
        conn.close()
