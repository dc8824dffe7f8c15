"""botbuilder's Storage on the store: round trip, eTag conflicts, persistence across reopen,
on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from bot.state_storage import DatabaseStorage
from store.database import Database
from store.key_values import KeyValueStore
from store.migrate import head

pytestmark = pytest.mark.both_engines


@pytest.fixture
async def storage(db_path):
    db = Database(db_path)
    await db.open()
    yield DatabaseStorage(KeyValueStore(db))
    await db.close()


async def test_round_trip_with_etag(storage):
    await storage.write({"conv/1": {"active_dialogue": "abc"}})
    item = (await storage.read(["conv/1", "missing"]))["conv/1"]
    assert item["active_dialogue"] == "abc" and item["e_tag"]
    assert "missing" not in await storage.read(["missing"])


async def test_stale_etag_is_refused(storage):
    await storage.write({"k": {"n": 1}})
    first = (await storage.read(["k"]))["k"]
    second = (await storage.read(["k"]))["k"]
    first["n"] = 2
    await storage.write({"k": first})
    second["n"] = 3
    with pytest.raises(KeyError):
        await storage.write({"k": second})
    assert (await storage.read(["k"]))["k"]["n"] == 2


async def test_a_refused_write_writes_none_of_its_keys(storage):
    await storage.write({"a": {"n": 1}, "b": {"n": 1}})
    stale = (await storage.read(["b"]))["b"]
    await storage.write({"b": {**stale, "n": 2}})
    with pytest.raises(KeyError):
        await storage.write({"a": {"n": 9, "e_tag": "*"}, "b": {**stale, "n": 3}})
    found = await storage.read(["a", "b"])
    assert (found["a"]["n"], found["b"]["n"]) == (1, 2)


async def test_of_two_concurrent_writers_with_one_etag_exactly_one_wins(db_path, storage):
    await storage.write({"k": {"n": 0}})
    read = (await storage.read(["k"]))["k"]
    other = Database(db_path)  # another instance on the same store
    await other.open()
    try:
        writers = [storage, DatabaseStorage(KeyValueStore(other))] * 3
        outcomes = await asyncio.gather(
            *(w.write({"k": {**read, "n": n + 1}}) for n, w in enumerate(writers)),
            return_exceptions=True,
        )
    finally:
        await other.close()
    assert sum(o is None for o in outcomes) == 1
    assert all(isinstance(o, KeyError) for o in outcomes if o is not None)


async def test_star_etag_overwrites(storage):
    await storage.write({"k": {"n": 1}})
    await storage.write({"k": {"n": 5, "e_tag": "*"}})
    assert (await storage.read(["k"]))["k"]["n"] == 5


async def test_delete_and_reopen(db_path, storage):
    await storage.write({"a": {"x": 1}, "b": {"x": 2}})
    await storage.delete(["a"])
    db = Database(db_path)
    await db.open()
    try:
        again = DatabaseStorage(KeyValueStore(db))
        assert set(await again.read(["a", "b"])) == {"b"}
        assert await db.schema_version() == head()
    finally:
        await db.close()
