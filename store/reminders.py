"""The reminders' durable part: the send ledger, planned weeks, preferences, pulse answers
and the sender's lease.

Exactly once: a ledger row is unique per (recipient, kind, ISO week), so planning a week twice
adds nothing. A row is marked ``sending`` before its message leaves and ``sent`` when the
connector accepted it. Only the holder of the ``reminders`` lease sends, so two bot processes
on one store never send the same row; a sender that died leaves its lease to expire. A row
still ``sending`` after that is ``uncertain`` (the process died between the send and its
record): it is not sent again, because a duplicate is worse than one missed weekly reminder,
and the admin status lists it.

Several senders can drain one week together: ``claim`` takes due rows for one sender for a
while, picking them in a short transaction that locks them (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL; SQLite has one writer at a time), so no two senders take the same row; ``mark``
stays the compare-and-set that moves a row on. A row still ``sending`` when its sender's
claim has expired is ``uncertain``, as with the lease.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, tuple_, update

from core.reminders import problem_mask
from store import pulse_counts
from store.database import Database, utc_now
from store.dialogues import unit_now
from store.schema import (
    leases,
    pulse_answers,
    reminder_ledger,
    reminder_preferences,
    reminder_weeks,
)

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
UNREACHABLE = "unreachable"
FAILED = "failed"
UNCERTAIN = "uncertain"
SKIPPED = "skipped"  # nothing to say (an empty digest) or stopped since it was planned

SENDER_LEASE = "reminders"

r, lease, pref, pulse = reminder_ledger.c, leases.c, reminder_preferences.c, pulse_answers.c


@dataclass(frozen=True)
class LedgerRow:
    recipient_id: str
    kind: str
    week: str
    attempts: int


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _row(row: Any) -> LedgerRow:
    return LedgerRow(row["recipient_id"], row["kind"], row["week"], row["attempts"])


_DUE_ORDER = (r.not_before, r.recipient_id, r.kind)


class ReminderStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- planning -------------------------------------------------------------------------

    async def is_planned(self, week: str) -> bool:
        found = await self.db.fetchone(
            select(reminder_weeks.c.week).where(reminder_weeks.c.week == week)
        )
        return found is not None

    async def plan(self, week: str, entries: list[tuple[str, str]], now: datetime) -> int:
        """Add a pending row per (recipient, kind) and mark the week planned, together.
        Rows that exist stay as they are. Returns how many rows are new."""
        added = 0
        async with self.db.transaction() as conn:
            for recipient_id, kind in entries:
                result = await conn.execute(
                    self.db.insert(reminder_ledger)
                    .values(
                        recipient_id=recipient_id,
                        kind=kind,
                        week=week,
                        state=PENDING,
                        attempts=0,
                        not_before=_iso(now),
                        updated_at=utc_now(),
                    )
                    .on_conflict_do_nothing()
                )
                added += result.rowcount
            await conn.execute(
                self.db.insert(reminder_weeks)
                .values(week=week, planned_at=utc_now())
                .on_conflict_do_nothing()
            )
        return added

    # --- the sender's lease ---------------------------------------------------------------

    async def take_lease(self, holder: str, now: datetime, seconds: float) -> bool:
        """Take or renew the sender lease; False while another live holder has it. Taking it
        over from a holder that died turns that holder's unfinished sends uncertain."""
        until = _iso(datetime.fromtimestamp(now.timestamp() + seconds, UTC))
        async with self.db.transaction() as conn:
            # Two instances asking at once: the row exists first, then one waits for the
            # other's lock on it and sees its outcome.
            created = await conn.execute(
                self.db.insert(leases)
                .values(name=SENDER_LEASE, holder=holder, until=until)
                .on_conflict_do_nothing()
            )
            if created.rowcount:
                return True
            row = (
                (
                    await conn.execute(
                        select(lease.holder, lease.until)
                        .where(lease.name == SENDER_LEASE)
                        .with_for_update()
                    )
                )
                .mappings()
                .one()
            )
            if row["holder"] != holder and row["until"] > _iso(now):
                return False
            if row["holder"] != holder:
                await conn.execute(
                    update(reminder_ledger)
                    .where(r.state == SENDING, r.claimed_by.is_(None))
                    .values(state=UNCERTAIN, updated_at=utc_now())
                )
            await conn.execute(
                update(leases).where(lease.name == SENDER_LEASE).values(holder=holder, until=until)
            )
            return True

    async def release_lease(self, holder: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                delete(leases).where(lease.name == SENDER_LEASE, lease.holder == holder)
            )

    # --- delivery -------------------------------------------------------------------------

    async def due(self, week: str, now: datetime, limit: int) -> list[LedgerRow]:
        rows = await self.db.fetchall(
            select(r.recipient_id, r.kind, r.week, r.attempts)
            .where(r.week == week, r.state == PENDING, r.not_before <= _iso(now))
            .order_by(*_DUE_ORDER)
            .limit(limit)
        )
        return [_row(row) for row in rows]

    async def claim(
        self, week: str, now: datetime, limit: int, *, holder: str, seconds: float
    ) -> list[LedgerRow]:
        """Like ``due``, but the rows are this sender's for ``seconds``: a sender calling
        at the same time gets other rows. Rows another sender left ``sending`` when its
        claim ran out become uncertain first (it died between the send and its record)."""
        at, until = _iso(now), _iso(now + timedelta(seconds=seconds))
        pick = (
            select(r.recipient_id, r.kind, r.week, r.attempts)
            .where(
                r.week == week,
                r.state == PENDING,
                r.not_before <= at,
                or_(r.claimed_until.is_(None), r.claimed_until <= at, r.claimed_by == holder),
            )
            .order_by(*_DUE_ORDER)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self.db.transaction() as conn:
            await conn.execute(
                update(reminder_ledger)
                .where(r.week == week, r.state == SENDING, r.claimed_until <= at)
                .values(state=UNCERTAIN, updated_at=utc_now())
            )
            rows = [_row(row) for row in (await conn.execute(pick)).mappings()]
            if rows:
                await conn.execute(
                    update(reminder_ledger)
                    .where(
                        tuple_(r.recipient_id, r.kind, r.week).in_(
                            [(x.recipient_id, x.kind, x.week) for x in rows]
                        )
                    )
                    .values(claimed_by=holder, claimed_until=until)
                )
        return rows

    async def next_due_at(self, week: str) -> datetime | None:
        row = await self.db.fetchone(
            select(func.min(r.not_before).label("at")).where(r.week == week, r.state == PENDING)
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
        values: dict[str, Any] = {"state": state, "updated_at": utc_now()}
        if status is not None:
            values["last_status"] = status
        if attempts is not None:
            values["attempts"] = attempts
        if not_before is not None:
            values["not_before"] = _iso(not_before)
        async with self.db.transaction() as conn:
            result = await conn.execute(
                update(reminder_ledger)
                .where(
                    r.recipient_id == row.recipient_id,
                    r.kind == row.kind,
                    r.week == row.week,
                    r.state == expected,
                )
                .values(values)
            )
            return result.rowcount == 1

    async def counts(self, week: str | None = None) -> dict[str, int]:
        query = select(r.state, func.count().label("n")).group_by(r.state)
        if week:
            query = query.where(r.week == week)
        return {row["state"]: row["n"] for row in await self.db.fetchall(query)}

    async def problems(self, limit: int = 50) -> list[dict[str, Any]]:
        """Rows that did not go out (unreachable, failed, uncertain), newest first."""
        rows = await self.db.fetchall(
            select(r.recipient_id, r.kind, r.week, r.state, r.attempts, r.last_status, r.updated_at)
            .where(r.state.in_((UNREACHABLE, FAILED, UNCERTAIN)))
            .order_by(r.updated_at.desc())
            .limit(limit)
        )
        return [dict(row) for row in rows]

    async def unreachable_since(self, recipient_ids: list[str], week: str) -> set[str]:
        """Who of these could not be reached by a reminder in ``week`` or later."""
        if not recipient_ids:
            return set()
        rows = await self.db.fetchall(
            select(r.recipient_id)
            .distinct()
            .where(r.state == UNREACHABLE, r.week >= week, r.recipient_id.in_(recipient_ids))
        )
        return {row["recipient_id"] for row in rows}

    async def was_sent(self, recipient_id: str, kind: str, week: str) -> bool:
        row = await self.db.fetchone(
            select(r.state).where(
                r.recipient_id == recipient_id, r.kind == kind, r.week == week, r.state == SENT
            )
        )
        return row is not None

    # --- preferences ----------------------------------------------------------------------

    async def set_preference(
        self, user_id: str, kind: str, *, stopped: bool, snoozed_week: str | None = None
    ) -> None:
        upsert = self.db.insert(reminder_preferences).values(
            user_id=user_id,
            kind=kind,
            stopped=int(stopped),
            snoozed_week=snoozed_week,
            updated_at=utc_now(),
        )
        async with self.db.transaction() as conn:
            await conn.execute(
                upsert.on_conflict_do_update(
                    index_elements=[pref.user_id, pref.kind],
                    set_={
                        "stopped": upsert.excluded.stopped,
                        "snoozed_week": upsert.excluded.snoozed_week,
                        "updated_at": upsert.excluded.updated_at,
                    },
                )
            )

    async def resume_all(self, user_id: str) -> int:
        async with self.db.transaction() as conn:
            result = await conn.execute(delete(reminder_preferences).where(pref.user_id == user_id))
            return result.rowcount

    async def held_back(self, kind: str, week: str) -> set[str]:
        """Users who stopped this kind, or snoozed it for this week."""
        rows = await self.db.fetchall(
            select(pref.user_id).where(
                pref.kind == kind, or_(pref.stopped == 1, pref.snoozed_week == week)
            )
        )
        return {row["user_id"] for row in rows}

    # --- pulse answers --------------------------------------------------------------------

    async def save_pulse(self, employee_id: str, week: str, answers: dict[str, str]) -> bool:
        """Store the week's pulse and count it for the overview; False (and nothing counted)
        when that week was answered already."""
        problems = problem_mask(answers)
        async with self.db.transaction() as conn:
            inserted = (
                (
                    await conn.execute(
                        self.db.insert(pulse_answers)
                        .values(
                            employee_id=employee_id,
                            week=week,
                            answers=json.dumps(answers),
                            created_at=utc_now(),
                            unit=unit_now(employee_id),
                            problems=problems,
                        )
                        .on_conflict_do_nothing()
                        .returning(pulse.unit)
                    )
                )
                .mappings()
                .first()
            )
            if inserted is None:
                return False
            await pulse_counts.count(conn, self.db.engine_name, week, inserted["unit"], problems)
            return True

    async def pulses(self, employee_id: str, weeks: list[str]) -> dict[str, dict[str, str]]:
        if not weeks:
            return {}
        rows = await self.db.fetchall(
            select(pulse.week, pulse.answers).where(
                pulse.employee_id == employee_id, pulse.week.in_(weeks)
            )
        )
        return {row["week"]: json.loads(row["answers"]) for row in rows}
