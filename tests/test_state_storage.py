"""botbuilder's Storage on SQLite: round trip, eTag conflicts, persistence across reopen."""

from __future__ import annotations

import pytest

from bot.state_storage import SqliteStorage
from store.database import Database, migrations
from store.key_values import KeyValueStore


@pytest.fixture
async def storage(db_path):
    db = Database(db_path)
    await db.open()
    yield SqliteStorage(KeyValueStore(db))
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
        again = SqliteStorage(KeyValueStore(db))
        assert set(await again.read(["a", "b"])) == {"b"}
        assert await db.schema_version() == len(migrations())
    finally:
        await db.close()
