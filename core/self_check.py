"""The employee's self-check: its states and the flags its answers raise.

A flag is a point the employee and the manager should act on (a laptop used more than two
hours a day without a separate keyboard, no suitable chair, …). Each names the rule of the
guidance it comes from and the self-check step (topic) it belongs to; the employee reads
``flags.<key>.advice``, the manager ``flags.<key>.manager``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.answers import SelfCheckAnswers
from core.fields import SELF_CHECK_STEPS
from core.form import IN_PROGRESS, StepForm, StepSequence
from core.rules import LAPTOP_HOURS_LIMIT, SCREEN_WORK_DAYS

DONE = "done"
SEQUENCE = StepSequence(SELF_CHECK_STEPS)

__all__ = ["DONE", "IN_PROGRESS", "Flag", "SelfCheck", "flags"]


@dataclass(frozen=True)
class Flag:
    key: str
    rule: str
    step: str  # the self-check step it belongs to


@dataclass(kw_only=True)
class SelfCheck(StepForm):
    SEQUENCE = SEQUENCE

    employee_id: str
    employee_name: str
    answers: SelfCheckAnswers = field(default_factory=SelfCheckAnswers)


def flags(answers: SelfCheckAnswers) -> list[Flag]:
    """The flags the self-check answers raise, in topic order (a step not answered raises
    none)."""
    work, contact = answers.sc_work, answers.sc_contact
    eq, ergo = answers.sc_equipment, answers.sc_ergonomics
    days = work.sc_days if work else 0
    found: list[Flag] = []

    def add(condition: bool, key: str, rule: str, step: str) -> None:
        if condition:
            found.append(Flag(key, rule, step))

    if contact:
        add(contact.sc_work_life == "poor", "work_life", "R8", "sc_contact")
        add(contact.sc_colleagues == "poor", "colleagues", "R8", "sc_contact")
    if eq:
        add(
            eq.sc_laptop_hours > LAPTOP_HOURS_LIMIT and eq.sc_keyboard_mouse == "no",
            "keyboard_mouse",
            "R2",
            "sc_equipment",
        )
        add(days >= SCREEN_WORK_DAYS and eq.sc_screen == "no", "screen", "R1", "sc_equipment")
        add(eq.sc_chair == "no", "chair", "R9", "sc_equipment")
        add(eq.sc_table == "no", "table", "R9", "sc_equipment")
        add(eq.sc_lighting == "no", "lighting", "R1", "sc_equipment")
        add(eq.sc_systems in ("partly", "no"), "systems", "R6", "sc_equipment")
    if ergo:
        add(ergo.sc_positions == "no", "positions", "R7", "sc_ergonomics")
        add(ergo.sc_breaks in ("partly", "no"), "breaks", "R8", "sc_ergonomics")
        add(ergo.sc_rest == "no", "rest", "R10", "sc_ergonomics")
        add(ergo.sc_eye_test == "yes", "eye_test", "R7", "sc_ergonomics")
    return found
