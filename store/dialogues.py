"""Dialogues and agreements.

Every change is a compare-and-set on the dialogue's version: two submits of the same card
(a double click, a replay, two instances) cannot both win. Concluding writes the dialogue and
a new agreement version in one transaction, and the employee's answer updates both together,
so the dialogue's state and its newest agreement never disagree. A confirmation adds the
version's action items (store/action_items.py) in the same transaction.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from sqlalchemy import RowMapping, Select, bindparam, insert, select, update

from core.action_items import items_for
from core.answers import AgreementRecord, DialogueAnswers
from core.dialogue import AWAITING_EMPLOYEE, CONFIRMED, SUPERSEDED, Dialogue
from store import action_items, outbox
from store.connections import StoreConnection
from store.database import Database, insert_for, utc_now
from store.schema import agreements, dialogues

d, a = dialogues.c, agreements.c


def _dialogue(row: RowMapping) -> Dialogue:
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
        in_force_version=row["in_force_version"],
        reopen_reason=row["reopen_reason"],
        unit=row["unit"],
        unit_name=row["unit_name"],
    )


def _changes(dialogue: Dialogue) -> dict[str, Any]:
    """The columns a save writes."""
    return {
        "employee_id": dialogue.employee_id,
        "employee_name": dialogue.employee_name,
        "state": dialogue.state,
        "step": dialogue.step,
        "version": dialogue.version,
        "editing": int(dialogue.editing),
        "answers": json.dumps(dialogue.answers.to_json()),
        "updated_at": dialogue.updated_at,
        "agreement_version": dialogue.agreement_version,
        "in_force_version": dialogue.in_force_version,
        "reopen_reason": dialogue.reopen_reason,
        "unit": dialogue.unit,
        "unit_name": dialogue.unit_name,
    }


def _update_parameters(dialogue: Dialogue, expected_version: int) -> dict[str, Any]:
    return {**_changes(dialogue), "dialogue": dialogue.id, "expected_version": expected_version}


@cache
def _adding(engine_name: str) -> Any:
    """The insert of a new dialogue that does nothing when a unique key is taken, built once
    per engine (its columns come from the parameters)."""
    return insert_for(engine_name, dialogues).on_conflict_do_nothing()


def adding(db: Database, dialogue: Dialogue) -> tuple[Any, dict[str, Any]]:
    """The insert of a new dialogue and its parameters (for ``execute``)."""
    now = utc_now()
    dialogue.created_at = dialogue.updated_at = now
    return _adding(db.engine_name), {
        "id": dialogue.id,
        "manager_id": dialogue.manager_id,
        "manager_name": dialogue.manager_name,
        "locale": dialogue.locale,
        "created_at": now,
        **_changes(dialogue),
    }


_SELECT: Select[Any] = select(dialogues)
# Built once, for every submit of a step: the dialogue by id, and the compare-and-set save
# (its SET clause comes from the columns in the parameters, _changes).
_GET = _SELECT.where(d.id == bindparam("dialogue"))
_UPDATE = update(dialogues).where(
    d.id == bindparam("dialogue"), d.version == bindparam("expected_version")
)
#: The manager's newest dialogue in progress (at every Start).
_LATEST_OPEN = (
    _SELECT.where(d.manager_id == bindparam("manager"), d.state == "in_progress")
    .order_by(d.updated_at.desc(), d.id.desc())
    .limit(1)
)
#: A concluded agreement version (its columns come from the parameters).
_ADD_AGREEMENT = insert(agreements)


def unit_now(employee_id: str) -> Any:
    """The employee's unit as a scalar subquery: that of their newest dialogue that is not
    cancelled (NULL when there is none, or it has no unit)."""
    return (
        select(d.unit)
        .where(d.employee_id == employee_id, d.state != "cancelled")
        .order_by(d.created_at.desc(), d.id.desc())
        .limit(1)
        .scalar_subquery()
    )


class DialogueStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _dialogues(self, query: Select[Any]) -> list[Dialogue]:
        return [_dialogue(r) for r in await self.db.fetchall(query)]

    async def create(self, dialogue: Dialogue) -> Dialogue:
        """Store a new dialogue. When the manager already has an untouched one (two presses
        of Start that arrived together), that one is returned and nothing is added."""
        add, values = adding(self.db, dialogue)
        async with self.db.transaction() as conn:
            added = (await conn.execute(add, values)).rowcount
        if added:
            return dialogue
        existing = await self.latest_open(dialogue.manager_id)
        assert existing is not None and existing.version == 1, "the untouched dialogue won"
        return existing

    async def get(self, dialogue_id: str) -> Dialogue | None:
        row = await self.db.fetchone(_GET, {"dialogue": dialogue_id})
        return _dialogue(row) if row else None

    async def for_manager(self, manager_id: str) -> list[Dialogue]:
        return await self._dialogues(
            _SELECT.where(d.manager_id == manager_id).order_by(d.updated_at.desc(), d.id)
        )

    async def latest_open(self, manager_id: str) -> Dialogue | None:
        row = await self.db.fetchone(_LATEST_OPEN, {"manager": manager_id})
        return _dialogue(row) if row else None

    @staticmethod
    async def _update(conn: StoreConnection, dialogue: Dialogue, expected_version: int) -> bool:
        result = await conn.execute(_UPDATE, _update_parameters(dialogue, expected_version))
        return result.rowcount == 1

    async def save(self, dialogue: Dialogue, expected_version: int) -> bool:
        """Store ``dialogue`` if nobody changed it since ``expected_version``; False if stale."""
        dialogue.updated_at = utc_now()
        result = await self.db.write(_UPDATE, _update_parameters(dialogue, expected_version))
        return result.rowcount == 1

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
                _ADD_AGREEMENT,
                {
                    "dialogue_id": dialogue.id,
                    "version": record.version,
                    "state": record.state,
                    "manager_id": dialogue.manager_id,
                    "employee_id": dialogue.employee_id,
                    "employee_name": dialogue.employee_name,
                    "decision": record.decision,
                    "follow_up_date": (
                        record.follow_up_date.isoformat() if record.follow_up_date else ""
                    ),
                    "record": json.dumps(record.to_json()),
                    "created_at": dialogue.updated_at,
                },
            )
            await outbox.enqueue(conn, dialogue.id, record.version)
        return True

    async def answer(
        self, dialogue: Dialogue, expected_version: int, state: str, comment: str | None
    ) -> AgreementRecord | None:
        """The employee's answer to the newest agreement version (confirmed or disputed);
        a confirmation adds the version's action items.

        A confirmed version comes into force; the version that was in force until then is
        marked superseded and sent to SharePoint again, in the same transaction.
        Returns the updated agreement record, or None when the dialogue changed meanwhile.
        """
        now = utc_now()
        dialogue.updated_at = now
        dialogue.state = state
        replaced = None
        if state == CONFIRMED:
            if dialogue.in_force_version not in (0, dialogue.agreement_version):
                replaced = dialogue.in_force_version
            dialogue.in_force_version, dialogue.reopen_reason = dialogue.agreement_version, None
        async with self.db.transaction() as conn:
            if not await self._update(conn, dialogue, expected_version):
                return None
            record = await self._set_state(
                conn, dialogue.id, dialogue.agreement_version, state, comment, now
            )
            if state == CONFIRMED:
                await action_items.add(conn, items_for(record))
            if replaced is not None:
                await self._set_state(conn, dialogue.id, replaced, SUPERSEDED)
        return record

    @staticmethod
    async def _set_state(
        conn: StoreConnection,
        dialogue_id: str,
        version: int,
        state: str,
        comment: str | None = None,
        answered_at: str | None = None,
    ) -> AgreementRecord:
        """One agreement version's new state (with the employee's answer, if given), queued
        for SharePoint."""
        this = (a.dialogue_id == dialogue_id, a.version == version)
        stored = (await conn.execute(select(a.record).where(*this))).scalar_one()
        changes: dict[str, Any] = {"state": state}
        if answered_at is not None:
            changes |= {"employee_comment": comment, "answered_at": answered_at}
        record = AgreementRecord.model_validate_json(stored).model_copy(update=changes)
        await conn.execute(
            update(agreements).where(*this).values(**changes, record=json.dumps(record.to_json()))
        )
        await outbox.enqueue(conn, dialogue_id, version)
        return record

    async def not_cancelled(self) -> list[Dialogue]:
        """Every dialogue that is not cancelled: what the weekly reminders look at."""
        return await self._dialogues(
            _SELECT.where(d.state != "cancelled").order_by(d.created_at, d.id)
        )

    async def confirmed(self) -> list[Dialogue]:
        """Every dialogue whose agreement is confirmed (and in force or expired)."""
        return await self._dialogues(
            _SELECT.where(d.state == CONFIRMED).order_by(d.created_at, d.id)
        )

    async def for_employee(self, employee_id: str) -> list[Dialogue]:
        return await self._dialogues(
            _SELECT.where(d.employee_id == employee_id).order_by(d.updated_at.desc(), d.id)
        )

    async def without_employee_id(self) -> list[Dialogue]:
        """Dialogues whose employee was typed in by name and has not been found yet."""
        return await self._dialogues(
            _SELECT.where(d.employee_id.is_(None), d.state != "cancelled").order_by(
                d.updated_at.desc(), d.id
            )
        )

    async def link_employee(self, dialogue_id: str, employee_id: str) -> bool:
        """Record who the typed-in employee is, once; the dialogue's version is not changed,
        so the manager's cards stay valid."""
        async with self.db.transaction() as conn:
            result = await conn.execute(
                update(dialogues)
                .where(d.id == dialogue_id, d.employee_id.is_(None))
                .values(employee_id=employee_id)
            )
            await conn.execute(
                update(agreements)
                .where(a.dialogue_id == dialogue_id, a.employee_id.is_(None))
                .values(employee_id=employee_id)
            )
            return result.rowcount == 1

    async def learn_employee_name(self, employee_id: str, name: str) -> None:
        """The picked employee's display name, from their first message to the bot (the
        people picker gives only the id)."""
        async with self.db.transaction() as conn:
            await conn.execute(
                update(dialogues)
                .where(d.employee_id == employee_id, d.employee_name.is_(None))
                .values(employee_name=name)
            )

    async def _records(self, query: Select[Any]) -> list[AgreementRecord]:
        return [
            AgreementRecord.model_validate_json(r["record"]) for r in await self.db.fetchall(query)
        ]

    async def agreements_for_manager(self, manager_id: str) -> list[AgreementRecord]:
        return await self._records(
            select(a.record)
            .where(a.manager_id == manager_id)
            .order_by(a.created_at.desc(), a.dialogue_id)
        )

    async def agreement(self, dialogue_id: str, version: int) -> AgreementRecord | None:
        found = await self._records(
            select(a.record).where(a.dialogue_id == dialogue_id, a.version == version)
        )
        return found[0] if found else None

    async def newest_agreements(self) -> list[AgreementRecord]:
        """The newest version of every agreement, newest first (HR's list and export)."""
        return await self._records(
            select(a.record)
            .join(dialogues, d.id == a.dialogue_id)
            .where(a.version == d.agreement_version)
            .order_by(a.created_at.desc())
        )
