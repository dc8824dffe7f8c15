"""Which dialogue a chat last used (the "active dialogue" of a conversation), in the store.

Kept under the key and in the shape botbuilder's ConversationState used for it
(``{channelId}/conversations/{conversationId}`` → ``{"active_dialogue": id}``), so a pointer
saved by either host, or by an earlier release, is read by both. A write checks the eTag of
the read: when another turn of the same chat saved first (a double click), its value is
kept, as it is as good as this one.
"""

from __future__ import annotations

import logging

from store.key_values import ETagConflict, KeyValueStore

log = logging.getLogger(__name__)
PROPERTY = "active_dialogue"


class DialoguePointer:
    def __init__(self, kv: KeyValueStore) -> None:
        self.kv = kv

    @staticmethod
    def key(channel_id: str, conversation_id: str) -> str:
        return f"{channel_id}/conversations/{conversation_id}"

    async def read(self, key: str) -> tuple[str | None, str | None]:
        """The dialogue id (or None) and the eTag to write it back with."""
        found = await self.kv.read([key])
        if key not in found:
            return None, None
        etag, data = found[key]
        value = data.get(PROPERTY) if isinstance(data, dict) else None
        return (value if isinstance(value, str) else None), etag

    async def write(self, key: str, dialogue_id: str, etag: str | None) -> None:
        try:
            await self.kv.write({key: (etag, {PROPERTY: dialogue_id})})
        except ETagConflict:
            log.info("conversation state changed by a concurrent turn; kept the newer one")
