"""A person's data as the GDPR sees it: everything the bot stores about one user, its export,
its erasure, and the retention of self-checks.

SharePoint records are not touched here: they follow the municipality's archive rules (see
docs/deploy.md). Agreements are kept as long as the municipality keeps personnel records; the
employee's self-check answers are kept only ``retention_days`` after the employee's last
agreement ended, weekly pulse answers ``retention_days`` after they were given, action items
that were closed ``retention_days`` after they were closed (open ones stay with their
agreement), and an employee's request for a conversation ``retention_days`` after the manager
acted on it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Delete, Select, Update, delete, not_, or_, select, true, update

from core.requests import HANDLED
from store import pulse_counts
from store.database import Database
from store.schema import (
    action_items,
    agreements,
    conversation_refs,
    conversation_requests,
    dialogues,
    pulse_answers,
    reminder_ledger,
    reminder_preferences,
    self_checks,
    sharepoint_outbox,
)

ERASED = "(slettet)"
#: Dialogues still going on: their employee's self-check stays.
ONGOING = ("in_progress", "awaiting_employee", "disputed")


class PersonalData:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def export(self, user_id: str) -> dict[str, Any]:
        """Everything stored about ``user_id``, as one JSON document."""

        async def rows(query: Select[Any], *decoded: str) -> list[dict[str, Any]]:
            items = [dict(r) for r in await self.db.fetchall(query)]
            for item in items:
                for column in decoded:
                    item[column] = json.loads(item[column])
            return items

        d, a, s, i, req = (
            dialogues.c,
            agreements.c,
            self_checks.c,
            action_items.c,
            conversation_requests.c,
        )
        refs, pulse = conversation_refs.c, pulse_answers.c
        pref, ledger = reminder_preferences.c, reminder_ledger.c
        return {
            "user_id": user_id,
            "dialogues_as_manager": await rows(
                select(dialogues).where(d.manager_id == user_id).order_by(d.created_at), "answers"
            ),
            "dialogues_about_me": await rows(
                select(dialogues).where(d.employee_id == user_id).order_by(d.created_at), "answers"
            ),
            "agreements": await rows(
                select(
                    a.dialogue_id,
                    a.version,
                    a.state,
                    a.employee_comment,
                    a.created_at,
                    a.answered_at,
                    a.record,
                )
                .where(or_(a.manager_id == user_id, a.employee_id == user_id))
                .order_by(a.created_at),
                "record",
            ),
            "self_checks": await rows(
                select(self_checks).where(s.employee_id == user_id).order_by(s.created_at),
                "answers",
            ),
            "action_items": await rows(
                select(
                    i.dialogue_id,
                    i.version,
                    i.item_key,
                    i.owner_role,
                    i.due_date,
                    i.status,
                    i.status_by,
                    i.status_at,
                    i.created_at,
                )
                .where(or_(i.manager_id == user_id, i.employee_id == user_id))
                .order_by(i.created_at, i.dialogue_id, i.version, i.item_key)
            ),
            "conversation_requests": await rows(
                select(conversation_requests)
                .where(or_(req.employee_id == user_id, req.manager_id == user_id))
                .order_by(req.created_at)
            ),
            "conversations": await rows(
                select(
                    refs.conversation_id,
                    refs.tenant_id,
                    refs.service_url,
                    refs.user_name,
                    refs.updated_at,
                ).where(refs.user_id == user_id)
            ),
            "pulse_answers": await rows(
                select(pulse.week, pulse.answers, pulse.created_at, pulse.unit)
                .where(pulse.employee_id == user_id)
                .order_by(pulse.week),
                "answers",
            ),
            "reminder_preferences": await rows(
                select(pref.kind, pref.stopped, pref.snoozed_week, pref.updated_at).where(
                    pref.user_id == user_id
                )
            ),
            "reminders_sent": await rows(
                select(ledger.kind, ledger.week, ledger.state, ledger.updated_at)
                .where(ledger.recipient_id == user_id)
                .order_by(ledger.week, ledger.kind)
            ),
        }

    async def erase(self, user_id: str) -> dict[str, int]:
        """Erase one person's local data: their self-checks, chats and the dialogues and
        agreements about them; where they were the manager, their name is removed (the
        employee's agreement stays the employee's). Returns the number of rows per kind."""
        d, i = dialogues.c, action_items.c
        about_them = select(d.id).where(d.employee_id == user_id)
        steps: list[tuple[str, Delete | Update]] = [
            ("self_checks", delete(self_checks).where(self_checks.c.employee_id == user_id)),
            # The items go with the agreements about the person (before them: they point to
            # them); where they marked another's item, who did it is removed.
            ("action_items", delete(action_items).where(i.dialogue_id.in_(about_them))),
            (
                "action_items_marked",
                update(action_items).where(i.status_by == user_id).values(status_by=ERASED),
            ),
            (
                "agreements",
                delete(agreements).where(agreements.c.dialogue_id.in_(about_them)),
            ),
            ("dialogues", delete(dialogues).where(d.employee_id == user_id)),
            (
                "dialogues_as_manager",
                update(dialogues).where(d.manager_id == user_id).values(manager_name=ERASED),
            ),
            (
                "conversations",
                delete(conversation_refs).where(conversation_refs.c.user_id == user_id),
            ),
            (
                "requests",
                delete(conversation_requests).where(conversation_requests.c.employee_id == user_id),
            ),
            (
                "requests_as_manager",
                update(conversation_requests)
                .where(conversation_requests.c.manager_id == user_id)
                .values(manager_name=ERASED),
            ),
            (
                "reminder_preferences",
                delete(reminder_preferences).where(reminder_preferences.c.user_id == user_id),
            ),
            ("reminders", delete(reminder_ledger).where(reminder_ledger.c.recipient_id == user_id)),
        ]
        counts: dict[str, int] = {}
        async with self.db.transaction() as conn:
            for kind, statement in steps:
                counts[kind] = (await conn.execute(statement)).rowcount
            counts["pulse_answers"] = await pulse_counts.delete_pulses(
                conn, pulse_answers.c.employee_id == user_id
            )
        return counts

    async def purge_self_checks(self, now: datetime, retention_days: int) -> int:
        """Delete self-checks older than the retention period whose employee has no dialogue
        that is still going on (in progress, awaiting the employee or disputed)."""
        cutoff = (now - timedelta(days=retention_days)).isoformat()
        d, s = dialogues.c, self_checks.c
        still_needed = select(d.employee_id).where(
            d.employee_id.is_not(None), or_(d.state.in_(ONGOING), d.updated_at >= cutoff)
        )
        async with self.db.transaction() as conn:
            result = await conn.execute(
                delete(self_checks).where(
                    s.updated_at < cutoff, not_(s.employee_id.in_(still_needed))
                )
            )
            return result.rowcount

    async def purge_action_items(
        self, now: datetime, retention_days: int, *, sharepoint: bool = False
    ) -> int:
        """Delete action items that were closed (done or not needed) longer ago than the
        retention period: who closed them and when is no longer needed here. With
        ``sharepoint`` on, only those SharePoint has in their last state. Open items stay
        while their agreement stays."""
        cutoff = (now - timedelta(days=retention_days)).isoformat()
        i, o = action_items.c, sharepoint_outbox.c
        unsent = select(o.dialogue_id).where(
            o.dialogue_id == i.dialogue_id,
            o.version == i.version,
            o.actions_revision < o.revision,
        )
        async with self.db.transaction() as conn:
            result = await conn.execute(
                delete(action_items).where(
                    i.status != "open",
                    i.status_at < cutoff,
                    not_(unsent.exists()) if sharepoint else true(),
                )
            )
            return result.rowcount

    async def purge_requests(self, now: datetime, retention_days: int) -> int:
        """Delete the employees' requests that were handled longer ago than the retention
        period; an open request stays until the manager acts on it."""
        cutoff = (now - timedelta(days=retention_days)).isoformat()
        r = conversation_requests.c
        async with self.db.transaction() as conn:
            result = await conn.execute(
                delete(conversation_requests).where(
                    r.state == HANDLED, r.handled_at.is_not(None), r.handled_at < cutoff
                )
            )
            return result.rowcount

    async def purge_pulses(self, now: datetime, retention_days: int) -> int:
        """Delete pulse answers older than the retention period. The bot only ever compares
        the last two weeks; older answers are kept no longer than the setting says."""
        cutoff = (now - timedelta(days=retention_days)).isoformat()
        async with self.db.transaction() as conn:
            return await pulse_counts.delete_pulses(conn, pulse_answers.c.created_at < cutoff)
