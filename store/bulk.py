"""Many prepared rows at once (one executemany per table in one transaction): how the
benchmarks and the tests seed a store of thousands of employees in seconds. The rows are the
tables' own columns (store/schema.py); nothing here is used by the bot itself."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import insert, text

from store import pulse_counts
from store.database import Database
from store.schema import metadata, pulse_answers


async def insert_rows(db: Database, tables: Mapping[str, Sequence[dict[str, Any]]]) -> None:
    """Insert ``tables`` (table name → rows), in the order given, in one transaction; pulse
    answers are counted for the overview in it, as ``ReminderStore.save_pulse`` does. Then
    the planner's statistics are gathered (ANALYZE), as a database that grew to this size in
    use has them (autovacuum on PostgreSQL): without them the planner guesses a few rows per
    table and joins thousands in nested loops."""
    async with db.transaction() as conn:
        for name, rows in tables.items():
            if rows:
                await conn.execute(insert(metadata.tables[name]), list(rows))
        if tables.get(pulse_answers.name):
            await pulse_counts.rebuild(conn)
    async with db.transaction() as conn:
        await conn.execute(text("ANALYZE"))
