"""Concluded home-working agreements in named units, written through the bot's own stores
(DialogueStore.create and .conclude, as the manager's dialogue does): the data the overview
page, its endpoints and the ``overblik`` card are tested with."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

from core.agreement import build_record
from core.dialogue import AWAITING_EMPLOYEE, Dialogue
from core.fields import FORM_STEPS
from core.validation import validate_step
from store.database import Database
from store.dialogues import DialogueStore
from tests.answers import STEP_ANSWERS


async def seed_agreements(target: Path | str, units: dict[str, int]) -> None:
    """``units[name]`` agreements concluded in the unit ``name``, today."""
    db = Database(target)
    await db.open()
    store = DialogueStore(db)
    try:
        for unit, count in units.items():
            for n in range(count):
                dialogue = Dialogue(
                    id=uuid.uuid4().hex,
                    manager_id=str(uuid.uuid4()),
                    manager_name="Lone Leder",
                    locale="da-DK",
                )
                for step in FORM_STEPS:
                    answers = dict(STEP_ANSWERS[step.id])
                    if step.id == "employee":
                        answers |= {"unit": unit, "employee": f"Medarbejder {n}"}
                    values, errors = validate_step(step, answers, date.today())
                    assert not errors, errors
                    dialogue.answers.put(step.id, values)
                dialogue.employee_id, dialogue.employee_name = str(uuid.uuid4()), f"M {n}"
                # as the manager's dialogue keeps it (ManagerDialogue.set_unit)
                dialogue.unit, dialogue.unit_name = unit.casefold(), unit
                created = await store.create(dialogue)
                created.agreement_version = 1
                record = build_record(created, 1, AWAITING_EMPLOYEE, date.today().isoformat())
                assert await store.conclude(created, created.version, record)
    finally:
        await db.close()
