"""A turn or a background task that is cancelled in the middle of a transaction (a shutdown,
a task that is stopped) leaves the store as it was and usable at once: what the cancelled
transaction wrote is rolled back, and the next one neither waits for a connection nor fails.

On SQLite a statement runs on the store's own thread; the cancelled caller cannot take it
back. Until 2026-12-02 the rollback was decided before that statement had begun the
transaction, so its connection stayed checked out and the next write waited 60 seconds and
failed ("QueuePool limit of size 1 overflow 0 reached"). The first test holds a statement on
that thread, so it is SQLite's; the second runs on both engines."""

from __future__ import annotations

import asyncio
import contextlib
import threading

import pytest
from sqlalchemy import Connection

from store.database import Database
from store.key_values import KeyValueStore


async def test_a_transaction_cancelled_while_its_statement_runs_is_rolled_back(db_path):
    db = Database(db_path)
    await db.open()
    kv = KeyValueStore(db)
    await kv.write({"kept": (None, {"n": 1})})
    running, release = threading.Event(), threading.Event()

    def write_then_wait(conn: Connection) -> None:
        conn.exec_driver_sql("UPDATE bot_state SET data = '{\"n\": 2}' WHERE key = 'kept'")
        running.set()
        release.wait(10)

    async def cancelled_writer() -> None:
        async with db.transaction() as conn:
            await conn.run_sync(write_then_wait)

    task = asyncio.create_task(cancelled_writer())
    try:
        for _ in range(500):
            if running.is_set():
                break
            await asyncio.sleep(0.01)
        assert running.is_set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        release.set()
    async with asyncio.timeout(5):  # at once, not after a pool timeout
        await kv.write({"next": (None, {"n": 3})})
        stored = await kv.read(["kept", "next"])
    assert {key: data for key, (_etag, data) in stored.items()} == {
        "kept": {"n": 1},
        "next": {"n": 3},
    }
    await db.close()


@pytest.mark.both_engines
async def test_a_transaction_cancelled_before_its_first_statement_ends_holds_nothing(db_path):
    """Cancelled while its first statement is still queued behind another caller's."""
    db = Database(db_path)
    await db.open()
    kv = KeyValueStore(db)
    writers = [asyncio.create_task(kv.write({f"k{n}": (None, n)})) for n in range(20)]
    await asyncio.sleep(0)
    for task in writers[::2]:
        task.cancel()
    results = await asyncio.gather(*writers, return_exceptions=True)
    async with asyncio.timeout(5):
        await kv.write({"after": (None, True)})
        stored = await kv.read([f"k{n}" for n in range(20)] + ["after"])
    written = {n for n, r in enumerate(results) if not isinstance(r, BaseException)}
    assert written >= set(range(1, 20, 2))  # the writers that were not cancelled
    assert {key for key in stored} == {f"k{n}" for n in written} | {"after"}
    await db.close()
