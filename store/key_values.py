"""Versioned JSON documents by key, with eTag compare-and-set (backs botbuilder's Storage)."""

from __future__ import annotations

import json
import uuid
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, select, update

from store.database import Database, insert_for, utc_now
from store.schema import bot_state

c = bot_state.c
#: Built once: a chat's pointer is read on every turn (bot/dialogue_pointer.py).
_READ = select(c.key, c.etag, c.data).where(c.key.in_(bindparam("keys", expanding=True)))


#: The compare-and-set of a document on its eTag (its SET clause comes from the columns in
#: the parameters), built once: a chat's pointer is written at every new dialogue.
_SWAP = update(bot_state).where(c.key == bindparam("the_key"), c.etag == bindparam("expected"))


@cache
def _upsert(engine_name: str) -> Any:
    """A document written whatever is stored, built once per engine (its values are the
    parameters)."""
    add = insert_for(engine_name, bot_state)
    return add.on_conflict_do_update(
        index_elements=[c.key],
        set_={
            "etag": add.excluded.etag,
            "data": add.excluded.data,
            "updated_at": add.excluded.updated_at,
        },
    )


class ETagConflict(Exception):
    """The document changed since it was read."""


class KeyValueStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def read(self, keys: list[str]) -> dict[str, tuple[str, Any]]:
        """{key: (etag, data)} for the keys that exist."""
        if not keys:
            return {}
        rows = await self.db.fetchall(_READ, {"keys": list(keys)})
        return {r["key"]: (r["etag"], json.loads(r["data"])) for r in rows}

    async def write(self, changes: dict[str, tuple[str | None, Any]]) -> dict[str, str]:
        """Write {key: (expected etag or None/"*", data)} atomically; returns the new eTags.

        An expected eTag other than None or "*" must match the stored one, else nothing is
        written and ETagConflict is raised.
        """
        now = utc_now()
        new_etags: dict[str, str] = {}
        async with self.db.transaction() as conn:
            for key, (expected, data) in changes.items():
                etag = uuid.uuid4().hex
                body = json.dumps(data)
                if expected in (None, "*"):
                    await conn.execute(
                        _upsert(self.db.engine_name),
                        {"key": key, "etag": etag, "data": body, "updated_at": now},
                    )
                else:
                    result = await conn.execute(
                        _SWAP,
                        {
                            "the_key": key,
                            "expected": expected,
                            "etag": etag,
                            "data": body,
                            "updated_at": now,
                        },
                    )
                    if result.rowcount != 1:
                        raise ETagConflict(key)
                new_etags[key] = etag
        return new_etags

    async def delete(self, keys: list[str]) -> None:
        if not keys:
            return
        async with self.db.transaction() as conn:
            await conn.execute(delete(bot_state).where(c.key.in_(keys)))
