"""The employee's self-check: its states and the flags its answers raise.

A flag is a point the employee and the manager should act on (a laptop used more than two
hours a day without a separate keyboard, no suitable chair, …). Each names the rule of the
guidance it comes from and the self-check step (topic) it belongs to; the employee reads
``flags.<key>.advice``, the manager ``flags.<key>.manager``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.fields import SELF_CHECK_STEP_IDS, step_after, step_before
from core.rules import LAPTOP_HOURS_LIMIT, SCREEN_WORK_DAYS

IN_PROGRESS = "in_progress"
DONE = "done"


@dataclass(frozen=True)
class Flag:
    key: str
    rule: str
    step: str  # the self-check step it belongs to


@dataclass
class SelfCheck:
    id: str
    employee_id: str
    employee_name: str
    locale: str
    state: str = IN_PROGRESS
    step: str = SELF_CHECK_STEP_IDS[0]
    version: int = 1
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    created_at: str = ""
    updated_at: str = ""

    @property
    def is_open(self) -> bool:
        return self.state == IN_PROGRESS

    def step_number(self) -> int:
        return SELF_CHECK_STEP_IDS.index(self.step) + 1

    def next_step(self) -> str | None:
        return step_after(SELF_CHECK_STEP_IDS, self.step)

    def previous_step(self) -> str | None:
        return step_before(SELF_CHECK_STEP_IDS, self.step)


def flags(answers: Mapping[str, Mapping[str, Any]]) -> list[Flag]:
    """The flags the self-check answers raise, in topic order."""
    work = answers.get("sc_work", {})
    contact = answers.get("sc_contact", {})
    eq = answers.get("sc_equipment", {})
    ergo = answers.get("sc_ergonomics", {})
    days = int(work.get("sc_days", "0") or 0)
    found: list[Flag] = []

    def add(condition: bool, key: str, rule: str, step: str) -> None:
        if condition:
            found.append(Flag(key, rule, step))

    add(contact.get("sc_work_life") == "poor", "work_life", "R8", "sc_contact")
    add(contact.get("sc_colleagues") == "poor", "colleagues", "R8", "sc_contact")
    laptop = float(eq.get("sc_laptop_hours", 0) or 0)
    add(
        laptop > LAPTOP_HOURS_LIMIT and eq.get("sc_keyboard_mouse") == "no",
        "keyboard_mouse",
        "R2",
        "sc_equipment",
    )
    add(days >= SCREEN_WORK_DAYS and eq.get("sc_screen") == "no", "screen", "R1", "sc_equipment")
    add(eq.get("sc_chair") == "no", "chair", "R9", "sc_equipment")
    add(eq.get("sc_table") == "no", "table", "R9", "sc_equipment")
    add(eq.get("sc_lighting") == "no", "lighting", "R1", "sc_equipment")
    add(eq.get("sc_systems") in ("partly", "no"), "systems", "R6", "sc_equipment")
    add(ergo.get("sc_positions") == "no", "positions", "R7", "sc_ergonomics")
    add(ergo.get("sc_breaks") in ("partly", "no"), "breaks", "R8", "sc_ergonomics")
    add(ergo.get("sc_rest") == "no", "rest", "R10", "sc_ergonomics")
    add(ergo.get("sc_eye_test") == "yes", "eye_test", "R7", "sc_ergonomics")
    return found
