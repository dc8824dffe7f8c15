"""The store's connection to SQLite or PostgreSQL, its migrations and its transactions.

One implementation over SQLAlchemy Core (async): ``sqlite+aiosqlite`` for the embedded
default, ``postgresql+asyncpg`` for several instances on one server. What differs is only
what the engines need:

- SQLite has one writer: a write transaction starts with ``BEGIN IMMEDIATE``, so it takes the
  write lock before its first read and two processes on one file never interleave; this
  process keeps one connection, so its turns queue for it as they did for the old lock.
  Reads outside a transaction run in SQLite's autocommit mode. Statements run on one thread of
  their own through SQLAlchemy's synchronous pysqlite dialect (store.connections says why);
  ``DATABASE_URL`` keeps the ``sqlite+aiosqlite`` scheme that earlier versions documented.
- PostgreSQL lends connections from a pool in autocommit mode, so a read on its own is one
  round trip, and so is the pool's check that a connection still works before lending it (in
  a transaction that check takes three: BEGIN, the check, ROLLBACK). Transactions ask for
  READ COMMITTED when they begin; the compare-and-set
  updates (``WHERE version = :expected``) and the unique keys make concurrent writers safe,
  and claims lock rows with ``FOR UPDATE SKIP LOCKED`` (SQLite's compiler leaves it out).

Migrations are Alembic revisions (store/migrations), applied at ``open``. A SQLite file of the
first release (its own ``schema_migrations`` table at version 4) is recognised and stamped
at the first revision, then upgraded in place.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from sqlalchemy import Connection, Executable, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, RowMapping, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from store.connections import PooledConnection, Rows, SqliteThread, StoreConnection

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
DEFAULT_URL = "sqlite+aiosqlite:///data/hjemmearbejde.sqlite3"
#: The Entra ID scope of Azure Database for PostgreSQL (its token is the password).
ENTRA_SCOPE = "https://ossrdbms-aad.database.windows.net/.default"
#: The first release's own migration table and the version its last migration had.
LEGACY_TABLE, LEGACY_VERSION = "schema_migrations", 4
#: The revision that is exactly the schema of the first release.
BASELINE = "0001"
#: Seconds to wait for a new connection.
CONNECT_TIMEOUT = 10.0
#: Seconds a PostgreSQL statement may take (asyncpg cancels it then), and the longest wait for
#: a connection of the pool: a server that hangs fails a turn instead of holding it.
QUERY_TIMEOUT = 15.0

Engine = Literal["sqlite", "postgresql"]
Auth = Literal["password", "entra"]


class StoreError(Exception):
    """The store cannot be used; the message is one line for the operator."""


def utc_now() -> str:
    """Microseconds, so that "the newest" is well defined between quick turns."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def store_url(target: str | Path) -> URL:
    """The SQLAlchemy URL of ``target``: a URL, or the path of a SQLite file.

    ``postgresql://`` and ``sqlite://`` (as Azure and other tools write them) get the async
    drivers; any other scheme is refused.
    """
    if isinstance(target, Path) or "://" not in target:
        return URL.create("sqlite+aiosqlite", database=str(target))
    try:
        url = make_url(target)
    except ArgumentError:
        raise StoreError("DATABASE_URL is not a database URL") from None
    backend, _, driver = url.drivername.partition("+")
    wanted = {"sqlite": "aiosqlite", "postgresql": "asyncpg", "postgres": "asyncpg"}.get(backend)
    if wanted is None or driver not in ("", wanted):
        raise StoreError(
            f"DATABASE_URL scheme {url.drivername!r} is not supported: use"
            " sqlite+aiosqlite:///<file> or postgresql+asyncpg://<user>@<host>:5432/<database>"
        )
    backend = "postgresql" if backend == "postgres" else backend
    return url.set(drivername=f"{backend}+{wanted}")


def shown(url: URL) -> str:
    """The URL without its password, for logs and messages."""
    return url.render_as_string(hide_password=True)


class TokenCredential(Protocol):
    """What the store needs of an azure-identity async credential."""

    async def get_token(self, *scopes: str) -> Any: ...  # AccessToken: .token, .expires_on

    async def close(self) -> None: ...


class EntraPassword:
    """The password of a new PostgreSQL connection: an Entra ID access token.

    asyncpg calls it for every new connection; the token is fetched once and reused until
    ``margin`` seconds before it expires, so a pool that opens connections costs no extra
    sign-ins, and a connection opened late in the token's life still gets a valid one.
    """

    def __init__(
        self,
        credential: TokenCredential,
        *,
        scope: str = ENTRA_SCOPE,
        margin: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.credential = credential
        self.scope = scope
        self.margin = margin
        self.clock = clock
        self._token: Any = None
        self._lock = asyncio.Lock()

    async def __call__(self) -> str:
        async with self._lock:
            if self._token is None or self._token.expires_on - self.clock() < self.margin:
                self._token = await self.credential.get_token(self.scope)
                log.info("database: new Entra ID token for PostgreSQL")
            return str(self._token.token)


def default_credential(client_id: str = "") -> TokenCredential:
    """azure-identity's chain: the managed identity in Azure (``client_id`` for a
    user-assigned one), a developer's Azure CLI sign-in elsewhere."""
    from azure.identity.aio import DefaultAzureCredential

    if client_id:
        return DefaultAzureCredential(managed_identity_client_id=client_id)
    return DefaultAzureCredential()


def _one_line(error: BaseException) -> str:
    while isinstance(inner := getattr(error, "orig", None), BaseException):
        error = inner  # SQLAlchemy's wrapper: the driver's own error is clearer
    message = " ".join(str(error).split()) or type(error).__name__
    return f"{type(error).__name__}: {message}"[:300]


class DatabaseSettings(Protocol):
    """The settings the store reads (settings.Settings has them)."""

    @property
    def database(self) -> str | Path: ...

    database_auth: Auth
    database_client_id: str
    database_timeout: float


class Database:
    @classmethod
    def from_settings(cls, settings: DatabaseSettings) -> Database:
        return cls(
            settings.database,
            auth=settings.database_auth,
            client_id=settings.database_client_id,
            timeout=settings.database_timeout,
        )

    def __init__(
        self,
        target: str | Path,
        *,
        auth: Auth = "password",
        credential: TokenCredential | None = None,
        client_id: str = "",
        timeout: float = QUERY_TIMEOUT,
    ) -> None:
        self.url = store_url(target)
        #: PostgreSQL: the longest a statement or the wait for a pooled connection may take.
        self.timeout = timeout
        self.engine_name: Engine = (
            "postgresql" if self.url.drivername.startswith("postgresql") else "sqlite"
        )
        if auth == "entra" and self.engine_name != "postgresql":
            raise StoreError("DATABASE_AUTH=entra needs a PostgreSQL DATABASE_URL")
        self.auth = auth
        self._credential = credential
        self._own_credential = credential is None
        self._client_id = client_id
        self._engine: AsyncEngine | None = None
        self._sqlite: SqliteThread | None = None
        #: With auth="entra": what asyncpg asks for each new connection's password.
        self.entra_password: EntraPassword | None = None
        #: Where a SQLite file lives (None for PostgreSQL).
        self.path = Path(self.url.database or "") if self.engine_name == "sqlite" else None

    @property
    def label(self) -> str:
        """Where the data is, for people: the SQLite file, or the URL without its password."""
        return str(self.path) if self.path is not None else shown(self.url)

    # --- opening and closing --------------------------------------------------------------

    def _open_sqlite(self) -> SqliteThread:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            self.url.set(drivername="sqlite+pysqlite"),
            pool_size=1,
            max_overflow=0,
            pool_timeout=60,
        )
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return SqliteThread(engine)

    def _create_engine(self) -> AsyncEngine:
        query = dict(self.url.query)
        connect_args: dict[str, Any] = {
            "timeout": min(CONNECT_TIMEOUT, self.timeout),
            "command_timeout": self.timeout,
        }
        if "ssl" in query:
            connect_args["ssl"] = query.pop("ssl")
        elif self.auth == "entra":
            connect_args["ssl"] = "require"  # a token never travels in clear text
        if query.pop("statement_cache_size", None) == "0":
            # Behind a PgBouncer in transaction mode: no prepared statement outlives a query.
            connect_args["statement_cache_size"] = 0
            connect_args["prepared_statement_cache_size"] = 0
            connect_args["prepared_statement_name_func"] = lambda: f"__s_{uuid.uuid4().hex}__"
        if self.auth == "entra":
            if self._credential is None:
                self._credential = default_credential(self._client_id)
            self.entra_password = EntraPassword(self._credential)
            connect_args["password"] = self.entra_password
        return create_async_engine(
            self.url.set(query=query),
            connect_args=connect_args,
            # Connections above pool_size are closed when they come back: with 5 kept and
            # 10 more at a burst, each burst opened and closed connections (a new login and
            # new prepared statements), which showed in p99. At most 20 per instance.
            pool_size=15,
            max_overflow=5,
            pool_timeout=self.timeout,
            pool_pre_ping=True,
            pool_recycle=1800,
            # Autocommit between transactions (the module docstring); transaction() begins
            # each one in READ COMMITTED.
            isolation_level="AUTOCOMMIT",
        )

    async def open(self, *, migrate: bool = True) -> None:
        """Connect, migrate to the newest revision; StoreError with one line if it cannot."""
        if self.engine_name == "sqlite":
            self._sqlite = self._open_sqlite()
        else:
            self._engine = self._create_engine()
        try:
            await self.fetchone(text("SELECT 1"))
        except Exception as error:  # noqa: BLE001 - every driver fails in its own way
            await self.close()
            raise StoreError(
                f"the database {shown(self.url)} cannot be reached ({_one_line(error)})"
            ) from None
        if not migrate:
            return
        from store.migrate import upgrade

        try:
            await upgrade(self)
        except StoreError:
            await self.close()
            raise

    async def close(self) -> None:
        if self._sqlite is not None:
            await self._sqlite.close()
            self._sqlite = None
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
        if self._credential is not None and self._own_credential:
            await self._credential.close()
            self._credential = None

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("database is not open")
        return self._engine

    # --- statements -----------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[StoreConnection]:
        """One write transaction, committed at the end, rolled back on any error (SQLite:
        BEGIN IMMEDIATE … COMMIT)."""
        if self._sqlite is not None:
            async with self._sqlite.connection(write=True) as conn:
                yield conn
            return
        async with self.engine.connect() as pooled:
            committed = await pooled.execution_options(isolation_level="READ COMMITTED")
            async with committed.begin():
                yield PooledConnection(committed)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[StoreConnection]:
        """A connection for several reads (no write lock on SQLite; autocommit on
        PostgreSQL, each statement on its own)."""
        if self._sqlite is not None:
            async with self._sqlite.connection(write=False) as conn:
                yield conn
            return
        async with self.engine.connect() as pooled:
            yield PooledConnection(pooled)

    async def _read(self, statement: Executable | str, params: Mapping[str, Any] | None) -> Rows:
        """One statement on its own, in autocommit mode on both engines (on PostgreSQL no
        BEGIN and COMMIT round trips around it)."""
        if self._sqlite is not None:
            return await self._sqlite.read(_statement(statement), dict(params or {}))
        async with self.engine.connect() as pooled:
            return Rows(await pooled.execute(_statement(statement), dict(params or {})))

    async def write(self, statement: Executable, params: Mapping[str, Any] | None = None) -> Rows:
        """One statement in a write transaction of its own (on SQLite one hop to its
        thread); its ``rowcount`` tells what it changed."""
        if self._sqlite is not None:
            return await self._sqlite.write(statement, dict(params or {}))
        async with self.transaction() as conn:
            return await conn.execute(statement, dict(params or {}))

    async def fetchone(
        self, statement: Executable | str, params: Mapping[str, Any] | None = None
    ) -> RowMapping | None:
        return (await self._read(statement, params)).mappings().first()

    async def fetchall(
        self, statement: Executable | str, params: Mapping[str, Any] | None = None
    ) -> Sequence[RowMapping]:
        return (await self._read(statement, params)).mappings().all()

    def insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        """``INSERT`` with ``ON CONFLICT`` clauses, in this engine's dialect."""
        return insert_for(self.engine_name, table)

    # --- health ---------------------------------------------------------------------------

    async def ping(self) -> bool:
        try:
            await self.fetchone(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means "not reachable"
            return False
        return True

    async def schema_version(self) -> str | None:
        """The Alembic revision the database is at."""
        from store import migrate

        async with self.connection() as conn:
            return await conn.run_sync(migrate.current_revision)

    async def schema_state(self) -> str:
        """ "current", or "newer" when another instance's newer code upgraded the database,
        or "older" (not upgraded)."""
        from store import migrate

        return migrate.state_of(await self.schema_version())


def insert_for(engine_name: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    """``INSERT … ON CONFLICT`` is spelled alike by both engines, but SQLAlchemy builds it
    with each dialect's own construct."""
    if engine_name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _statement(statement: Executable | str) -> Executable:
    return text(statement) if isinstance(statement, str) else statement


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # No implicit transactions: BEGIN is written by _sqlite_begin, so reads stay outside.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA foreign_keys=ON",
        "PRAGMA busy_timeout=5000",
    ):
        cursor.execute(pragma)
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    if conn.get_execution_options().get("store_write"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
