"""Versioned JSON documents by key, with eTag compare-and-set (backs botbuilder's Storage)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from store.database import Database, utc_now


class ETagConflict(Exception):
    """The document changed since it was read."""


class KeyValueStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def read(self, keys: list[str]) -> dict[str, tuple[str, Any]]:
        """{key: (etag, data)} for the keys that exist."""
        if not keys:
            return {}
        marks = ", ".join("?" for _ in keys)
        rows = await self.db.fetchall(
            f"SELECT key, etag, data FROM bot_state WHERE key IN ({marks})", keys
        )
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
                        "INSERT INTO bot_state (key, etag, data, updated_at) VALUES (?, ?, ?, ?)"
                        " ON CONFLICT (key) DO UPDATE SET etag = excluded.etag,"
                        " data = excluded.data, updated_at = excluded.updated_at",
                        (key, etag, body, now),
                    )
                else:
                    cursor = await conn.execute(
                        "UPDATE bot_state SET etag = ?, data = ?, updated_at = ?"
                        " WHERE key = ? AND etag = ?",
                        (etag, body, now, key, expected),
                    )
                    if cursor.rowcount != 1:
                        raise ETagConflict(key)
                new_etags[key] = etag
        return new_etags

    async def delete(self, keys: list[str]) -> None:
        if not keys:
            return
        marks = ", ".join("?" for _ in keys)
        async with self.db.transaction() as conn:
            await conn.execute(f"DELETE FROM bot_state WHERE key IN ({marks})", keys)
