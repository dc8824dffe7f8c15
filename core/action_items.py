"""Follow-up actions as items: who does what by when, and whether it is done.

When an agreement version is confirmed, every action it records (the rules' follow-ups and
those the employee's self-check added) becomes an item with an owner (the manager, the
employee or the work-environment group), a deadline and a status. The deadline is the one the
manager concluded on the review card, by default ``due_days`` (content/policy.toml) after the
day the agreement was concluded. An item is keyed by dialogue, agreement version and the
action's key, so each confirmed version has its own set.

The work-environment group is not a user of the bot: its items are on the manager's list,
who passes them on and marks them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from core import policy as policies
from core.answers import AgreementRecord, DialogueAnswers
from core.policy import Action, Policy
from core.rules import RuleHit

OPEN = "open"
DONE = "done"
NOT_NEEDED = "not_needed"
STATUSES = (OPEN, DONE, NOT_NEEDED)
#: What an owner can set an open item to.
CLOSING = (DONE, NOT_NEEDED)
#: The longest a manager can move a deadline ahead, in days from today.
MAX_DUE_DAYS = policies.MAX_DUE_DAYS

MANAGER, EMPLOYEE, GROUP = "manager", "employee", "work_environment_group"
OWNERS = (MANAGER, EMPLOYEE, GROUP)


@dataclass(frozen=True)
class ActionItem:
    dialogue_id: str
    version: int
    key: str  # the action's key in the policy file
    rule: str
    owner_role: str  # manager, employee, work_environment_group
    manager_id: str
    employee_id: str | None
    employee_name: str | None
    manager_name: str | None
    due: date
    status: str = OPEN
    status_by: str | None = None
    status_at: str | None = None

    @property
    def owner_id(self) -> str | None:
        """Who marks it: the employee for their own items, else the manager."""
        return self.employee_id if self.owner_role == EMPLOYEE else self.manager_id

    def may_change(self, user_id: str) -> bool:
        return self.owner_id is not None and self.owner_id == user_id

    def overdue(self, today: date) -> bool:
        return self.status == OPEN and self.due < today

    def closed(self, status: str, by: str, at: str) -> ActionItem:
        return replace(self, status=status, status_by=by, status_at=at)


def _becomes_item(action: Action, answers: DialogueAnswers, policy: Policy) -> bool:
    if action.kind != "action" or action.due_days is None:
        return False
    return action.item_unless is None or not policies.holds(policy, action.item_unless, answers)


def item_actions(
    hits: list[RuleHit], answers: DialogueAnswers, policy: Policy | None = None
) -> list[Action]:
    """The actions among ``hits`` that become items, in rule order."""
    policy = policy or policies.active()
    found = []
    for hit in hits:
        try:
            action = policy.action(hit.key)
        except KeyError:  # a record concluded under an older policy file
            continue
        if _becomes_item(action, answers, policy):
            found.append(action)
    return found


def default_due(action: Action, concluded: date) -> date:
    assert action.due_days is not None
    return concluded + timedelta(days=action.due_days)


def items_for(record: AgreementRecord, policy: Policy | None = None) -> list[ActionItem]:
    """The items of a confirmed agreement version."""
    policy = policy or policies.active()
    concluded = date.fromisoformat(record.concluded_at[:10]) if record.concluded_at else None
    hits = [RuleHit(a.rule, a.kind, a.key) for a in record.actions]
    chosen = {a.key: a.due for a in record.actions}
    items = []
    for action in item_actions(hits, record.answers, policy):
        due = chosen.get(action.key) or default_due(action, concluded or date.today())
        items.append(
            ActionItem(
                dialogue_id=record.dialogue_id,
                version=record.version,
                key=action.key,
                rule=action.rule,
                owner_role=action.owner,
                manager_id=record.manager.id or "",
                employee_id=record.employee.id,
                employee_name=record.employee.name,
                manager_name=record.manager.name,
                due=due,
            )
        )
    return items


def due_input(key: str) -> str:
    """The id of an action's deadline input on the review card."""
    return f"due_{key}"


def chosen_due(
    actions: list[Action], inputs: dict[str, object], today: date
) -> dict[str, date] | None:
    """Each action's deadline from the review card's inputs (a missing one: its default from
    today); None when a given one is not a date from today up to MAX_DUE_DAYS ahead."""
    chosen = {}
    latest = today + timedelta(days=MAX_DUE_DAYS)
    for action in actions:
        given = inputs.get(due_input(action.key))
        if given is None or given == "":
            chosen[action.key] = default_due(action, today)
            continue
        try:
            day = date.fromisoformat(given) if isinstance(given, str) else None
        except ValueError:
            day = None
        if day is None or not today <= day <= latest:
            return None
        chosen[action.key] = day
    return chosen
