"""The reminders' durable part: the send ledger, planned weeks, preferences, pulse answers
and the sender's lease.

Exactly once: a ledger row is unique per (recipient, kind, ISO week), so planning a week twice
adds nothing. A row is marked ``sending`` before its message leaves and ``sent`` when the
connector accepted it. Only the holder of the ``reminders`` lease sends, so two bot processes
on one store never send the same row; a sender that died leaves its lease to expire. A row
still ``sending`` after that is ``uncertain`` (the process died between the send and its
record): it is not sent again, because a duplicate is worse than one missed weekly reminder,
and the admin status lists it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from store.database import Database, utc_now

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
UNREACHABLE = "unreachable"
FAILED = "failed"
UNCERTAIN = "uncertain"
SKIPPED = "skipped"  # nothing to say (an empty digest) or stopped since it was planned

SENDER_LEASE = "reminders"


@dataclass(frozen=True)
class LedgerRow:
    recipient_id: str
    kind: str
    week: str
    attempts: int


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class ReminderStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- planning -------------------------------------------------------------------------

    async def is_planned(self, week: str) -> bool:
        return (
            await self.db.fetchone("SELECT 1 FROM reminder_weeks WHERE week = ?", (week,))
            is not None
        )

    async def plan(self, week: str, entries: list[tuple[str, str]], now: datetime) -> int:
        """Add a pending row per (recipient, kind) and mark the week planned, together.
        Rows that exist stay as they are. Returns how many rows are new."""
        added = 0
        async with self.db.transaction() as conn:
            for recipient_id, kind in entries:
                cursor = await conn.execute(
                    "INSERT INTO reminder_ledger (recipient_id, kind, week, state, attempts,"
                    " not_before, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?)"
                    " ON CONFLICT (recipient_id, kind, week) DO NOTHING",
                    (recipient_id, kind, week, PENDING, _iso(now), utc_now()),
                )
                added += cursor.rowcount
            await conn.execute(
                "INSERT INTO reminder_weeks (week, planned_at) VALUES (?, ?)"
                " ON CONFLICT (week) DO NOTHING",
                (week, utc_now()),
            )
        return added

    # --- the sender's lease ---------------------------------------------------------------

    async def take_lease(self, holder: str, now: datetime, seconds: float) -> bool:
        """Take or renew the sender lease; False while another live holder has it. Taking it
        over from a holder that died turns that holder's unfinished sends uncertain."""
        until = _iso(datetime.fromtimestamp(now.timestamp() + seconds, UTC))
        async with self.db.transaction() as conn:
            row = await (
                await conn.execute(
                    "SELECT holder, until FROM leases WHERE name = ?", (SENDER_LEASE,)
                )
            ).fetchone()
            if row is None:
                await conn.execute(
                    "INSERT INTO leases (name, holder, until) VALUES (?, ?, ?)",
                    (SENDER_LEASE, holder, until),
                )
                return True
            if row["holder"] != holder and row["until"] > _iso(now):
                return False
            if row["holder"] != holder:
                await conn.execute(
                    "UPDATE reminder_ledger SET state = ?, updated_at = ? WHERE state = ?",
                    (UNCERTAIN, utc_now(), SENDING),
                )
            await conn.execute(
                "UPDATE leases SET holder = ?, until = ? WHERE name = ?",
                (holder, until, SENDER_LEASE),
            )
            return True

    async def release_lease(self, holder: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "DELETE FROM leases WHERE name = ? AND holder = ?", (SENDER_LEASE, holder)
            )

    # --- delivery -------------------------------------------------------------------------

    async def due(self, week: str, now: datetime, limit: int) -> list[LedgerRow]:
        rows = await self.db.fetchall(
            "SELECT recipient_id, kind, week, attempts FROM reminder_ledger"
            " WHERE week = ? AND state = ? AND not_before <= ?"
            " ORDER BY not_before, recipient_id, kind LIMIT ?",
            (week, PENDING, _iso(now), limit),
        )
        return [LedgerRow(r["recipient_id"], r["kind"], r["week"], r["attempts"]) for r in rows]

    async def next_due_at(self, week: str) -> datetime | None:
        row = await self.db.fetchone(
            "SELECT MIN(not_before) AS at FROM reminder_ledger WHERE week = ? AND state = ?",
            (week, PENDING),
        )
        return datetime.fromisoformat(row["at"]) if row and row["at"] else None

    async def mark(
        self,
        row: LedgerRow,
        state: str,
        *,
        expected: str,
        status: int | None = None,
        attempts: int | None = None,
        not_before: datetime | None = None,
    ) -> bool:
        """Move one row from ``expected`` to ``state``; False if it was not in ``expected``."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE reminder_ledger SET state = ?, last_status = COALESCE(?, last_status),"
                " attempts = COALESCE(?, attempts), not_before = COALESCE(?, not_before),"
                " updated_at = ? WHERE recipient_id = ? AND kind = ? AND week = ? AND state = ?",
                (
                    state,
                    status,
                    attempts,
                    _iso(not_before) if not_before else None,
                    utc_now(),
                    row.recipient_id,
                    row.kind,
                    row.week,
                    expected,
                ),
            )
            return cursor.rowcount == 1

    async def counts(self, week: str | None = None) -> dict[str, int]:
        where, params = ("WHERE week = ?", (week,)) if week else ("", ())
        rows = await self.db.fetchall(
            f"SELECT state, COUNT(*) AS n FROM reminder_ledger {where} GROUP BY state", params
        )
        return {r["state"]: r["n"] for r in rows}

    async def problems(self, limit: int = 50) -> list[dict[str, Any]]:
        """Rows that did not go out (unreachable, failed, uncertain), newest first."""
        rows = await self.db.fetchall(
            "SELECT recipient_id, kind, week, state, attempts, last_status, updated_at"
            " FROM reminder_ledger WHERE state IN (?, ?, ?) ORDER BY updated_at DESC LIMIT ?",
            (UNREACHABLE, FAILED, UNCERTAIN, limit),
        )
        return [dict(r) for r in rows]

    async def unreachable_since(self, recipient_ids: list[str], week: str) -> set[str]:
        """Who of these could not be reached by a reminder in ``week`` or later."""
        if not recipient_ids:
            return set()
        marks = ", ".join("?" for _ in recipient_ids)
        rows = await self.db.fetchall(
            f"SELECT DISTINCT recipient_id FROM reminder_ledger WHERE state = ? AND week >= ?"
            f" AND recipient_id IN ({marks})",
            (UNREACHABLE, week, *recipient_ids),
        )
        return {r["recipient_id"] for r in rows}

    async def was_sent(self, recipient_id: str, kind: str, week: str) -> bool:
        row = await self.db.fetchone(
            "SELECT 1 FROM reminder_ledger WHERE recipient_id = ? AND kind = ? AND week = ?"
            " AND state = ?",
            (recipient_id, kind, week, SENT),
        )
        return row is not None

    # --- preferences ----------------------------------------------------------------------

    async def set_preference(
        self, user_id: str, kind: str, *, stopped: bool, snoozed_week: str | None = None
    ) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO reminder_preferences (user_id, kind, stopped, snoozed_week,"
                " updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, kind) DO UPDATE SET"
                " stopped = excluded.stopped, snoozed_week = excluded.snoozed_week,"
                " updated_at = excluded.updated_at",
                (user_id, kind, int(stopped), snoozed_week, utc_now()),
            )

    async def resume_all(self, user_id: str) -> int:
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM reminder_preferences WHERE user_id = ?", (user_id,)
            )
            return cursor.rowcount

    async def held_back(self, kind: str, week: str) -> set[str]:
        """Users who stopped this kind, or snoozed it for this week."""
        rows = await self.db.fetchall(
            "SELECT user_id FROM reminder_preferences WHERE kind = ?"
            " AND (stopped = 1 OR snoozed_week = ?)",
            (kind, week),
        )
        return {r["user_id"] for r in rows}

    # --- pulse answers --------------------------------------------------------------------

    async def save_pulse(self, employee_id: str, week: str, answers: dict[str, str]) -> bool:
        """Store the week's pulse; False when that week was answered already."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO pulse_answers (employee_id, week, answers, created_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (employee_id, week) DO NOTHING",
                (employee_id, week, json.dumps(answers), utc_now()),
            )
            return cursor.rowcount == 1

    async def pulses(self, employee_id: str, weeks: list[str]) -> dict[str, dict[str, str]]:
        if not weeks:
            return {}
        marks = ", ".join("?" for _ in weeks)
        rows = await self.db.fetchall(
            f"SELECT week, answers FROM pulse_answers WHERE employee_id = ? AND week IN ({marks})",
            (employee_id, *weeks),
        )
        return {r["week"]: json.loads(r["answers"]) for r in rows}
