"""A write transaction is one: what it wrote is there for everyone once it ends, and nothing
of it when it fails half-way, on both engines. On PostgreSQL the pool's connections rest in
autocommit between transactions (store/database.py), so these tests also prove that a
transaction really begins: otherwise its first statement would be committed at once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from store.database import Database
from store.key_values import KeyValueStore

pytestmark = pytest.mark.both_engines

UPDATE = text("UPDATE bot_state SET data = :data WHERE key = 'kept'")


@pytest.fixture
async def store(db_path) -> AsyncIterator[tuple[Database, KeyValueStore]]:
    """The store, with one document ("kept": {"n": 1})."""
    db = Database(db_path)
    await db.open()
    kv = KeyValueStore(db)
    await kv.write({"kept": (None, {"n": 1})})
    yield db, kv
    await db.close()


async def test_a_transaction_that_fails_half_way_leaves_nothing_of_it(store):
    db, kv = store
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await conn.execute(UPDATE, {"data": '{"n": 2}'})
            raise RuntimeError("half-way")
    assert (await kv.read(["kept"]))["kept"][1] == {"n": 1}

    async with db.transaction() as conn:
        await conn.execute(UPDATE, {"data": '{"n": 3}'})
    assert (await kv.read(["kept"]))["kept"][1] == {"n": 3}


# PostgreSQL only: on SQLite the process has one connection, so a read waits for the end of
# the transaction and cannot look inside it.
@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
async def test_others_see_a_transactions_writes_only_when_it_commits(store):
    db, kv = store
    async with db.transaction() as conn:
        await conn.execute(UPDATE, {"data": '{"n": 2}'})
        assert (await kv.read(["kept"]))["kept"][1] == {"n": 1}, "not committed yet"
    assert (await kv.read(["kept"]))["kept"][1] == {"n": 2}
