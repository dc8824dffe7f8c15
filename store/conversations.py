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
        user_name: str | None = None,
    ) -> bool:
        """Store or refresh the reference; True when this conversation was not known before."""
        key = (user_id, conversation_id)
        body = json.dumps(reference, sort_keys=True)
        if self._known.get(key) == body + (user_name or ""):
            return False
        now = utc_now()
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE conversation_refs SET tenant_id = ?, service_url = ?, reference = ?,"
                " user_name = COALESCE(?, user_name), updated_at = ?"
                " WHERE user_id = ? AND conversation_id = ?",
                (tenant_id, service_url, body, user_name, now, user_id, conversation_id),
            )
            is_new = not cursor.rowcount
            if is_new:
                await conn.execute(
                    "INSERT INTO conversation_refs (user_id, conversation_id, tenant_id,"
                    " service_url, reference, user_name, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (user_id, conversation_id, tenant_id, service_url, body, user_name, now),
                )
        self._known[key] = body + (user_name or "")
        return is_new

    async def for_user(self, user_id: str) -> list[dict[str, Any]]:
        """The user's conversation references, personal chats first, newest first."""
        rows = await self.db.fetchall(
            "SELECT reference FROM conversation_refs WHERE user_id = ? ORDER BY updated_at DESC",
            (user_id,),
        )
        refs = [json.loads(r["reference"]) for r in rows]
        return sorted(
            refs, key=lambda r: (r.get("conversation") or {}).get("conversationType") != "personal"
        )

    async def users_named(self, name: str) -> set[str]:
        """The ids of the users the bot knows by this display name (any case)."""
        wanted = name.strip().casefold()
        rows = await self.db.fetchall(
            "SELECT DISTINCT user_id, user_name FROM conversation_refs WHERE user_name IS NOT NULL"
        )
        return {r["user_id"] for r in rows if r["user_name"].strip().casefold() == wanted}
