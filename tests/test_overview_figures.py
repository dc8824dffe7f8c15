"""The overview's figures from a real store on both engines: every figure that is shown has
the value a reader would count by hand from the generated employees, a small unit shows
nothing, a viewer sees only their units and the municipality, and the unit comes from the
directory when the employee is chosen."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date

import pytest

from core.overview import parse_period, weeks_in
from core.reminders import PULSE_TOPICS
from store.bulk import insert_rows
from store.database import Database
from store.dialogues import DialogueStore
from store.overview import known_units, load_overview
from store.reminders import ReminderStore
from tests.databases import rows as db_rows
from tests.overview_population import Employee, expected, generate, rows

TODAY = date(2026, 12, 2)
K = 5
UNITS: dict[str | None, int] = {"Ældreplejen": 40, "Borgerservice": 30, "Lille Team": 3, None: 12}


@pytest.fixture
async def seeded(db_path):
    weeks = weeks_in(parse_period("2026", "da-DK"), TODAY)
    people = generate(random.Random(7), UNITS, day=TODAY, weeks=weeks, pulse_rate=0.9)
    db = Database(db_path)
    await db.open()
    await insert_rows(db, rows(people, TODAY))
    try:
        yield db, people
    finally:
        await db.close()


def shown_cells(overview):
    return {
        (u.unit, f.key, s.key, c): cell
        for u in overview.units
        for f in u.figures
        for s in f.series
        for c, cell in zip(f.category_keys, s.cells, strict=True)
    }


def share(
    people: list[Employee], has: Callable[[Employee], bool], of: Callable[[Employee], bool]
) -> float:
    base = [e for e in people if of(e)]
    return round(100 * sum(1 for e in base if has(e)) / len(base), 1)


@pytest.mark.both_engines
async def test_every_shown_count_is_what_the_employees_add_up_to(seeded):
    db, people = seeded
    overview = await load_overview(db, units=None, period="2026", locale="da-DK", k=K, today=TODAY)
    assert [u.label for u in overview.units] == [
        "Borgerservice",
        "Lille Team",
        "Ældreplejen",
        "Enhed ikke oplyst",
        "Hele kommunen",
    ]
    truth = expected(people, TODAY)
    cells = shown_cells(overview)
    checked = 0
    for (unit, figure, series, category), cell in cells.items():
        if figure not in (
            "agreements_by_decision",
            "agreements_by_state",
            "home_days",
            "action_items",
        ):
            continue
        want = truth.get((unit.casefold() if unit else unit, figure, series, category), 0)
        if cell.suppressed:
            assert cell.value is None
        else:
            assert cell.value == want, (unit, figure, series, category)
            checked += want > 0
    assert checked >= 20, "enough figures are shown to mean something"
    municipality = overview.units[-1]
    assert municipality.unit is None and municipality.people.value == len(people)


@pytest.mark.both_engines
async def test_shares_of_self_checks_and_pulses_are_those_of_the_employees(seeded):
    db, people = seeded
    overview = await load_overview(
        db, units=None, period="2026-11", locale="en-US", k=K, today=TODAY
    )
    cells = shown_cells(overview)
    chair = cells[(None, "self_check_problems", "problem", "T3")]
    assert chair.value == share(
        people, lambda e: "chair" in e.self_check, lambda e: e.self_check is not None
    )
    weeks = weeks_in(parse_period("2026-11", "en-US"), TODAY)
    assert overview.units[-1].figures[6].category_keys == tuple(weeks)
    for week in weeks:
        for topic in PULSE_TOPICS:
            cell = cells[(None, "pulse_trend", topic, week)]
            answered = [e for e in people if week in e.pulses]
            marked = sum(e.pulses[week][topic] == "problem" for e in answered)
            assert cell.value == round(100 * marked / len(answered), 1)
    unreachable = cells[(None, "unreachable", "unreachable", "unreachable")]
    assert unreachable.value == sum(e.unreachable for e in people)
    assert overview.units[-1].label == "The whole municipality"
    assert overview.units[-2].label == "Unit not given"


@pytest.mark.both_engines
async def test_a_small_unit_shows_nothing_and_a_viewer_sees_only_their_units(seeded):
    db, _people = seeded
    everything = await load_overview(
        db, units=None, period="2026", locale="da-DK", k=K, today=TODAY
    )
    small = next(u for u in everything.units if u.label == "Lille Team")
    assert small.people.suppressed and small.people.value is None and small.figures == ()
    mine = await load_overview(
        db, units=frozenset({"ældreplejen"}), period="2026", locale="da-DK", k=K, today=TODAY
    )
    assert [u.label for u in mine.units] == ["Ældreplejen", "Hele kommunen"]
    whole = {u.label: u for u in everything.units}
    for unit in mine.units:
        assert unit == whole[unit.label], "the same cells as in the whole suppressed table"
    every = await load_overview(
        db, units=frozenset({"*"}), period="2026", locale="da-DK", k=K, today=TODAY
    )
    assert every.units == everything.units
    assert await known_units(db) == ["Borgerservice", "Lille Team", "Ældreplejen"]


@pytest.mark.both_engines
async def test_a_period_before_anything_was_agreed_shows_no_agreements(seeded):
    db, _people = seeded
    overview = await load_overview(
        db, units=None, period="2025-Q4", locale="da-DK", k=K, today=TODAY
    )
    assert overview.period.label == "4. kvartal 2025"
    assert [u.unit for u in overview.units] == [None]
    decisions = overview.units[0].figures[0]
    assert [c.value for c in decisions.series[0].cells] == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="not a period"):
        await load_overview(db, units=None, period="2026-13", locale="da-DK", k=K, today=TODAY)


@pytest.mark.both_engines
async def test_a_pulse_answer_keeps_the_unit_and_the_problems_it_was_given_with(db_path):
    db = Database(db_path)
    await db.open()
    try:
        await insert_rows(
            db,
            {
                "dialogues": [
                    {
                        "id": "d1",
                        "manager_id": "m",
                        "manager_name": "M",
                        "employee_id": "e1",
                        "state": "confirmed",
                        "step": "review",
                        "version": 3,
                        "answers": "{}",
                        "locale": "da-DK",
                        "created_at": "2026-11-01T09:00:00.000000+00:00",
                        "updated_at": "2026-11-01T09:00:00.000000+00:00",
                        "unit": "ældreplejen",
                        "unit_name": "Ældreplejen",
                    }
                ]
            },
        )
        store = ReminderStore(db)
        assert await store.save_pulse("e1", "2026-W48", {"breaks": "problem", "rest": "problem"})
        assert await store.save_pulse("e2", "2026-W48", {"breaks": "good"})
        stored = db_rows(
            db_path, "SELECT employee_id, unit, problems FROM pulse_answers ORDER BY employee_id"
        )
        assert stored == [("e1", "ældreplejen", 1 + 16), ("e2", None, 0)]
        dialogue = await DialogueStore(db).get("d1")
        assert dialogue is not None and (dialogue.unit, dialogue.unit_name) == (
            "ældreplejen",
            "Ældreplejen",
        )
    finally:
        await db.close()
