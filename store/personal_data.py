"""A person's data as the GDPR sees it: everything the bot stores about one user, its export,
its erasure, and the retention of self-checks.

SharePoint records are not touched here: they follow the municipality's archive rules (see
docs/deploy.md). Agreements are kept as long as the municipality keeps personnel records; the
employee's self-check answers are kept only ``retention_days`` after the employee's last
agreement ended, and weekly pulse answers ``retention_days`` after they were given.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from store.database import Database

ERASED = "(slettet)"


class PersonalData:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def export(self, user_id: str) -> dict[str, Any]:
        """Everything stored about ``user_id``, as one JSON document."""

        async def rows(sql: str, *params: Any) -> list[dict[str, Any]]:
            return [dict(r) for r in await self.db.fetchall(sql, params)]

        def decoded(items: list[dict[str, Any]], *columns: str) -> list[dict[str, Any]]:
            for item in items:
                for column in columns:
                    item[column] = json.loads(item[column])
            return items

        return {
            "user_id": user_id,
            "dialogues_as_manager": decoded(
                await rows(
                    "SELECT * FROM dialogues WHERE manager_id = ? ORDER BY created_at", user_id
                ),
                "answers",
            ),
            "dialogues_about_me": decoded(
                await rows(
                    "SELECT * FROM dialogues WHERE employee_id = ? ORDER BY created_at", user_id
                ),
                "answers",
            ),
            "agreements": decoded(
                await rows(
                    "SELECT dialogue_id, version, state, employee_comment, created_at, answered_at, record"
                    " FROM agreements WHERE manager_id = ? OR employee_id = ? ORDER BY created_at",
                    user_id,
                    user_id,
                ),
                "record",
            ),
            "self_checks": decoded(
                await rows(
                    "SELECT * FROM self_checks WHERE employee_id = ? ORDER BY created_at", user_id
                ),
                "answers",
            ),
            "conversations": await rows(
                "SELECT conversation_id, tenant_id, service_url, user_name, updated_at"
                " FROM conversation_refs WHERE user_id = ?",
                user_id,
            ),
            "pulse_answers": decoded(
                await rows(
                    "SELECT week, answers, created_at FROM pulse_answers WHERE employee_id = ?"
                    " ORDER BY week",
                    user_id,
                ),
                "answers",
            ),
            "reminder_preferences": await rows(
                "SELECT kind, stopped, snoozed_week, updated_at FROM reminder_preferences"
                " WHERE user_id = ?",
                user_id,
            ),
            "reminders_sent": await rows(
                "SELECT kind, week, state, updated_at FROM reminder_ledger WHERE recipient_id = ?"
                " ORDER BY week, kind",
                user_id,
            ),
        }

    async def erase(self, user_id: str) -> dict[str, int]:
        """Erase one person's local data: their self-checks, chats and the dialogues and
        agreements about them; where they were the manager, their name is removed (the
        employee's agreement stays the employee's). Returns the number of rows per kind."""
        counts: dict[str, int] = {}
        async with self.db.transaction() as conn:

            async def run(kind: str, sql: str, *params: Any) -> None:
                cursor = await conn.execute(sql, params)
                counts[kind] = counts.get(kind, 0) + cursor.rowcount

            await run("self_checks", "DELETE FROM self_checks WHERE employee_id = ?", user_id)
            await run(
                "agreements",
                "DELETE FROM agreements WHERE dialogue_id IN (SELECT id FROM dialogues WHERE employee_id = ?)",
                user_id,
            )
            await run("dialogues", "DELETE FROM dialogues WHERE employee_id = ?", user_id)
            await run(
                "dialogues_as_manager",
                "UPDATE dialogues SET manager_name = ? WHERE manager_id = ?",
                ERASED,
                user_id,
            )
            await run("conversations", "DELETE FROM conversation_refs WHERE user_id = ?", user_id)
            await run("pulse_answers", "DELETE FROM pulse_answers WHERE employee_id = ?", user_id)
            await run(
                "reminder_preferences",
                "DELETE FROM reminder_preferences WHERE user_id = ?",
                user_id,
            )
            await run("reminders", "DELETE FROM reminder_ledger WHERE recipient_id = ?", user_id)
        return counts

    async def purge_self_checks(self, now: datetime, retention_days: int) -> int:
        """Delete self-checks older than the retention period whose employee has no dialogue
        that is still going on (in progress, awaiting the employee or disputed)."""
        cutoff = (now - timedelta(days=retention_days)).isoformat()
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM self_checks WHERE updated_at < ? AND employee_id NOT IN ("
                " SELECT employee_id FROM dialogues WHERE employee_id IS NOT NULL"
                " AND (state IN ('in_progress', 'awaiting_employee', 'disputed') OR updated_at >= ?))",
                (cutoff, cutoff),
            )
            return cursor.rowcount

    async def purge_pulses(self, now: datetime, retention_days: int) -> int:
        """Delete pulse answers older than the retention period. The bot only ever compares
        the last two weeks; older answers are kept no longer than the setting says."""
        cutoff = (now - timedelta(days=retention_days)).isoformat()
        async with self.db.transaction() as conn:
            cursor = await conn.execute("DELETE FROM pulse_answers WHERE created_at < ?", (cutoff,))
            return cursor.rowcount
