"""What an agreement records (domain.md, "What an agreement records"), built from a dialogue.

The record is the one document that is stored locally, shown on the agreement card and sent
to SharePoint: only what the agreement needs, nothing more.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from core.answers import (
    AgreementRecord,
    Availability,
    DialogueAnswers,
    EquipmentLine,
    Person,
    RecordedAction,
)
from core.dialogue import Dialogue
from core.fields import EQUIPMENT_ITEMS
from core.rules import RuleHit, evaluate, triggered_rules


def equipment(answers: DialogueAnswers) -> list[EquipmentLine]:
    tech = answers.technology
    return [
        EquipmentLine(
            item=item,
            provided_by=tech.provided_by(item) if tech else None,
            carried=tech.carried(item) if tech else False,
        )
        for item in EQUIPMENT_ITEMS
    ]


def build_record(
    dialogue: Dialogue,
    version: int,
    state: str,
    concluded_at: str,
    self_check_flags: Iterable[str] = (),
    due: Mapping[str, date] | None = None,
) -> AgreementRecord:
    """The agreement; the self-check's flags count for the rules, its answers are not kept.
    ``due`` holds the deadlines the manager concluded for the actions that become items."""
    due = due or {}
    a = dialogue.answers
    hits: list[RuleHit] = evaluate(a, self_check_flags)
    return AgreementRecord(
        dialogue_id=dialogue.id,
        version=version,
        state=state,
        employee=Person(id=dialogue.employee_id, name=dialogue.employee_name),
        manager=Person(id=dialogue.manager_id, name=dialogue.manager_name),
        unit=a.employee.unit if a.employee else None,
        initiated_by=a.employee.initiated_by if a.employee else None,
        days_per_week=a.days_per_week,
        frequency=a.tasks.frequency if a.tasks else "weekly",
        day_pattern=a.tasks.day_pattern if a.tasks else None,
        fixed_days=list(a.tasks.fixed_days) if a.tasks else [],
        availability=Availability.model_validate(
            {
                "from": a.tasks.available_from if a.tasks else None,
                "to": a.tasks.available_to if a.tasks else None,
            }
        ),
        equipment=equipment(a),
        answers=a.model_copy(deep=True),
        rules=triggered_rules(hits),
        actions=[
            RecordedAction(rule=h.rule, kind=h.kind, key=h.key, due=due.get(h.key)) for h in hits
        ],
        decision=a.decision,
        conditions=a.outcome.conditions if a.outcome else None,
        reason=a.outcome.reason if a.outcome else None,
        med_discussed=a.outcome.med_discussed if a.outcome else None,
        follow_up_date=a.follow_up_date,
        valid_until=a.valid_until,
        replaces_version=dialogue.in_force_version or None,
        reopen_reason=dialogue.reopen_reason,
        started_at=dialogue.created_at,
        concluded_at=concluded_at,
    )


def recorded_hits(record: AgreementRecord) -> list[RuleHit]:
    """The rules as the agreement recorded them when it was concluded."""
    return [RuleHit(a.rule, a.kind, a.key) for a in record.actions]
