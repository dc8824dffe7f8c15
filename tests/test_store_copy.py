"""``python -m store copy``: a SQLite store moves into an empty PostgreSQL database once,
every table, with nothing lost; a target that holds data, a wrong URL or an unreachable server
is refused with one line and leaves the target as it was."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store.database import Database
from store.outbox import Outbox
from store.schema import metadata
from tests.databases import execute, rows

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "release-2026-12.sqlite3"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The command as an admin runs it, in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "store", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def contents(target: Path | str) -> dict[str, list[tuple]]:
    """Every row of every table of the bot, in a stable order."""
    found = {}
    for table in metadata.sorted_tables:
        names = ", ".join(c.name for c in table.columns)
        found[table.name] = sorted(
            rows(target, f"SELECT {names} FROM {table.name}"), key=lambda r: repr(r)
        )
    return found


#: Tables added after the release of 2026-12 (revisions 0004 and 0005).
NEWER_THAN_RELEASE = {"action_items", "conversation_requests"}


@pytest.fixture
def release_file(tmp_path: Path) -> Path:
    """A store written by the release of 2026-12 (never upgraded), with one row more in the
    only table that release leaves empty at rest (a Retry-After window of SharePoint)."""
    copy = tmp_path / "release-2026-12.sqlite3"
    shutil.copyfile(FIXTURE, copy)
    return copy


async def with_data_in_every_table(path: Path) -> None:
    db = Database(path)
    await db.open()  # the upgrade the bot makes at start
    try:
        later = datetime.now(UTC) + timedelta(minutes=5)
        await Outbox(db).hold_graph(later, "HTTP 429 TooManyRequests")
    finally:
        await db.close()


def contents_after_upgrade(path: Path) -> dict[str, list[tuple]]:
    asyncio.run(with_data_in_every_table(path))
    return contents(path)


def test_a_release_store_moves_to_postgresql_with_every_row(release_file, postgres_server):
    target = postgres_server.empty_database()  # as a new server gives it: no tables
    try:
        before = contents_after_upgrade(release_file)
        # Every table of the release holds rows; the tables added since are new and empty.
        empty = {t for t, r in before.items() if not r}
        assert empty <= NEWER_THAN_RELEASE, empty

        done = cli("copy", "--from", str(release_file), "--to", target)

        assert done.returncode == 0, done.stderr
        line = done.stdout.strip()
        assert "\n" not in line and line.startswith("Copied ")
        for table, found in before.items():
            assert f"{table} {len(found)}" in line
        assert contents(target) == before
        assert target.split("@")[-1] in line
    finally:
        postgres_server.drop(target)


def test_a_sqlite_url_and_a_migrated_empty_target_are_taken_too(release_file, postgres_server):
    target = postgres_server.new_database()  # migrated, no rows
    try:
        before = contents_after_upgrade(release_file)
        done = cli("copy", "--to", target, "--from", f"sqlite+aiosqlite:///{release_file}")
        assert done.returncode == 0, done.stderr
        assert contents(target) == before
    finally:
        postgres_server.drop(target)


def test_a_target_that_holds_data_is_refused_and_left_as_it_was(release_file, postgres_server):
    target = postgres_server.new_database()
    try:
        assert cli("copy", "--from", str(release_file), "--to", target).returncode == 0
        execute(target, "DELETE FROM leases")  # one table emptied: the others still hold data
        held = contents(target)

        again = cli("copy", "--from", str(release_file), "--to", target)

        assert again.returncode == 1
        assert again.stdout == ""
        assert again.stderr.count("\n") == 1 and "Traceback" not in again.stderr
        assert "already holds data" in again.stderr and "dialogues 7" in again.stderr
        assert contents(target) == held
    finally:
        postgres_server.drop(target)


def test_a_copy_that_fails_half_way_writes_nothing(release_file, postgres_server):
    """A row the target refuses (here: a constraint added on PostgreSQL only) rolls the whole
    copy back: the tables copied before it are empty again, and the copy can run again."""
    target = postgres_server.new_database()
    try:
        execute(target, "ALTER TABLE pulse_answers ADD CONSTRAINT none_here CHECK (false)")
        failed = cli("copy", "--from", str(release_file), "--to", target)
        assert failed.returncode == 1
        assert "Traceback" not in failed.stderr and failed.stderr.count("\n") == 1
        assert "nothing was written" in failed.stderr
        assert all(not found for found in contents(target).values())
    finally:
        postgres_server.drop(target)


@pytest.mark.parametrize(
    ("source", "to", "says"),
    [
        ("missing.sqlite3", "postgresql+asyncpg://bot@127.0.0.1:1/hj", "no SQLite file"),
        ("{release}", "postgresql+asyncpg://bot@127.0.0.1:1/hj", "cannot be reached"),
        ("{release}", "{release}", "--to must be a postgresql"),
        ("postgresql+asyncpg://bot@127.0.0.1:1/hj", "{release}", "--from must be a SQLite"),
        ("{release}", "mysql://bot@host/hj", "is not supported"),
    ],
)
def test_wrong_arguments_get_one_line_and_no_traceback(release_file, tmp_path, source, to, says):
    source = source.format(release=release_file)
    to = to.format(release=release_file)
    if source == "missing.sqlite3":
        source = str(tmp_path / source)
    done = cli("copy", "--from", source, "--to", to)
    assert done.returncode == 1
    assert done.stderr.startswith("Nothing copied: ") and done.stderr.count("\n") == 1
    assert says in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "missing.sqlite3").exists()


def test_without_both_places_the_usage_is_shown():
    done = cli("copy", "--from", "x.sqlite3")
    assert done.returncode == 2 and "python -m store copy --from" in done.stderr
