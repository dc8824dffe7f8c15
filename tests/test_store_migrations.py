"""The schema: Alembic builds what store/schema.py declares on both engines, a file of the
2026-12 release upgrades in place with nothing lost, and a database the code does not know
is refused with one line."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from core.dialogue import AWAITING_EMPLOYEE, CANCELLED, CONFIRMED, DISPUTED, IN_PROGRESS
from store.database import Database, StoreError
from store.dialogues import DialogueStore
from store.key_values import KeyValueStore
from store.migrate import head
from store.outbox import Outbox
from store.reminders import ReminderStore
from store.schema import metadata
from store.self_checks import SelfCheckStore
from tests.databases import downgrade, execute, rows

FIXTURE = Path(__file__).parent / "fixtures" / "release-2026-12.sqlite3"
#: Every table of the release and the rows it left in each (tests/fixtures/README.md).
RELEASE_COUNTS = {
    "agreements": 5,
    "bot_state": 8,
    "conversation_refs": 8,
    "dialogues": 7,
    "leases": 0,
    "pulse_answers": 1,
    "reminder_ledger": 6,
    "reminder_preferences": 1,
    "reminder_weeks": 1,
    "schema_migrations": 4,
    "self_checks": 3,
    "sharepoint_outbox": 5,
}
MADS, FREJA = "e4a1d7c3-9f2b-4b6e-8d15-3c7a0e5f9b62", "9c5a2e8f-6b1d-4d3c-a7f4-0b8e3d6c2a95"
LONE = "3f2b8c1e-7a4d-4e9b-9c21-5d8e0f6a1b42"
HENRIK = "a7c4e2d9-1b3f-4c8a-8e5d-2f9b6a0c3d71"


def counts(path: Path) -> dict[str, int]:
    with closing(sqlite3.connect(path)) as conn:
        tables = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}


@pytest.fixture
def release_file(tmp_path: Path) -> Path:
    copy = tmp_path / "release-2026-12.sqlite3"
    shutil.copyfile(FIXTURE, copy)
    return copy


@pytest.mark.both_engines
async def test_a_new_database_gets_exactly_the_declared_schema(db_path):
    db = Database(db_path)
    await db.open()
    try:
        async with db.connection() as conn:
            differences = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
            )
        assert differences == []
        assert await db.schema_version() == head()
        assert await db.schema_state() == "current"
    finally:
        await db.close()


async def test_a_file_of_the_release_upgrades_in_place_with_nothing_lost(release_file):
    assert counts(release_file) == RELEASE_COUNTS
    db = Database(release_file)
    await db.open()
    try:
        assert await db.schema_version() == head()
        dialogues = DialogueStore(db)
        states = sorted(d.state for d in await dialogues.not_cancelled())
        assert states == sorted(
            [CONFIRMED, AWAITING_EMPLOYEE, DISPUTED, CONFIRMED, IN_PROGRESS, IN_PROGRESS]
        )
        every = [d for m in (LONE, HENRIK) for d in await dialogues.for_manager(m)]
        assert len(every) == 7 and all(d.answers is not None for d in every)
        (niels,) = [d for d in every if d.state == CANCELLED]
        assert (niels.employee_name, niels.employee_id) == ("Niels Jakobsen", None)
        newest = await dialogues.newest_agreements()
        assert len(newest) == 4  # Freja's agreement shows as its version 2 only
        (freja,) = await dialogues.for_employee(FREJA)
        v1, v2 = [await dialogues.agreement(freja.id, v) for v in (1, 2)]
        assert (v1 and v1.state, v2 and v2.state) == (DISPUTED, CONFIRMED)
        assert v2 is not None and v2.follow_up_date is not None
        assert (await SelfCheckStore(db).latest_done(MADS)) is not None
        assert await Outbox(db).counts() == {"total": 5, "pending": 5, "synced": 0}
        reminders = ReminderStore(db)
        assert sum((await reminders.counts()).values()) == 6
        # Revision 0006: the pulse answer's problem topics as bits (workstation), no unit.
        assert rows(release_file, "SELECT unit, problems FROM pulse_answers") == [(None, 2)]
        assert rows(release_file, "SELECT COUNT(*) FROM dialogues WHERE unit IS NOT NULL") == [(0,)]
        assert await reminders.was_sent(MADS, "pulse", "2026-W50")
        keys = [k for (k,) in rows(release_file, "SELECT key FROM bot_state")]
        assert len(await KeyValueStore(db).read(keys)) == 8
    finally:
        await db.close()
    after = counts(release_file)
    # Every row is still there; Alembic's own table is new; the old table stays, so the
    # release itself can still open the file if it must be rolled back. The action items
    # (revision 0004) and the employees' requests (revision 0005) are new and empty.
    assert after == {
        **RELEASE_COUNTS,
        "alembic_version": 1,
        "action_items": 0,
        "conversation_requests": 0,
        "pulse_counts": 1,
    }
    assert rows(release_file, "SELECT version_num FROM alembic_version") == [(head(),)]

    again = Database(release_file)  # a second start changes nothing
    await again.open()
    await again.close()
    assert counts(release_file) == after


async def test_a_file_of_a_build_before_the_release_is_refused(release_file):
    execute(release_file, "DELETE FROM schema_migrations WHERE version = 4")
    before = counts(release_file)
    db = Database(release_file)
    with pytest.raises(StoreError, match=r"schema version 3 of a build before the release"):
        await db.open()
    assert counts(release_file) == before


@pytest.mark.both_engines
async def test_a_schema_newer_than_the_code_is_refused_and_left_alone(db_path):
    db = Database(db_path)
    await db.open()
    await db.close()
    execute(db_path, "UPDATE alembic_version SET version_num = ?", "9999")
    with pytest.raises(StoreError) as refused:
        await Database(db_path).open()
    assert str(refused.value) == (
        f"the database schema is at revision 9999, newer than this version of the bot knows"
        f" (up to {head()}): run the newer version, or restore a backup"
    )
    assert rows(db_path, "SELECT version_num FROM alembic_version") == [("9999",)]


async def test_tables_of_the_bot_without_a_revision_are_not_touched(tmp_path):
    path = tmp_path / "foreign.sqlite3"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE dialogues (id TEXT)")
    with pytest.raises(StoreError, match="no schema revision"):
        await Database(path).open()
    assert rows(path, "SELECT name FROM sqlite_master WHERE type = 'table'") == [("dialogues",)]


async def test_instances_starting_together_on_a_new_database_migrate_once(postgres_server):
    url = postgres_server.empty_database()
    try:
        dbs = [Database(url) for _ in range(4)]
        await asyncio.gather(*(db.open() for db in dbs))
        for db in dbs:
            assert await db.schema_state() == "current"
            await db.close()
        assert rows(url, "SELECT version_num FROM alembic_version") == [(head(),)]
    finally:
        postgres_server.drop(url)


def copy_row(conn: sqlite3.Connection, table: str, **changes: object) -> None:
    """One more row like the first of ``table``, with ``changes``."""
    columns = [c[1] for c in conn.execute(f"PRAGMA table_info({table})")]
    first = conn.execute(f"SELECT * FROM {table} LIMIT 1").fetchone()
    row = {**dict(zip(columns, first, strict=True)), **changes}
    marks = ", ".join("?" for _ in row)
    conn.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({marks})", list(row.values()))


async def test_doubles_from_before_revision_0003_are_resolved_with_nothing_deleted(release_file):
    """A double click under the previous release could leave two untouched dialogues or two
    open self-checks: the upgrade keeps the newest open, closes the others, deletes nothing."""
    with closing(sqlite3.connect(release_file)) as conn:
        for n, at in enumerate(("2026-11-30T10:00:00", "2026-11-30T10:00:01")):
            copy_row(
                conn,
                "dialogues",
                id=f"double{n}",
                state="in_progress",
                version=1,
                answers="{}",
                created_at=at,
                updated_at=at,
            )
            copy_row(
                conn,
                "self_checks",
                id=f"check{n}",
                employee_id="e-double",
                state="in_progress",
                updated_at=at,
            )
        conn.commit()
    before = counts(release_file)
    db = Database(release_file)
    await db.open()
    await db.close()
    assert {t: n for t, n in counts(release_file).items() if t in before} == before
    got = rows(release_file, "SELECT id, state FROM dialogues WHERE id LIKE 'double%' ORDER BY id")
    assert got == [("double0", "cancelled"), ("double1", "in_progress")]
    got = rows(release_file, "SELECT id, state FROM self_checks WHERE id LIKE 'check%' ORDER BY id")
    assert got == [("check0", "abandoned"), ("check1", "in_progress")]


@pytest.mark.both_engines
async def test_revision_0006_counts_the_problems_of_the_pulses_already_given(db_path):
    """Down to 0005 and up again: a pulse answer stored before the overview existed gets its
    problem topics as bits from its JSON, and no unit (it was never asked)."""
    await downgrade(db_path, "0005")
    assert "problems" not in {
        name for (name,) in rows(db_path, *_columns_query(db_path, "pulse_answers"))
    }
    for employee, answers in (
        ("e1", '{"breaks": "problem", "workstation": "good", "rest": "problem"}'),
        ("e2", '{"breaks": "good", "colleagues": "problem", "work_life": "problem"}'),
        ("e3", '{"breaks": "good"}'),
    ):
        execute(
            db_path,
            "INSERT INTO pulse_answers (employee_id, week, answers, created_at) VALUES (?, ?, ?, ?)",
            employee,
            "2026-W48",
            answers,
            "2026-11-23T09:00:00.000000+00:00",
        )
    again = Database(db_path)
    await again.open()
    await again.close()
    assert rows(
        db_path, "SELECT employee_id, unit, problems FROM pulse_answers ORDER BY employee_id"
    ) == [("e1", None, 1 + 16), ("e2", None, 4 + 8), ("e3", None, 0)]
    assert rows(db_path, "SELECT version_num FROM alembic_version") == [(head(),)]


def _columns_query(target, table: str) -> tuple[str, ...]:
    if isinstance(target, str):
        return ("SELECT column_name FROM information_schema.columns WHERE table_name = ?", table)
    return (f"SELECT name FROM pragma_table_info('{table}')",)
