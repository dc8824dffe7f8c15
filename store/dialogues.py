"""Dialogues and agreements in SQLite.

Every change is a compare-and-set on the dialogue's version: two submits of the same card
(a double click, a replay) cannot both win. Concluding writes the dialogue and a new agreement
version in one transaction, and the employee's answer updates both together, so the
dialogue's state and its newest agreement never disagree.
"""

from __future__ import annotations

import json

import aiosqlite

from core.answers import AgreementRecord, DialogueAnswers
from core.dialogue import AWAITING_EMPLOYEE, Dialogue
from store import outbox
from store.database import Database, utc_now

_COLUMNS = (
    "id, manager_id, manager_name, employee_id, employee_name, state, step, version, editing,"
    " answers, locale, created_at, updated_at, agreement_version"
)


def _dialogue(row: aiosqlite.Row) -> Dialogue:
    return Dialogue(
        id=row["id"],
        manager_id=row["manager_id"],
        manager_name=row["manager_name"],
        employee_id=row["employee_id"],
        employee_name=row["employee_name"],
        state=row["state"],
        step=row["step"],
        version=row["version"],
        editing=bool(row["editing"]),
        answers=DialogueAnswers.model_validate_json(row["answers"]),
        locale=row["locale"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        agreement_version=row["agreement_version"],
    )


class DialogueStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, dialogue: Dialogue) -> Dialogue:
        now = utc_now()
        dialogue.created_at = dialogue.updated_at = now
        async with self.db.transaction() as conn:
            await conn.execute(
                f"INSERT INTO dialogues ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    dialogue.id,
                    dialogue.manager_id,
                    dialogue.manager_name,
                    dialogue.employee_id,
                    dialogue.employee_name,
                    dialogue.state,
                    dialogue.step,
                    dialogue.version,
                    int(dialogue.editing),
                    json.dumps(dialogue.answers.to_json()),
                    dialogue.locale,
                    now,
                    now,
                    dialogue.agreement_version,
                ),
            )
        return dialogue

    async def get(self, dialogue_id: str) -> Dialogue | None:
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM dialogues WHERE id = ?", (dialogue_id,)
        )
        return _dialogue(row) if row else None

    async def for_manager(self, manager_id: str) -> list[Dialogue]:
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM dialogues WHERE manager_id = ? ORDER BY updated_at DESC, id",
            (manager_id,),
        )
        return [_dialogue(r) for r in rows]

    async def latest_open(self, manager_id: str) -> Dialogue | None:
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM dialogues WHERE manager_id = ? AND state = 'in_progress'"
            " ORDER BY updated_at DESC, id DESC LIMIT 1",
            (manager_id,),
        )
        return _dialogue(row) if row else None

    @staticmethod
    async def _update(
        conn: aiosqlite.Connection, dialogue: Dialogue, expected_version: int
    ) -> bool:
        cursor = await conn.execute(
            "UPDATE dialogues SET employee_id = ?, employee_name = ?, state = ?, step = ?,"
            " version = ?, editing = ?, answers = ?, updated_at = ?, agreement_version = ?"
            " WHERE id = ? AND version = ?",
            (
                dialogue.employee_id,
                dialogue.employee_name,
                dialogue.state,
                dialogue.step,
                dialogue.version,
                int(dialogue.editing),
                json.dumps(dialogue.answers.to_json()),
                dialogue.updated_at,
                dialogue.agreement_version,
                dialogue.id,
                expected_version,
            ),
        )
        return cursor.rowcount == 1

    async def save(self, dialogue: Dialogue, expected_version: int) -> bool:
        """Store ``dialogue`` if nobody changed it since ``expected_version``; False if stale."""
        dialogue.updated_at = utc_now()
        async with self.db.transaction() as conn:
            return await self._update(conn, dialogue, expected_version)

    async def conclude(
        self, dialogue: Dialogue, expected_version: int, record: AgreementRecord
    ) -> bool:
        """Send the dialogue to the employee and store its new agreement version, both or
        neither. ``record.version`` must be ``dialogue.agreement_version``."""
        dialogue.updated_at = utc_now()
        dialogue.state = AWAITING_EMPLOYEE
        async with self.db.transaction() as conn:
            if not await self._update(conn, dialogue, expected_version):
                return False
            await conn.execute(
                "INSERT INTO agreements (dialogue_id, version, state, manager_id, employee_id,"
                " employee_name, decision, follow_up_date, record, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    dialogue.id,
                    record.version,
                    record.state,
                    dialogue.manager_id,
                    dialogue.employee_id,
                    dialogue.employee_name,
                    record.decision,
                    record.follow_up_date.isoformat() if record.follow_up_date else None,
                    json.dumps(record.to_json()),
                    dialogue.updated_at,
                ),
            )
            await outbox.enqueue(conn, dialogue.id, record.version)
        return True

    async def answer(
        self, dialogue: Dialogue, expected_version: int, state: str, comment: str | None
    ) -> AgreementRecord | None:
        """The employee's answer to the newest agreement version (confirmed or disputed).

        Returns the updated agreement record, or None when the dialogue changed meanwhile.
        """
        now = utc_now()
        dialogue.updated_at = now
        dialogue.state = state
        async with self.db.transaction() as conn:
            if not await self._update(conn, dialogue, expected_version):
                return None
            key = (dialogue.id, dialogue.agreement_version)
            cursor = await conn.execute(
                "SELECT record FROM agreements WHERE dialogue_id = ? AND version = ?", key
            )
            row = await cursor.fetchone()
            assert row is not None  # the version the dialogue was just updated to points at it
            record = AgreementRecord.model_validate_json(row["record"]).model_copy(
                update={"state": state, "employee_comment": comment, "answered_at": now}
            )
            await conn.execute(
                "UPDATE agreements SET state = ?, employee_comment = ?, answered_at = ?,"
                " record = ? WHERE dialogue_id = ? AND version = ?",
                (state, comment, now, json.dumps(record.to_json()), *key),
            )
            await outbox.enqueue(conn, *key)
        return record

    async def not_cancelled(self) -> list[Dialogue]:
        """Every dialogue that is not cancelled: what the weekly reminders look at."""
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM dialogues WHERE state != 'cancelled' ORDER BY created_at, id"
        )
        return [_dialogue(r) for r in rows]

    async def for_employee(self, employee_id: str) -> list[Dialogue]:
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM dialogues WHERE employee_id = ? ORDER BY updated_at DESC, id",
            (employee_id,),
        )
        return [_dialogue(r) for r in rows]

    async def without_employee_id(self) -> list[Dialogue]:
        """Dialogues whose employee was typed in by name and has not been found yet."""
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM dialogues WHERE employee_id IS NULL AND state <> 'cancelled'"
            " ORDER BY updated_at DESC, id",
        )
        return [_dialogue(r) for r in rows]

    async def link_employee(self, dialogue_id: str, employee_id: str) -> bool:
        """Record who the typed-in employee is, once; the dialogue's version is not changed,
        so the manager's cards stay valid."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE dialogues SET employee_id = ? WHERE id = ? AND employee_id IS NULL",
                (employee_id, dialogue_id),
            )
            await conn.execute(
                "UPDATE agreements SET employee_id = ? WHERE dialogue_id = ? AND employee_id IS NULL",
                (employee_id, dialogue_id),
            )
            return cursor.rowcount == 1

    async def learn_employee_name(self, employee_id: str, name: str) -> None:
        """The picked employee's display name, from their first message to the bot (the
        people picker gives only the id)."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE dialogues SET employee_name = ? WHERE employee_id = ? AND employee_name IS NULL",
                (name, employee_id),
            )

    async def agreements_for_manager(self, manager_id: str) -> list[AgreementRecord]:
        rows = await self.db.fetchall(
            "SELECT record FROM agreements WHERE manager_id = ? ORDER BY created_at DESC, dialogue_id",
            (manager_id,),
        )
        return [AgreementRecord.model_validate_json(r["record"]) for r in rows]

    async def agreement(self, dialogue_id: str, version: int) -> AgreementRecord | None:
        row = await self.db.fetchone(
            "SELECT record FROM agreements WHERE dialogue_id = ? AND version = ?",
            (dialogue_id, version),
        )
        return AgreementRecord.model_validate_json(row["record"]) if row else None

    async def newest_agreements(self) -> list[AgreementRecord]:
        """The newest version of every agreement, newest first (HR's list and export)."""
        rows = await self.db.fetchall(
            "SELECT a.record FROM agreements a JOIN dialogues d ON d.id = a.dialogue_id"
            " WHERE a.version = d.agreement_version ORDER BY a.created_at DESC"
        )
        return [AgreementRecord.model_validate_json(r["record"]) for r in rows]
