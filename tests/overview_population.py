"""Generated employees for the overview's tests and benchmark: each with a unit, a dialogue,
agreement versions, follow-up items, a self-check, weekly pulses and a reminder ledger row,
as rows of the store's own tables (seeded with store.bulk.insert_rows), and the counts a
reader would expect from them, worked out here in plain Python, apart from the store's SQL.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from core.reminders import PULSE_TOPICS, problem_mask

DECISIONS = ("approved", "approved_with_conditions", "not_approved")
ITEM_KEYS = (
    "separate_keyboard_mouse",
    "suitable_furniture",
    "offer_eye_test",
    "plan_breaks",
    "apv_covers_home",
    "med_committee",
)


def moment(day: date, hour: int = 9) -> str:
    return datetime.combine(day, time(hour)).isoformat(timespec="microseconds") + "+00:00"


@dataclass
class Employee:
    id: str
    unit: str | None  # the department as spelled; None: not given
    decision: str
    #: "confirmed", "awaiting_employee" or "disputed": the newest version's state.
    state: str
    frequency: str
    days: int
    systematic: str
    #: The in-force version's items: (key, status, due).
    items: list[tuple[str, str, date]] = field(default_factory=list)
    versions: int = 1
    #: Self-check problems: "chair" (T3), "breaks" (T4), "colleagues" (T2); None: no check.
    self_check: tuple[str, ...] | None = None
    #: week -> {topic: choice}
    pulses: dict[str, dict[str, str]] = field(default_factory=dict)
    unreachable: bool = False
    #: False: the dialogue is still in progress, with no agreement yet.
    agreed: bool = True

    @property
    def unit_key(self) -> str:
        return self.unit.casefold() if self.unit else ""

    @property
    def has_confirmed(self) -> bool:
        """A version is in force: the newest is confirmed, or an older one was."""
        return self.agreed and (self.state == "confirmed" or self.versions > 1)

    @property
    def in_force(self) -> bool:
        """Home working applies: a version in force that approves it."""
        return self.has_confirmed and self.decision != "not_approved"


def generate(
    rng: random.Random,
    unit_sizes: dict[str | None, int],
    *,
    day: date,
    weeks: list[str],
    pulse_rate: float = 0.7,
    agreement_rate: float = 1.0,
) -> list[Employee]:
    people: list[Employee] = []
    n = 0
    for unit, size in unit_sizes.items():
        for _ in range(size):
            n += 1
            frequency = rng.choice(("weekly", "weekly", "weekly", "occasional"))
            state = rng.choice(
                ("confirmed", "confirmed", "confirmed", "awaiting_employee", "disputed")
            )
            e = Employee(
                id=f"emp-{n:05d}",
                unit=unit,
                decision=rng.choice(DECISIONS),
                state=state,
                frequency=frequency,
                days=0 if frequency == "occasional" else rng.randint(1, 5),
                systematic=rng.choice(("yes", "no", "no")),
                versions=rng.choice((1, 1, 1, 2)),
                self_check=(
                    tuple(p for p in ("chair", "breaks", "colleagues") if rng.random() < 0.3)
                    if rng.random() < 0.8
                    else None
                ),
                unreachable=rng.random() < 0.1,
                agreed=rng.random() < agreement_rate,
            )
            for key in rng.sample(ITEM_KEYS, rng.randint(0, 3)):
                status = rng.choice(("open", "open", "done", "not_needed"))
                e.items.append((key, status, day + timedelta(days=rng.randint(-40, 40))))
            for week in weeks:
                if rng.random() < pulse_rate:
                    e.pulses[week] = {
                        t: rng.choice(("good", "good", "mixed", "problem")) for t in PULSE_TOPICS
                    }
            people.append(e)
    return people


def _record(e: Employee, version: int, state: str) -> str:
    return json.dumps(
        {
            "record_version": 1,
            "dialogue_id": f"d-{e.id}",
            "version": version,
            "state": state,
            "employee": {"id": e.id, "name": None},
            "manager": {"id": "mgr", "name": None},
            "days_per_week": e.days,
            "frequency": e.frequency,
            "decision": e.decision,
            "answers": {"tasks": {"systematic": e.systematic}},
        }
    )


def _self_check_answers(problems: tuple[str, ...]) -> str:
    return json.dumps(
        {
            "sc_work": {"sc_days": 1},
            "sc_contact": {"sc_colleagues": "poor" if "colleagues" in problems else "good"},
            "sc_equipment": {
                "sc_laptop_hours": 1,
                "sc_chair": "no" if "chair" in problems else "yes",
                "sc_table": "yes",
            },
            "sc_ergonomics": {"sc_breaks": "no" if "breaks" in problems else "yes"},
        }
    )


def rows(people: list[Employee], day: date) -> dict[str, list[dict[str, Any]]]:
    """The store's rows for ``people``, all made before ``day``."""
    tables: dict[str, list[dict[str, Any]]] = {
        "dialogues": [],
        "agreements": [],
        "action_items": [],
        "self_checks": [],
        "pulse_answers": [],
        "reminder_ledger": [],
    }
    begun = moment(day - timedelta(days=200))
    for e in people:
        did = f"d-{e.id}"
        newest_answered = e.state != "awaiting_employee"
        tables["dialogues"].append(
            {
                "id": did,
                "manager_id": "mgr",
                "manager_name": "Leder",
                "employee_id": e.id,
                "employee_name": None,
                "state": e.state if e.agreed else "in_progress",
                "step": "review",
                "version": 9,
                "editing": 0,
                "answers": "{}",
                "locale": "da-DK",
                "created_at": begun,
                "updated_at": begun,
                "agreement_version": e.versions if e.agreed else 0,
                "in_force_version": (e.versions if e.state == "confirmed" else e.versions - 1)
                if e.agreed
                else 0,
                "reopen_reason": None,
                "unit": e.unit.casefold() if e.unit else None,
                "unit_name": e.unit,
            }
        )
        for version in range(1, e.versions + 1 if e.agreed else 1):
            newest = version == e.versions
            state = e.state if newest else ("superseded" if e.state == "confirmed" else "confirmed")
            answered = not newest or newest_answered
            when = moment(day - timedelta(days=100 - 30 * version))
            tables["agreements"].append(
                {
                    "dialogue_id": did,
                    "version": version,
                    "state": state,
                    "manager_id": "mgr",
                    "employee_id": e.id,
                    "employee_name": None,
                    "decision": e.decision,
                    "follow_up_date": "",
                    "record": _record(e, version, state),
                    "created_at": when,
                    "employee_comment": None,
                    "answered_at": moment(day - timedelta(days=99 - 30 * version))
                    if answered
                    else None,
                }
            )
            confirmed = state in ("confirmed", "superseded")
            in_force_version = e.versions if e.state == "confirmed" else e.versions - 1
            if confirmed:
                for key, status, due in e.items:
                    current = version == in_force_version
                    tables["action_items"].append(
                        {
                            "dialogue_id": did,
                            "version": version,
                            "item_key": key,
                            "rule": "R2",
                            "owner_role": "manager",
                            "manager_id": "mgr",
                            "employee_id": e.id,
                            "due_date": due.isoformat(),
                            # An older version's items are all done: only the one in force counts.
                            "status": status if current else "done",
                            "status_by": None if status == "open" and current else "mgr",
                            "status_at": None if status == "open" and current else when,
                            "created_at": when,
                            "revision": 1,
                            "sp_revision": 0,
                        }
                    )
        if e.self_check is not None:
            tables["self_checks"].append(
                {
                    "id": f"sc-{e.id}",
                    "employee_id": e.id,
                    "employee_name": "Medarbejder",
                    "state": "done",
                    "step": "sc_ergonomics",
                    "version": 5,
                    "answers": _self_check_answers(e.self_check),
                    "locale": "da-DK",
                    "created_at": begun,
                    "updated_at": begun,
                }
            )
        for week, answers in e.pulses.items():
            tables["pulse_answers"].append(
                {
                    "employee_id": e.id,
                    "week": week,
                    "answers": json.dumps(answers),
                    "created_at": begun,
                    "unit": e.unit_key or None,
                    "problems": problem_mask(answers),
                }
            )
        for week in list(e.pulses)[-1:] or ["2000-W01"]:
            tables["reminder_ledger"].append(
                {
                    "recipient_id": e.id,
                    "kind": "pulse",
                    "week": week,
                    "state": "unreachable" if e.unreachable else "sent",
                    "attempts": 1,
                    "not_before": begun,
                    "updated_at": begun,
                }
            )
    return tables


def expected(people: list[Employee], day: date) -> dict[tuple[str | None, str, str, str], float]:
    """What the overview should show for every cell before suppression, by (unit key or
    None for the municipality, figure, series, category), computed from the people."""
    out: dict[tuple[str | None, str, str, str], float] = {}

    def add(unit: str, figure: str, series: str, category: str, n: float = 1) -> None:
        for u in (unit, None):
            key = (u, figure, series, category)
            out[key] = out.get(key, 0) + n

    for e in people:
        u = e.unit_key
        if not e.agreed:
            continue
        add(u, "agreements_by_decision", "agreements_by_decision", e.decision)
        add(
            u,
            "agreements_by_state",
            "agreements_by_state",
            "confirmed" if e.state == "confirmed" else e.state,
        )
        if e.in_force:
            category = "occasional" if e.frequency == "occasional" else str(e.days)
            add(u, "home_days", "home_days", category)
        if e.has_confirmed:
            for key, status, due in e.items:
                state = status if status != "open" else ("overdue" if due < day else "open")
                add(u, "action_items", state, key)
    return out
