"""Conversation references: where a user can be reached later (invitations, reminders)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import bindparam, select, update

from store.database import Database, utc_now
from store.schema import conversation_refs as refs

#: Every user the bot knows by a name, built once: read at each employee a manager names.
_NAMED_USERS = (
    select(refs.c.user_id, refs.c.user_name).distinct().where(refs.c.user_name.is_not(None))
)

#: A user's conversation references, newest first (at every message sent to someone else).
_OF_USER = (
    select(refs.c.reference)
    .where(refs.c.user_id == bindparam("user"))
    .order_by(refs.c.updated_at.desc())
)


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
        refresh = (
            update(refs)
            .where(refs.c.user_id == user_id, refs.c.conversation_id == conversation_id)
            .values(
                tenant_id=tenant_id,
                service_url=service_url,
                reference=body,
                user_name=refs.c.user_name if user_name is None else user_name,
                updated_at=now,
            )
        )
        add = (
            self.db.insert(refs)
            .values(
                user_id=user_id,
                conversation_id=conversation_id,
                tenant_id=tenant_id,
                service_url=service_url,
                reference=body,
                user_name=user_name,
                updated_at=now,
            )
            .on_conflict_do_nothing()
        )
        async with self.db.transaction() as conn:
            is_new = not (await conn.execute(refresh)).rowcount
            # Another instance may add the same row between the two statements: then this
            # one's insert does nothing and the update wins after all.
            if is_new and not (await conn.execute(add)).rowcount:
                await conn.execute(refresh)
                is_new = False
        self._known[key] = body + (user_name or "")
        return is_new

    async def for_user(self, user_id: str) -> list[dict[str, Any]]:
        """The user's conversation references, personal chats first, newest first."""
        rows = await self.db.fetchall(_OF_USER, {"user": user_id})
        found = [json.loads(r["reference"]) for r in rows]
        return sorted(
            found, key=lambda r: (r.get("conversation") or {}).get("conversationType") != "personal"
        )

    async def users_named(self, name: str) -> set[str]:
        """The ids of the users the bot knows by this display name (any case)."""
        wanted = name.strip().casefold()
        rows = await self.db.fetchall(_NAMED_USERS)
        return {r["user_id"] for r in rows if r["user_name"].strip().casefold() == wanted}
