"""What an agreement records (domain.md, "What an agreement records"), built from a dialogue.

The record is the one document that is stored locally, shown on the summary card and, later,
sent to SharePoint: only what the agreement needs, nothing more.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.dialogue import Dialogue
from core.fields import EQUIPMENT_ITEMS
from core.rules import RuleHit, evaluate, triggered_rules

RECORD_VERSION = 1


def equipment(answers: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    tech = answers.get("technology", {})
    return [
        {
            "item": item,
            "provided_by": tech.get(f"eq_{item}_by"),
            "carried": bool(tech.get(f"eq_{item}_carried", False)),
        }
        for item in EQUIPMENT_ITEMS
    ]


def build_record(
    dialogue: Dialogue,
    version: int,
    state: str,
    concluded_at: str,
    self_check_flags: Iterable[str] = (),
) -> dict[str, Any]:
    """The agreement; the self-check's flags count for the rules, its answers are not kept."""
    a = dialogue.answers
    hits: list[RuleHit] = evaluate(a, self_check_flags)
    emp, tasks, outcome = a.get("employee", {}), a.get("tasks", {}), a.get("outcome", {})
    return {
        "record_version": RECORD_VERSION,
        "dialogue_id": dialogue.id,
        "version": version,
        "state": state,
        "employee": {"id": dialogue.employee_id, "name": dialogue.employee_name},
        "manager": {"id": dialogue.manager_id, "name": dialogue.manager_name},
        "unit": emp.get("unit"),
        "initiated_by": emp.get("initiated_by"),
        "days_per_week": int(tasks.get("days_per_week", "0")),
        "day_pattern": tasks.get("day_pattern"),
        "fixed_days": tasks.get("fixed_days", []),
        "availability": {"from": tasks.get("available_from"), "to": tasks.get("available_to")},
        "equipment": equipment(a),
        "answers": a,
        "rules": triggered_rules(hits),
        "actions": [{"rule": h.rule, "kind": h.kind, "key": h.key} for h in hits],
        "decision": outcome.get("decision"),
        "conditions": outcome.get("conditions"),
        "follow_up_date": outcome.get("follow_up_date"),
        "started_at": dialogue.created_at,
        "concluded_at": concluded_at,
    }
