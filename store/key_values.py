"""Versioned JSON documents by key, with eTag compare-and-set (backs botbuilder's Storage)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import bindparam, delete, select, update

from store.database import Database, utc_now
from store.schema import bot_state

c = bot_state.c
#: Built once: a chat's pointer is read on every turn (bot/dialogue_pointer.py).
_READ = select(c.key, c.etag, c.data).where(c.key.in_(bindparam("keys", expanding=True)))


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
                    upsert = self.db.insert(bot_state).values(
                        key=key, etag=etag, data=body, updated_at=now
                    )
                    await conn.execute(
                        upsert.on_conflict_do_update(
                            index_elements=[c.key],
                            set_={
                                "etag": upsert.excluded.etag,
                                "data": upsert.excluded.data,
                                "updated_at": upsert.excluded.updated_at,
                            },
                        )
                    )
                else:
                    result = await conn.execute(
                        update(bot_state)
                        .where(c.key == key, c.etag == expected)
                        .values(etag=etag, data=body, updated_at=now)
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
