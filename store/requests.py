"""The employees' requests for a conversation (core/requests.py).

Creating a request is a conditional insert: a unique partial index allows one open request
of a kind per employee and manager, so two copies of one press that arrive together make
one request, and the second is told it exists. Handling one is a compare-and-set on its
state: only the first "Start samtalen" starts a dialogue, in the same transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping, select, update

from core.dialogue import Dialogue
from core.requests import FOLLOW_UP, HANDLED, OPEN, ConversationRequest
from store.connections import StoreConnection
from store.database import Database, utc_now
from store.dialogues import adding
from store.schema import conversation_requests

r = conversation_requests.c


def _request(row: RowMapping) -> ConversationRequest:
    return ConversationRequest(**{c.name: row[c.name] for c in conversation_requests.columns})


class RequestStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, request: ConversationRequest) -> tuple[ConversationRequest, bool]:
        """Store a new open request; when one of its kind is already open for the same
        employee and manager, that one is returned instead. True: this one was added."""
        request.created_at = utc_now()
        values: dict[str, Any] = {
            c.name: getattr(request, c.name) for c in conversation_requests.columns
        }
        async with self.db.transaction() as conn:
            added = await conn.execute(
                self.db.insert(conversation_requests).values(**values).on_conflict_do_nothing()
            )
        if added.rowcount:
            return request, True
        row = await self.db.fetchone(
            select(conversation_requests).where(
                r.employee_id == request.employee_id,
                r.manager_id == request.manager_id,
                r.kind == request.kind,
                r.state == OPEN,
            )
        )
        if row is None:  # handled in the meantime: this press came after it
            return request, False
        return _request(row), False

    async def get(self, request_id: str) -> ConversationRequest | None:
        row = await self.db.fetchone(select(conversation_requests).where(r.id == request_id))
        return _request(row) if row else None

    async def open_for_manager(self, manager_id: str) -> list[ConversationRequest]:
        rows = await self.db.fetchall(
            select(conversation_requests)
            .where(r.manager_id == manager_id, r.state == OPEN)
            .order_by(r.created_at, r.id)
        )
        return [_request(row) for row in rows]

    async def follow_up_asked(self, dialogue_id: str) -> bool:
        """Whether the employee has an open request for a follow-up of this agreement."""
        row = await self.db.fetchone(
            select(r.id).where(r.dialogue_id == dialogue_id, r.kind == FOLLOW_UP, r.state == OPEN)
        )
        return row is not None

    @staticmethod
    async def _handle(conn: StoreConnection, request_id: str, dialogue_id: str) -> bool:
        result = await conn.execute(
            update(conversation_requests)
            .where(r.id == request_id, r.state == OPEN)
            .values(state=HANDLED, handled_at=utc_now(), dialogue_id=dialogue_id)
        )
        return result.rowcount == 1

    async def start_dialogue(self, request_id: str, dialogue: Dialogue) -> bool:
        """Mark the request handled and store the dialogue started from it, both or
        neither. False: the request was handled already (a second press)."""
        async with self.db.transaction() as conn:
            if not await self._handle(conn, request_id, dialogue.id):
                return False
            await conn.execute(*adding(self.db, dialogue))
        return True

    async def handle_follow_ups(self, dialogue_id: str) -> int:
        """The employee's open requests for a follow-up of this agreement: now handled."""
        async with self.db.transaction() as conn:
            result = await conn.execute(
                update(conversation_requests)
                .where(r.dialogue_id == dialogue_id, r.kind == FOLLOW_UP, r.state == OPEN)
                .values(state=HANDLED, handled_at=utc_now())
            )
            return result.rowcount
