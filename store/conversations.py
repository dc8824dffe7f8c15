"""Conversation references: where a user can be reached later (invitations, reminders)."""

from __future__ import annotations

import json
from typing import Any

from store.database import Database, utc_now


class ConversationStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        # What this process last stored per (user, conversation): a message whose reference
        # did not change costs no write. Another process writing the same rows only makes
        # this cache write once more than needed.
        self._known: dict[tuple[str, str], str] = {}

    async def remember(
        self,
        user_id: str,
        conversation_id: str,
        tenant_id: str | None,
        service_url: str,
        reference: dict[str, Any],
    ) -> bool:
        """Store or refresh the reference; True when this conversation was not known before."""
        key = (user_id, conversation_id)
        body = json.dumps(reference, sort_keys=True)
        if self._known.get(key) == body:
            return False
        now = utc_now()
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE conversation_refs SET tenant_id = ?, service_url = ?, reference = ?,"
                " updated_at = ? WHERE user_id = ? AND conversation_id = ?",
                (tenant_id, service_url, body, now, user_id, conversation_id),
            )
            is_new = not cursor.rowcount
            if is_new:
                await conn.execute(
                    "INSERT INTO conversation_refs (user_id, conversation_id, tenant_id,"
                    " service_url, reference, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (user_id, conversation_id, tenant_id, service_url, body, now),
                )
        self._known[key] = body
        return is_new

    async def for_user(self, user_id: str) -> list[dict[str, Any]]:
        rows = await self.db.fetchall(
            "SELECT reference FROM conversation_refs WHERE user_id = ? ORDER BY updated_at DESC",
            (user_id,),
        )
        return [json.loads(r["reference"]) for r in rows]
