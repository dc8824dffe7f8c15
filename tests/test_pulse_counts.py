"""The overview's pulse figures come from counts kept as pulses are saved (revision 0007):
after saves, doubled saves, concurrent saves, erasure, the retention purge, bulk loading and
the migration of pulses given before the counts existed, they equal what a scan of every
stored pulse answer gives."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, datetime

import pytest

from core.reminders import PULSE_TOPICS
from store.bulk import insert_rows
from store.database import Database
from store.overview import overview_counts
from store.personal_data import PersonalData
from store.reminders import ReminderStore
from tests.databases import downgrade, execute
from tests.databases import rows as db_rows

WEEKS = ("2026-W47", "2026-W48")
DAY = date(2026, 11, 30)
UNITS = {"e1": "ældreplejen", "e2": "ældreplejen", "e3": "skoleområdet"}  # e4…: no unit


def _dialogue(employee: str, unit: str) -> dict[str, object]:
    at = "2026-11-01T09:00:00.000000+00:00"
    return {
        "id": f"d-{employee}",
        "manager_id": "m",
        "manager_name": "M",
        "employee_id": employee,
        "state": "confirmed",
        "step": "review",
        "version": 3,
        "answers": "{}",
        "locale": "da-DK",
        "created_at": at,
        "updated_at": at,
        "unit": unit,
        "unit_name": unit.capitalize(),
    }


def _answers(n: int) -> dict[str, str]:
    """A different mix of problems for each n."""
    return {t: "problem" if (n >> bit) & 1 else "good" for bit, t in enumerate(PULSE_TOPICS)}


def scanned(target) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str, str], int]]:
    """The pulse figures as every stored answer gives them."""
    answers: Counter[tuple[str, str]] = Counter()
    marked: Counter[tuple[str, str, str]] = Counter()
    for unit, week, problems in db_rows(target, "SELECT unit, week, problems FROM pulse_answers"):
        answers[(unit or "", week)] += 1
        for bit, t in enumerate(PULSE_TOPICS):
            marked[(unit or "", week, t)] += (problems >> bit) & 1
    return dict(answers), dict(marked)


async def shown(db: Database) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str, str], int]]:
    """The pulse figures the overview counts."""
    counts = await overview_counts(db, DAY, WEEKS)
    return counts.pulses, counts.pulse_problems


@pytest.fixture
async def db(db_path):
    store = Database(db_path)
    await store.open()
    await insert_rows(store, {"dialogues": [_dialogue(e, u) for e, u in UNITS.items()]})
    try:
        yield store
    finally:
        await store.close()


@pytest.mark.both_engines
async def test_saved_pulses_are_counted_once_each_by_unit_and_week(db, db_path):
    store = ReminderStore(db)
    for n, employee in enumerate(("e1", "e2", "e3", "e4")):
        for week in WEEKS:
            assert await store.save_pulse(employee, week, _answers(n + 3))
    # the same submit again (a doubled press) and a different answer for a week answered
    assert not await store.save_pulse("e1", WEEKS[0], _answers(3))
    assert not await store.save_pulse("e2", WEEKS[1], _answers(31))
    pulses, problems = await shown(db)
    assert (pulses, problems) == scanned(db_path)
    assert pulses[("ældreplejen", WEEKS[0])] == 2
    assert pulses[("", WEEKS[1])] == 1
    assert problems[("ældreplejen", WEEKS[0], "breaks")] == 1  # e1 (3) yes, e2 (4) no


@pytest.mark.both_engines
async def test_concurrent_saves_lose_no_count(db, db_path):
    store = ReminderStore(db)
    employees = [f"e{n}" for n in range(1, 41)]
    saves = [store.save_pulse(e, WEEKS[1], _answers(n)) for n, e in enumerate(employees)]
    doubled = [store.save_pulse(e, WEEKS[1], _answers(0)) for e in employees[:10]]
    saved = await asyncio.gather(*saves, *doubled)
    assert sum(saved) == 40
    pulses, problems = await shown(db)
    assert (pulses, problems) == scanned(db_path)
    assert sum(pulses.values()) == 40
    assert sum(problems[(u, w, t)] for (u, w, t) in problems if t == "rest") == sum(
        (n >> 4) & 1 for n in range(40)
    )


@pytest.mark.both_engines
async def test_erasure_and_the_retention_purge_take_the_pulses_out_of_the_figures(db, db_path):
    store = ReminderStore(db)
    for n, employee in enumerate(("e1", "e2", "e3", "e5")):
        assert await store.save_pulse(employee, WEEKS[0], _answers(n + 1))
    assert (await PersonalData(db).erase("e1"))["pulse_answers"] == 1
    pulses, problems = await shown(db)
    assert (pulses, problems) == scanned(db_path)
    assert pulses[("ældreplejen", WEEKS[0])] == 1
    assert problems[("ældreplejen", WEEKS[0], "breaks")] == 0  # e1's (1) is gone
    assert await PersonalData(db).purge_pulses(datetime.now(UTC), 0) == 3
    assert await shown(db) == ({}, {}) == scanned(db_path)
    assert db_rows(db_path, "SELECT COUNT(*) FROM pulse_counts") == [(0,)]


@pytest.mark.both_engines
async def test_pulses_loaded_in_bulk_are_counted(db, db_path):
    await ReminderStore(db).save_pulse("e1", WEEKS[0], _answers(1))
    at = "2026-11-20T09:00:00.000000+00:00"
    await insert_rows(
        db,
        {
            "pulse_answers": [
                {
                    "employee_id": f"b{n}",
                    "week": WEEKS[n % 2],
                    "answers": "{}",
                    "created_at": at,
                    "unit": "skoleområdet" if n % 3 else None,
                    "problems": n % 32,
                }
                for n in range(30)
            ]
        },
    )
    pulses, problems = await shown(db)
    assert (pulses, problems) == scanned(db_path)
    assert sum(pulses.values()) == 31


@pytest.mark.both_engines
async def test_revision_0007_counts_the_pulses_given_before_it(db_path):
    """Down to 0006, pulses written as that revision did, up again: all are counted."""
    await downgrade(db_path, "0006")
    for n, (employee, week, unit) in enumerate(
        (
            ("e1", WEEKS[0], "ældreplejen"),
            ("e2", WEEKS[0], "ældreplejen"),
            ("e1", WEEKS[1], "ældreplejen"),
            ("e3", WEEKS[1], None),
            ("e4", WEEKS[1], ""),
        )
    ):
        execute(
            db_path,
            "INSERT INTO pulse_answers (employee_id, week, answers, created_at, unit, problems)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            employee,
            week,
            "{}",
            "2026-11-23T09:00:00.000000+00:00",
            unit,
            (n * 7) % 32,
        )
    again = Database(db_path)
    await again.open()
    try:
        pulses, problems = await shown(again)
        assert (pulses, problems) == scanned(db_path)
        assert pulses == {
            ("ældreplejen", WEEKS[0]): 2,
            ("ældreplejen", WEEKS[1]): 1,
            ("", WEEKS[1]): 2,
        }
        # and a pulse saved afterwards adds to the migrated counts
        assert await ReminderStore(again).save_pulse("e5", WEEKS[1], _answers(2))
        assert (await shown(again))[0][("", WEEKS[1])] == 3
    finally:
        await again.close()
