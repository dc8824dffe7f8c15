"""The anonymous overview's counts: a handful of GROUP BY queries, one per kind of figure,
over the agreements, items, self-checks, pulses and the reminder ledger; core/overview.py
turns the counts into suppressed figures.

Every query counts per unit: the unit of a dialogue is its employee's department when they
were chosen (``dialogues.unit``, revision 0006), and an employee's unit for their
self-checks, pulses and reminders is that of their newest dialogue. A unit that was not
given counts as ``""`` ("unit not given"). The snapshot figures describe the day
``core.overview.snapshot_day``: rows made after it are not counted, and an agreement
answered after it counts as still awaiting the employee. No name, free text or single
answer leaves this module; only counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Text,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB

from core import policy as policies
from core.access import ALL_UNITS
from core.overview import (
    NO_UNIT,
    TOPIC_OF_SELF_CHECK_STEP,
    TOPICS,
    Counts,
    build_overview,
    parse_period,
    snapshot_day,
    weeks_in,
)
from core.overview_model import Overview
from core.policy import Policy, Test, Trigger
from core.reminders import PULSE, PULSE_TOPICS, week_of
from store.database import Database
from store.reminders import UNREACHABLE
from store.schema import (
    action_items,
    agreements,
    dialogues,
    pulse_counts,
    reminder_ledger,
    self_checks,
)

d, a, i = dialogues.c, agreements.c, action_items.c
s, pc, r = self_checks.c, pulse_counts.c, reminder_ledger.c


async def load_overview(
    db: Database,
    *,
    units: frozenset[str] | None,
    period: str,
    locale: str,
    k: int,
    today: date,
) -> Overview:
    """The overview of ``period`` for a viewer of ``units`` (casefolded department names;
    None or "*": every unit). ValueError for a period that does not parse."""
    chosen = parse_period(period, locale)
    weeks = weeks_in(chosen, today)
    counts = await overview_counts(db, snapshot_day(chosen, today), weeks)
    visible = None if units is None or ALL_UNITS in units else units
    return build_overview(
        counts,
        period=chosen,
        weeks=weeks,
        visible=visible,
        locale=locale,
        k=k,
        generated_at=datetime.now(UTC),
    )


async def known_units(db: Database) -> list[str]:
    """Every unit a dialogue names, as the directory spells it, in name order (casefold one
    to pass it to ``load_overview``)."""
    rows = await db.fetchall(
        select(d.unit, func.max(d.unit_name).label("name"))
        .where(d.unit.is_not(None))
        .group_by(d.unit)
    )
    return sorted((row["name"] or row["unit"] for row in rows), key=str.casefold)


# --- the queries -------------------------------------------------------------------------------


class _Json:
    """A text value inside a JSON column, in each engine's own words."""

    def __init__(self, engine: str) -> None:
        self.engine = engine

    def document(self, column: Any) -> Any:
        """The column parsed once (PostgreSQL: as jsonb), for a subquery whose rows are
        then read at many paths."""
        return cast(column, JSONB) if self.engine == "postgresql" else column

    def text(self, column: Any, *path: str) -> ColumnElement[Any]:
        if self.engine == "postgresql":
            doc = column if isinstance(column.type, JSONB) else cast(column, JSONB)
            value: ColumnElement[Any] = doc[path].astext
            return value
        return func.json_extract(column, "$." + ".".join(path))

    def number(self, column: Any, *path: str) -> ColumnElement[Any]:
        return cast(self.text(column, *path), Float)


def _unit(column: Any) -> ColumnElement[Any]:
    return func.coalesce(column, literal(NO_UNIT))


def _people(cutoff: str) -> Any:
    """Each person (an employee, or a dialogue whose employee was only typed in) once, with
    the unit of their newest dialogue begun before the cutoff."""
    # Cast, so that SQLite gives the column text affinity and indexes the join on it.
    person = cast(func.coalesce(d.employee_id, literal("dialogue:") + d.id), Text)
    newest = (
        func.row_number()
        .over(partition_by=person, order_by=(d.created_at.desc(), d.id.desc()))
        .label("n")
    )
    ranked = (
        select(person.label("person"), _unit(d.unit).label("unit"), newest)
        .where(d.state != "cancelled", d.created_at < cutoff)
        .subquery()
    )
    return select(ranked.c.person, ranked.c.unit).where(ranked.c.n == 1).subquery("people")


async def overview_counts(db: Database, day: date, weeks: Sequence[str]) -> Counts:
    """Every count of the overview on the snapshot ``day``, with the pulses of ``weeks``."""
    cutoff = (day + timedelta(days=1)).isoformat()
    json = _Json(db.engine_name)
    counts = Counts()
    people = _people(cutoff)
    async with db.connection() as conn:

        async def rows(query: Any) -> Sequence[Any]:
            return (await conn.execute(query)).mappings().all()

        for row in await rows(
            select(d.unit, func.max(d.unit_name).label("name"))
            .where(d.unit.is_not(None))
            .group_by(d.unit)
        ):
            counts.unit_names[row["unit"]] = row["name"] or row["unit"]
        for row in await rows(
            select(people.c.unit, func.count().label("n")).group_by(people.c.unit)
        ):
            counts.people[row["unit"]] = row["n"]

        # The newest version of each agreement, and its state on the day.
        newest = (
            select(a.dialogue_id, func.max(a.version).label("version"))
            .where(a.created_at < cutoff)
            .group_by(a.dialogue_id)
            .subquery()
        )
        state = case(
            (or_(a.answered_at.is_(None), a.answered_at >= cutoff), "awaiting_employee"),
            (a.state == "superseded", "confirmed"),
            else_=a.state,
        ).label("state")
        unit = _unit(d.unit).label("unit")
        for row in await rows(
            select(unit, a.decision, state, func.count().label("n"))
            .select_from(agreements)
            .join(
                newest, and_(newest.c.dialogue_id == a.dialogue_id, newest.c.version == a.version)
            )
            .join(dialogues, d.id == a.dialogue_id)
            .group_by(unit, a.decision, state)
        ):
            u = row["unit"]
            counts.decisions[(u, row["decision"])] = (
                counts.decisions.get((u, row["decision"]), 0) + row["n"]
            )
            counts.states[(u, row["state"])] = counts.states.get((u, row["state"]), 0) + row["n"]

        # The version in force on the day: the newest one confirmed by then.
        in_force = (
            select(a.dialogue_id, func.max(a.version).label("version"))
            .where(a.state.in_(("confirmed", "superseded")), a.answered_at < cutoff)
            .group_by(a.dialogue_id)
            .subquery()
        )
        at_version = and_(in_force.c.dialogue_id == a.dialogue_id, in_force.c.version == a.version)
        # Each record parsed once (PostgreSQL would otherwise parse it at each of the three
        # paths; MATERIALIZED keeps it from folding the subquery back in).
        records = (
            select(unit, json.document(a.record).label("record"))
            .select_from(agreements)
            .join(in_force, at_version)
            .join(dialogues, d.id == a.dialogue_id)
            .where(a.decision != "not_approved")
            .cte("records_in_force")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        frequency = json.text(records.c.record, "frequency").label("frequency")
        days = cast(json.number(records.c.record, "days_per_week"), Integer).label("days")
        systematic = json.text(records.c.record, "answers", "tasks", "systematic").label(
            "systematic"
        )
        for row in await rows(
            select(records.c.unit, frequency, days, systematic, func.count().label("n")).group_by(
                records.c.unit, frequency, days, systematic
            )
        ):
            u, n = row["unit"], row["n"]
            weekly_days = row["days"] or 0
            category = (
                "occasional"
                if row["frequency"] == "occasional" or weekly_days < 1
                else str(min(weekly_days, 5))
            )
            counts.days[(u, category)] = counts.days.get((u, category), 0) + n
            answer = "yes" if row["systematic"] == "yes" else "no"
            counts.systematic[(u, answer)] = counts.systematic.get((u, answer), 0) + n

        # The items of the versions in force, by their state on the day.
        item_state = case(
            (and_(i.status.in_(("done", "not_needed")), i.status_at < cutoff), i.status),
            (i.due_date < day.isoformat(), "overdue"),
            else_="open",
        ).label("state")
        for row in await rows(
            select(unit, i.item_key, item_state, func.count().label("n"))
            .select_from(action_items)
            .join(
                in_force,
                and_(in_force.c.dialogue_id == i.dialogue_id, in_force.c.version == i.version),
            )
            .join(dialogues, d.id == i.dialogue_id)
            .group_by(unit, i.item_key, item_state)
        ):
            counts.items[(row["unit"], row["item_key"], row["state"])] = row["n"]

        # Each employee's newest finished self-check, and its problems by topic.
        latest = (
            func.row_number()
            .over(partition_by=s.employee_id, order_by=(s.updated_at.desc(), s.id.desc()))
            .label("n")
        )
        checks = (
            select(s.employee_id, json.document(s.answers).label("answers"), latest)
            .where(s.state == "done", s.updated_at < cutoff)
            .subquery()
        )
        problems = _topic_problems(policies.active(), json, checks.c.answers)
        check_unit = _unit(people.c.unit).label("unit")
        for row in await rows(
            select(
                check_unit,
                func.count().label("n"),
                *(func.sum(case((problems[t], 1), else_=0)).label(t) for t in TOPICS),
            )
            .select_from(checks)
            .outerjoin(people, people.c.person == checks.c.employee_id)
            .where(checks.c.n == 1)
            .group_by(check_unit)
        ):
            u = row["unit"]
            counts.self_checks[u] = row["n"]
            for t in TOPICS:
                counts.self_check_problems[(u, t)] = int(row[t] or 0)

        # The weekly pulses of the period's weeks, by the unit at the time of the answer,
        # as counted when they were saved (store/pulse_counts.py): no answer is read.
        if weeks:
            for row in await rows(select(pulse_counts).where(pc.week.in_(list(weeks)), pc.n > 0)):
                u, w = row["unit"], row["week"]
                counts.pulses[(u, w)] = row["n"]
                for t in PULSE_TOPICS:
                    counts.pulse_problems[(u, w, t)] = row[t]

        # Whom the weekly pulse could not reach, by their newest ledger row by then.
        last_row = (
            func.row_number().over(partition_by=r.recipient_id, order_by=r.week.desc()).label("n")
        )
        ledger = (
            select(r.recipient_id, r.state, last_row)
            .where(r.kind == PULSE, r.week <= week_of(day))
            .subquery()
        )
        reach = case((ledger.c.state == UNREACHABLE, "unreachable"), else_="reached").label("reach")
        reach_unit = _unit(people.c.unit).label("unit")
        for row in await rows(
            select(reach_unit, reach, func.count().label("n"))
            .select_from(ledger)
            .outerjoin(people, people.c.person == ledger.c.recipient_id)
            .where(ledger.c.n == 1)
            .group_by(reach_unit, reach)
        ):
            counts.reach[(row["unit"], row["reach"])] = row["n"]
    return counts


def _test(policy: Policy, test: Test, json: _Json, answers: Any, path: str) -> ColumnElement[bool]:
    """One test of a policy trigger as SQL (core.policy._passes: a missing answer fails)."""
    step, _, field = path.partition(".")
    value = json.text(answers, step, field)
    if test.is_ is not None:
        return value == test.is_
    if test.is_not is not None:
        return and_(value.is_not(None), value != test.is_not)
    if test.in_ is not None:
        return value.in_(test.in_)
    if test.at_least is not None:
        return json.number(answers, step, field) >= policy.threshold(test.at_least)
    assert test.above is not None
    return json.number(answers, step, field) > policy.threshold(test.above)


def _trigger(policy: Policy, trigger: Trigger, json: _Json, answers: Any) -> ColumnElement[bool]:
    """A policy trigger (core.policy.holds) as one SQL condition over a JSON column."""
    tests = [_test(policy, t, json, answers, path) for path, t in trigger.answers.items()]
    if trigger.any_of:
        tests.append(or_(*(_trigger(policy, t, json, answers) for t in trigger.any_of)))
    return and_(true(), *tests)


def _topic_problems(policy: Policy, json: _Json, answers: Any) -> dict[str, ColumnElement[bool]]:
    """For each topic T1–T4: whether a self-check raises at least one flag of that topic."""
    found: dict[str, list[ColumnElement[bool]]] = {t: [] for t in TOPICS}
    for flag in policy.flags:
        found[TOPIC_OF_SELF_CHECK_STEP[flag.step]].append(
            _trigger(policy, flag.when, json, answers)
        )
    return {t: or_(false(), *conditions) for t, conditions in found.items()}
