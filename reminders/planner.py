"""Who gets which reminder in a week, and what a digest or nudge says, from the store.

The week's audience is planned once (the send ledger keeps it); the content of each message
is read when it is sent, so it is as fresh as the send.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass
from datetime import date, timedelta

from core.action_items import ActionItem
from core.dialogue import AWAITING_EMPLOYEE, CONFIRMED, DISPUTED, IN_PROGRESS, Dialogue
from core.reminders import (
    DIGEST,
    NUDGE,
    NUDGE_AFTER_WORKING_DAYS,
    PULSE,
    Digest,
    follow_up_due,
    previous_week,
    repeated_problems,
    week_of,
    working_days_since,
)
from store.action_items import ActionItemStore
from store.dialogues import DialogueStore
from store.reminders import ReminderStore
from store.requests import RequestStore
from store.self_checks import SelfCheckStore

#: The digest lists employees a reminder could not reach in the last four weeks.
UNREACHABLE_WEEKS = 4


def _day(timestamp: str) -> date:
    return date.fromisoformat(timestamp[:10])


def active_agreement(d: Dialogue) -> bool:
    """Confirmed (also while a follow-up works on its next version), and home working was not
    refused."""
    return (
        (d.state == CONFIRMED or d.is_renewal)
        and d.employee_id is not None
        and d.answers.decision != "not_approved"
    )


@dataclass(frozen=True)
class NudgeItem:
    what: str  # "confirm" | "self_check"
    dialogue: Dialogue


class Planner:
    def __init__(
        self,
        dialogues: DialogueStore,
        self_checks: SelfCheckStore,
        reminders: ReminderStore,
        closed: Callable[[], Container[date]],
        items: ActionItemStore | None = None,
        requests: RequestStore | None = None,
    ) -> None:
        self.dialogues = dialogues
        #: The action items (None: the digest and the pulse do not mention them).
        self.items = items
        self.self_checks = self_checks
        #: The employees' requests for a conversation (listed in the digest).
        self.requests = requests
        self.reminders = reminders
        self.closed = closed

    async def audience(self, week: str, today: date) -> list[tuple[str, str]]:
        """(recipient, kind) for every reminder of the week, minus stopped and snoozed."""
        everything = await self.dialogues.not_cancelled()
        wanted: dict[str, set[str]] = {
            PULSE: {d.employee_id for d in everything if active_agreement(d)},  # type: ignore[misc]
            DIGEST: {d.manager_id for d in everything},
            NUDGE: set(),
        }
        for d in everything:
            if d.employee_id and await self._nudge_for(d, today):
                wanted[NUDGE].add(d.employee_id)
        entries = []
        for kind, users in wanted.items():
            held_back = await self.reminders.held_back(kind, week)
            entries.extend((user, kind) for user in sorted(users - held_back))
        return entries

    async def _nudge_for(self, d: Dialogue, today: date) -> NudgeItem | None:
        closed = self.closed()
        if d.state == AWAITING_EMPLOYEE:
            if working_days_since(_day(d.updated_at), today, closed) >= NUDGE_AFTER_WORKING_DAYS:
                return NudgeItem("confirm", d)
        elif d.state == IN_PROGRESS:
            if working_days_since(_day(d.created_at), today, closed) < NUDGE_AFTER_WORKING_DAYS:
                return None
            done = await self.self_checks.latest_done(d.employee_id)
            if done is None or done.updated_at < d.created_at:
                return NudgeItem("self_check", d)
        return None

    async def nudges(self, employee_id: str, today: date) -> list[NudgeItem]:
        items = []
        for d in await self.dialogues.for_employee(employee_id):
            item = await self._nudge_for(d, today)
            if item:
                items.append(item)
        return items

    async def employee_items(self, employee_id: str) -> list[ActionItem]:
        """The employee's own open action items, for their weekly card."""
        return [] if self.items is None else await self.items.open_for_employee(employee_id)

    async def has_active_agreement(self, employee_id: str) -> bool:
        return any(active_agreement(d) for d in await self.dialogues.for_employee(employee_id))

    async def digest(self, manager_id: str, today: date) -> Digest:
        mine = [d for d in await self.dialogues.for_manager(manager_id) if d.state != "cancelled"]
        digest = Digest(
            awaiting_employee=[d for d in mine if d.state == AWAITING_EMPLOYEE],
            unfinished=[d for d in mine if d.state == IN_PROGRESS],
            follow_ups=[
                d
                for d in mine
                if d.state == CONFIRMED and follow_up_due(d.answers.follow_up_date, today)
            ],
            expired=[d for d in mine if d.expired(today)],
            due_now=[d for d in mine if d.follow_up_open(today)],
            disputed=[d for d in mine if d.state == DISPUTED],
        )
        if self.requests is not None:
            digest.requests = await self.requests.open_for_manager(manager_id)
        employees = {d.employee_id: d for d in mine if d.employee_id}
        since = week_of(today - timedelta(weeks=UNREACHABLE_WEEKS))
        unreachable = await self.reminders.unreachable_since(sorted(employees), since)
        digest.unreachable = [employees[e] for e in sorted(unreachable)]
        if self.items is not None:
            digest.overdue_items = await self.items.overdue_for_manager(manager_id, today)
        last = previous_week(week_of(today))
        before = previous_week(last)
        for d in mine:
            if not active_agreement(d):
                continue
            answers = await self.reminders.pulses(d.employee_id, [last, before])  # type: ignore[arg-type]
            topics = repeated_problems(answers.get(last, {}), answers.get(before))
            if topics:
                digest.pulse_problems.append((d, topics))
        return digest
