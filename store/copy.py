"""A one-time move of a SQLite store into PostgreSQL: every table, in one transaction.

For a bot that ran on its embedded SQLite file and moves to the shared PostgreSQL store
(several instances). The SQLite file is first brought to the newest revision, as the bot
does at start (nothing is lost: the revisions only add); the PostgreSQL database is
migrated if it is new, and refused if any table of the bot already holds a row, so the copy
can never mix two stores. The rows are written in one transaction on PostgreSQL: after an
error the target is as empty as before, and the copy can be run again. The SQLite file is
left as it is (keep it as a backup until the bot runs on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from store.database import Auth, Database, StoreError, _one_line
from store.schema import metadata

#: Rows written per INSERT.
CHUNK = 1000


async def _counts(db: Database) -> dict[str, int]:
    """Rows per table of the bot, in the order the tables depend on each other."""
    found: dict[str, int] = {}
    async with db.connection() as conn:
        for table in metadata.sorted_tables:
            count = (await conn.execute(select(func.count()).select_from(table))).scalar()
            found[table.name] = int(count or 0)
    return found


async def copy_store(
    source: str, target: str, *, auth: Auth = "password", client_id: str = ""
) -> dict[str, int]:
    """Copy every table of the SQLite store ``source`` (a file or a sqlite URL) into the
    empty PostgreSQL database ``target`` (signing in as the bot does: ``auth``, with
    ``client_id``); the rows copied per table. StoreError (one line) when it cannot: nothing
    is written to the target then."""
    src = Database(source)
    if src.engine_name != "sqlite":
        raise StoreError("--from must be a SQLite file or a sqlite+aiosqlite:/// URL")
    if Database(target).engine_name != "postgresql":
        raise StoreError("--to must be a postgresql+asyncpg:// URL")
    dst = Database(target, auth=auth, client_id=client_id)
    if src.path is not None and not src.path.is_file():
        raise StoreError(f"there is no SQLite file at {src.path}")
    await src.open()
    try:
        await dst.open()
        try:
            return await _copy(src, dst)
        finally:
            await dst.close()
    finally:
        await src.close()


async def _copy(src: Database, dst: Database) -> dict[str, int]:
    held = {name: n for name, n in (await _counts(dst)).items() if n}
    if held:
        what = ", ".join(f"{name} {n}" for name, n in held.items())
        raise StoreError(f"{dst.label} already holds data ({what}): the copy needs an empty one")
    copied: dict[str, int] = {}
    try:
        async with src.connection() as reading, dst.transaction() as writing:
            for table in metadata.sorted_tables:
                found = (await reading.execute(select(table))).mappings().all()
                copied[table.name] = len(found)
                for start in range(0, len(found), CHUNK):
                    values: Sequence[dict[str, Any]] = [
                        dict(row) for row in found[start : start + CHUNK]
                    ]
                    await writing.execute(table.insert(), values)
    except StoreError:
        raise
    except Exception as error:  # noqa: BLE001 - every driver fails in its own way
        raise StoreError(f"the copy failed, nothing was written ({_one_line(error)})") from None
    return copied


def summary(copied: dict[str, int], target: str) -> str:
    """One line: where to, and the rows of each table."""
    rows = ", ".join(f"{name} {n}" for name, n in copied.items())
    return f"Copied {sum(copied.values())} rows to {target}: {rows}."
