"""The digests of a weekly run and the agreements another manager made: each digest lists
those Entra ID now hands over to its manager, and the run reads the agreements due for a
follow-up once for all its digests, not once per manager (hundreds of managers, thousands of
agreements), on a real store of each engine."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, timedelta

import pytest

from core.answers import DialogueAnswers, OutcomeStep
from core.dialogue import CONFIRMED, Dialogue
from reminders.planner import Planner
from store.database import Database
from store.dialogues import DialogueStore
from store.reminders import ReminderStore
from store.self_checks import SelfCheckStore

TODAY = date(2026, 11, 30)
FORMER, NEW, OTHER = "former-manager", "new-manager", "other-manager"
EMPLOYEE = "a1a1a1a1-0000-0000-0000-000000000001"

pytestmark = pytest.mark.both_engines


class CountedDialogues(DialogueStore):
    reads = 0

    async def confirmed(self) -> list[Dialogue]:
        self.reads += 1
        return await super().confirmed()


class Directory:
    """Entra ID as the planner asks it: EMPLOYEE's manager is now NEW."""

    on = True

    async def led_among(
        self, leader_id: str, employee_ids: Iterable[str]
    ) -> tuple[frozenset[str], frozenset[str]]:
        return frozenset(e.lower() for e in employee_ids if leader_id == NEW), frozenset()

    async def managers_of(self, employee_ids: Iterable[str]) -> dict[str, str | None]:
        return {e.lower(): NEW for e in employee_ids}


async def test_one_read_of_the_due_agreements_serves_every_digest_of_the_day(db_path):
    db = Database(db_path)
    await db.open()
    try:
        dialogues = CountedDialogues(db)
        answers = DialogueAnswers(
            outcome=OutcomeStep(decision="approved", follow_up_date=TODAY - timedelta(days=1))
        )
        await dialogues.create(
            Dialogue(
                id=uuid.uuid4().hex,
                manager_id=FORMER,
                manager_name="Tidligere Leder",
                employee_id=EMPLOYEE,
                employee_name="Mette",
                state=CONFIRMED,
                step="review",
                version=3,
                locale="da-DK",
                answers=answers,
            )
        )
        planner = Planner(
            dialogues, SelfCheckStore(db), ReminderStore(db), set, leaders=Directory()
        )
        new = await planner.digest(NEW, TODAY)
        other = await planner.digest(OTHER, TODAY)
        former = await planner.digest(FORMER, TODAY)
        assert [d.employee_id for d in new.handed_over] == [EMPLOYEE]
        assert other.handed_over == [] and former.handed_over == []
        assert dialogues.reads == 1, "one read for the run's three digests"

        await planner.digest(NEW, TODAY + timedelta(days=7))  # next week's run reads again
        assert dialogues.reads == 2
    finally:
        await db.close()
