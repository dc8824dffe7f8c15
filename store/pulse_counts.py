"""The pulse answers counted per (ISO week, unit), kept in step with pulse_answers.

Every write of pulse_answers goes through here, in the transaction that writes the answers:
``count`` after a pulse was inserted, ``delete_pulses`` for erasure and the retention purge
(the deleted rows are subtracted), ``rebuild`` after rows were loaded in bulk. So the table
always holds what a GROUP BY over pulse_answers would give, and the anonymous overview reads
it instead. Both engines upsert with ``ON CONFLICT DO UPDATE … SET n = n + 1``: concurrent
saves on PostgreSQL wait for each other's row lock and add up, none is lost.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, func, insert, literal, select, update

from core.overview import NO_UNIT
from core.reminders import PULSE_TOPICS
from store.connections import StoreConnection
from store.database import insert_for
from store.schema import pulse_answers, pulse_counts

c, p = pulse_counts.c, pulse_answers.c


def _marked(problems: Any, bit: int) -> Any:
    """1 when bit ``bit`` of ``problems`` is set, else 0 (as SQL or as a Python int)."""
    if isinstance(problems, int):
        return (problems >> bit) & 1
    return problems.op(">>")(bit).op("&")(1)


async def count(
    conn: StoreConnection, engine_name: str, week: str, unit: str | None, problems: int
) -> None:
    """Count one pulse answer just inserted (``problems``: core.reminders.problem_mask)."""
    marks = {t: _marked(problems, n) for n, t in enumerate(PULSE_TOPICS)}
    upsert = insert_for(engine_name, pulse_counts).values(
        week=week, unit=unit or NO_UNIT, n=1, **marks
    )
    await conn.execute(
        upsert.on_conflict_do_update(
            index_elements=[c.week, c.unit],
            set_={"n": c.n + 1, **{t: c[t] + upsert.excluded[t] for t in PULSE_TOPICS}},
        )
    )


async def delete_pulses(conn: StoreConnection, where: ColumnElement[bool]) -> int:
    """Delete the pulse answers ``where`` holds and subtract them from the counts; how many
    were deleted."""
    deleted = (
        (
            await conn.execute(
                delete(pulse_answers).where(where).returning(p.week, p.unit, p.problems)
            )
        )
        .mappings()
        .all()
    )
    answers: Counter[tuple[str, str]] = Counter()
    marked: Counter[tuple[str, str, str]] = Counter()
    for row in deleted:
        key = (row["week"], row["unit"] or NO_UNIT)
        answers[key] += 1
        for n, t in enumerate(PULSE_TOPICS):
            marked[(*key, t)] += _marked(row["problems"], n)
    if answers:
        await conn.execute(
            update(pulse_counts)
            .where(c.week == bindparam("w"), c.unit == bindparam("u"))
            .values(
                n=c.n - bindparam("dn"),
                **{t: c[t] - bindparam(f"d_{t}") for t in PULSE_TOPICS},
            ),
            [
                {
                    "w": week,
                    "u": unit,
                    "dn": n,
                    **{f"d_{t}": marked[(week, unit, t)] for t in PULSE_TOPICS},
                }
                for (week, unit), n in answers.items()
            ],
        )
        await conn.execute(delete(pulse_counts).where(c.n <= 0))
    return len(deleted)


def grouped() -> Any:
    """The counts as a scan of pulse_answers gives them (week, unit, n, one sum per topic)."""
    unit = func.coalesce(p.unit, literal(NO_UNIT))
    return select(
        p.week,
        unit.label("unit"),
        func.count().label("n"),
        *(
            func.coalesce(func.sum(_marked(p.problems, n)), 0).label(t)
            for n, t in enumerate(PULSE_TOPICS)
        ),
    ).group_by(p.week, unit)


async def rebuild(conn: StoreConnection) -> None:
    """Count every pulse answer afresh (after rows were written around ``count``)."""
    await conn.execute(delete(pulse_counts))
    await conn.execute(
        insert(pulse_counts).from_select(["week", "unit", "n", *PULSE_TOPICS], grouped())
    )
