"""What an operator sees when the store cannot be used: one clear line at start and no
traceback; and what a user sees when a store statement fails in the middle of a turn."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from core.texts import texts_for
from store.database import Database
from tests.databases import execute, rows

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(env: dict[str, str]) -> tuple[int, list[str]]:
    """Start ``python app.py`` with ``env``; its exit status and its stderr lines."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MICROSOFT_APP", "DATABASE"))}
    done = subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env={**clean, "PORT": str(free_port()), "REMINDER_SCHEDULER": "off", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, done.stderr.splitlines()


def refusal(lines: list[str]) -> str:
    """The one line that says why the start was refused (the rest are the start's logs)."""
    assert not any("Traceback" in line for line in lines), "\n".join(lines)
    (line,) = [x for x in lines if " INFO " not in x and " WARNING " not in x]
    return line


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "mysql://bot:hemmelig@db.example/x",
            "Database settings: DATABASE_URL scheme 'mysql' is not supported: use"
            " sqlite+aiosqlite:///<file> or postgresql+asyncpg://<user>@<host>:5432/<database>.",
        ),
        ("no scheme at all://", "Database settings: DATABASE_URL is not a database URL."),
    ],
)
def test_a_database_url_of_another_kind_is_refused_in_one_line(url, expected):
    status, lines = start({"DATABASE_URL": url})
    assert status != 0 and refusal(lines) == expected
    assert "hemmelig" not in "\n".join(lines)


def test_an_unreachable_postgresql_is_named_in_one_line_without_its_password():
    port = free_port()  # nothing listens there
    status, lines = start({"DATABASE_URL": f"postgresql://bot:hemmelig@127.0.0.1:{port}/hjemme"})
    line = refusal(lines)
    assert status != 0
    assert line.startswith(
        f"Cannot start: the database postgresql+asyncpg://bot:***@127.0.0.1:{port}/hjemme"
        " cannot be reached (ConnectionRefusedError"
    )
    assert "hemmelig" not in "\n".join(lines)


async def test_a_schema_newer_than_the_code_stops_the_start_in_one_line(tmp_path):
    path = tmp_path / "newer.sqlite3"
    db = Database(path)
    await db.open()
    await db.close()
    execute(path, "UPDATE alembic_version SET version_num = 'f00d'")
    status, lines = start({"DATABASE_URL": f"sqlite+aiosqlite:///{path}"})
    assert status != 0
    assert refusal(lines).startswith(
        "Cannot start: the database schema is at revision f00d, newer than this version"
    )
    assert rows(path, "SELECT version_num FROM alembic_version") == [("f00d",)]


@pytest.mark.both_engines
async def test_a_store_failure_during_a_turn_ends_in_the_friendly_message(manager, db_path):
    await manager.say("hjælp")
    execute(db_path, "ALTER TABLE dialogues RENAME TO dialogues_gone")
    sent = await manager.say("start")
    assert [s.text for s in sent if s.text] == [texts_for("da-DK")("commands.error")]
    execute(db_path, "ALTER TABLE dialogues_gone RENAME TO dialogues")
    sent = await manager.say("start")
    assert any(s.card for s in sent)  # the store is back: the dialogue begins
