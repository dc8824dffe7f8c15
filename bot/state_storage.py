"""botbuilder's ``Storage`` on the bot's own store (SQLite or PostgreSQL), with eTag checks.

BotState keeps the eTag inside the state dict under ``e_tag`` (as botbuilder's MemoryStorage
does); a write whose eTag is not the stored one fails instead of overwriting a newer state.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import Storage

from store.key_values import ETagConflict, KeyValueStore


class DatabaseStorage(Storage):
    def __init__(self, kv: KeyValueStore) -> None:
        self.kv = kv

    async def read(self, keys: list[str], **_kwargs: Any) -> dict[str, Any]:
        found = await self.kv.read(list(keys))
        return {key: {**data, "e_tag": etag} for key, (etag, data) in found.items()}

    async def write(self, changes: dict[str, Any]) -> None:
        if not changes:
            return
        prepared: dict[str, tuple[str | None, Any]] = {}
        for key, value in changes.items():
            state = dict(value) if isinstance(value, dict) else dict(vars(value))
            etag = state.pop("e_tag", None)
            if etag == "":
                raise ValueError(f"empty eTag for {key}")
            prepared[key] = (etag, state)
        try:
            new_etags = await self.kv.write(prepared)
        except ETagConflict as conflict:
            raise KeyError(f"eTag conflict on {conflict}") from None
        for key, value in changes.items():
            if isinstance(value, dict):
                value["e_tag"] = new_etags[key]
            elif hasattr(value, "e_tag"):
                value.e_tag = new_etags[key]

    async def delete(self, keys: list[str]) -> None:
        await self.kv.delete(list(keys))


#: The name of the first release.
SqliteStorage = DatabaseStorage
