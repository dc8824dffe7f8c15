"""The rules of the municipality's home-working guidance (R1–R12 in domain.md) as pure functions.

Each rule reads the typed answers (core/answers.py) and, when its trigger holds, yields a hit that names
the follow-up actions (``action``: something someone must do) or the information the parties
must know (``info``). Wording lives in the content files under ``rules.`` and ``actions.``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from core.answers import DialogueAnswers

#: Days a week from home from which the screen-work rules apply (R1).
SCREEN_WORK_DAYS = 2
#: Laptop hours a day above which a separate keyboard and mouse are required (R2).
LAPTOP_HOURS_LIMIT = 2.0


@dataclass(frozen=True)
class RuleHit:
    rule: str  # "R1" … "R12"
    kind: Literal["action", "info"]
    key: str  # key under ``actions.`` in the content files


def _r1_screen_work(a: DialogueAnswers) -> Iterator[RuleHit]:
    if a.days_per_week >= SCREEN_WORK_DAYS:
        yield RuleHit("R1", "action", "screen_work_rules")


def _r2_laptop(a: DialogueAnswers) -> Iterator[RuleHit]:
    if a.technology and a.technology.laptop_hours > LAPTOP_HOURS_LIMIT:
        yield RuleHit("R2", "action", "separate_keyboard_mouse")
    if a.technology and a.technology.main_device == "tablet_phone":
        yield RuleHit("R2", "action", "tablet_phone_check")


def _r3_systematic(a: DialogueAnswers) -> Iterator[RuleHit]:
    if a.tasks and a.tasks.systematic == "yes":
        yield RuleHit("R3", "action", "med_committee")


def _r4_who_pays(a: DialogueAnswers) -> Iterator[RuleHit]:
    if a.employee and a.employee.initiated_by == "employee":
        yield RuleHit("R4", "action", "equipment_employee_wish")
    else:
        yield RuleHit("R4", "action", "equipment_employer_wish")


def _r5_employee_contributes(a: DialogueAnswers) -> Iterator[RuleHit]:
    yield RuleHit("R5", "info", "employee_contributes")


def _r6_apv(a: DialogueAnswers) -> Iterator[RuleHit]:
    yield RuleHit("R6", "action", "apv_covers_home")


def _r7_room_and_eyes(a: DialogueAnswers) -> Iterator[RuleHit]:
    if a.days_per_week >= SCREEN_WORK_DAYS:
        yield RuleHit("R7", "action", "offer_eye_test")
    if a.ergonomics and a.ergonomics.vary_positions == "no":
        yield RuleHit("R7", "action", "room_for_positions")


def _r8_breaks(a: DialogueAnswers) -> Iterator[RuleHit]:
    if a.ergonomics and a.ergonomics.breaks_planned in ("partly", "no"):
        yield RuleHit("R8", "action", "plan_breaks")


def _r9_furniture(a: DialogueAnswers) -> Iterator[RuleHit]:
    tech, ergo = a.technology, a.ergonomics
    missing = tech is not None and "missing" in (tech.eq_chair_by, tech.eq_desk_by)
    if missing or (ergo is not None and ergo.can_arrange in ("partly", "no")):
        yield RuleHit("R9", "action", "suitable_furniture")


def _r10_rest_period(a: DialogueAnswers) -> Iterator[RuleHit]:
    yield RuleHit("R10", "action", "rest_period")


def _r11_coverage(a: DialogueAnswers) -> Iterator[RuleHit]:
    yield RuleHit("R11", "info", "insurance_and_group")


def _r12_responsibility(a: DialogueAnswers) -> Iterator[RuleHit]:
    yield RuleHit("R12", "info", "responsibility_stands")


RULES: tuple[Callable[[DialogueAnswers], Iterator[RuleHit]], ...] = (
    _r1_screen_work,
    _r2_laptop,
    _r3_systematic,
    _r4_who_pays,
    _r5_employee_contributes,
    _r6_apv,
    _r7_room_and_eyes,
    _r8_breaks,
    _r9_furniture,
    _r10_rest_period,
    _r11_coverage,
    _r12_responsibility,
)


#: What the employee's self-check flags add to the follow-up (core/self_check.py): the home
#: the manager may not inspect is described by the employee.
FLAG_ACTIONS: dict[str, RuleHit] = {
    "keyboard_mouse": RuleHit("R2", "action", "separate_keyboard_mouse"),
    "positions": RuleHit("R7", "action", "room_for_positions"),
    "eye_test": RuleHit("R7", "action", "offer_eye_test"),
    "breaks": RuleHit("R8", "action", "plan_breaks"),
    "chair": RuleHit("R9", "action", "suitable_furniture"),
    "table": RuleHit("R9", "action", "suitable_furniture"),
}


def _rule_number(hit: RuleHit) -> int:
    return int(hit.rule[1:])


def evaluate(answers: DialogueAnswers, self_check_flags: Iterable[str] = ()) -> list[RuleHit]:
    """The rules that apply to these answers (and to the employee's self-check flags, by
    key), in rule order, each follow-up once.

    No rule applies when there is no home working: zero days a week, or a decision that the
    work is done at the office.
    """
    if answers.days_per_week == 0:
        return []
    if answers.decision == "not_approved":
        return []
    hits = [hit for rule in RULES for hit in rule(answers)]
    hits += [FLAG_ACTIONS[f] for f in self_check_flags if f in FLAG_ACTIONS]
    unique = list({hit.key: hit for hit in hits}.values())
    return sorted(unique, key=_rule_number)


def triggered_rules(hits: list[RuleHit]) -> list[str]:
    """The distinct rule ids of ``hits`` in order (for the agreement record)."""
    return list(dict.fromkeys(h.rule for h in hits))
