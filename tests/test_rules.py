"""Each rule of the guidance on both sides of its boundary (pure functions, no bot). The
boundaries are read from the policy file, as the bot reads them."""

from __future__ import annotations

import pytest

from core import policy as policies
from core.rules import evaluate, triggered_rules
from tests.answers import typed_answers

POLICY = policies.load()
DAYS = int(POLICY.thresholds["screen_work_days"])
HOURS = POLICY.thresholds["laptop_hours"]

#: The card values that make the base case: one day a week at the employer's wish, a laptop
#: for an hour, the furniture in place, approved.
BASE_CHANGES = {
    "employee": {"initiated_by": "employer"},
    "tasks": {"days_per_week": "1", "day_pattern": "flexible", "systematic": "no"},
    "technology": {
        "main_device": "laptop",
        "laptop_hours": "1",
        "eq_chair_by": "employer",
        "eq_desk_by": "employer",
    },
    "ergonomics": {"can_arrange": "yes", "vary_positions": "yes", "breaks_planned": "yes"},
    "outcome": {"decision": "approved"},
}
BASE = typed_answers(BASE_CHANGES)


def with_(**changes: dict):
    merged = {step: dict(values) for step, values in BASE_CHANGES.items()}
    for step, values in changes.items():
        merged.setdefault(step, {}).update(values)
    if merged["tasks"].get("days_per_week") == "0":
        merged["outcome"]["decision"] = "not_approved"
    return typed_answers(merged)


def keys(answers) -> set[str]:
    return {h.key for h in evaluate(answers)}


def test_base_case_has_only_the_rules_every_home_worker_meets():
    assert triggered_rules(evaluate(BASE)) == ["R4", "R5", "R6", "R10", "R11", "R12"]


@pytest.mark.parametrize(("days", "fires"), [(DAYS - 1, False), (DAYS, True), (5, True)])
def test_r1_screen_work_rules_from_the_threshold(days, fires):
    days = str(days)
    assert ("screen_work_rules" in keys(with_(tasks={"days_per_week": days}))) is fires


@pytest.mark.parametrize(("days", "fires"), [(DAYS - 1, False), (DAYS, True)])
def test_r7_eye_test_offered_with_screen_work(days, fires):
    days = str(days)
    assert ("offer_eye_test" in keys(with_(tasks={"days_per_week": days}))) is fires


@pytest.mark.parametrize(("hours", "fires"), [(HOURS, False), (HOURS + 0.5, True), (8, True)])
def test_r2_laptop_over_the_threshold_needs_keyboard_and_mouse(hours, fires):
    hours = f"{hours:g}".replace(".", ",")
    answers = with_(technology={"laptop_hours": hours})
    assert ("separate_keyboard_mouse" in keys(answers)) is fires


def test_r2_tablet_or_phone_is_discussed():
    assert "tablet_phone_check" in keys(with_(technology={"main_device": "tablet_phone"}))
    assert "tablet_phone_check" not in keys(BASE)


@pytest.mark.parametrize(("systematic", "fires"), [("no", False), ("yes", True)])
def test_r3_systematic_home_working_goes_to_med(systematic, fires):
    assert ("med_committee" in keys(with_(tasks={"systematic": systematic}))) is fires


def test_r4_who_pays_depends_on_whose_wish():
    employee_wish = keys(with_(employee={"initiated_by": "employee"}))
    employer_wish = keys(with_(employee={"initiated_by": "employer"}))
    assert "equipment_employee_wish" in employee_wish
    assert "equipment_employer_wish" not in employee_wish
    assert "equipment_employer_wish" in employer_wish
    assert "equipment_employee_wish" not in employer_wish


@pytest.mark.parametrize(("days", "fires"), [("0", False), ("1", True)])
def test_r5_r6_r10_r11_r12_apply_to_any_home_working(days, fires):
    found = keys(with_(tasks={"days_per_week": days}))
    for key in (
        "employee_contributes",
        "apv_covers_home",
        "rest_period",
        "insurance_and_group",
        "responsibility_stands",
    ):
        assert (key in found) is fires, key


@pytest.mark.parametrize(("vary", "fires"), [("yes", False), ("no", True)])
def test_r7_room_to_vary_positions(vary, fires):
    assert ("room_for_positions" in keys(with_(ergonomics={"vary_positions": vary}))) is fires


@pytest.mark.parametrize(("breaks", "fires"), [("yes", False), ("partly", True), ("no", True)])
def test_r8_breaks_and_variation(breaks, fires):
    assert ("plan_breaks" in keys(with_(ergonomics={"breaks_planned": breaks}))) is fires


@pytest.mark.parametrize(
    ("changes", "fires"),
    [
        ({}, False),
        ({"technology": {"eq_chair_by": "missing"}}, True),
        ({"technology": {"eq_desk_by": "missing"}}, True),
        ({"ergonomics": {"can_arrange": "partly"}}, True),
    ],
)
def test_r9_suitable_furniture(changes, fires):
    assert ("suitable_furniture" in keys(with_(**changes))) is fires


def test_not_approved_means_no_home_working_rules():
    answers = with_(tasks={"days_per_week": "3"}, outcome={"decision": "not_approved"})
    assert evaluate(answers) == []


def test_actions_and_infos_are_told_apart():
    kinds = {h.key: h.kind for h in evaluate(with_(tasks={"days_per_week": "2"}))}
    assert kinds["apv_covers_home"] == "action"
    assert kinds["insurance_and_group"] == "info"


def test_self_check_flags_add_their_follow_up_once_in_rule_order():
    hits = evaluate(BASE, ["chair", "table", "eye_test", "work_life"])
    keys = [h.key for h in hits]
    assert keys.count("suitable_furniture") == 1 and "offer_eye_test" in keys
    assert [h.rule for h in hits] == sorted((h.rule for h in hits), key=lambda r: int(r[1:]))
    assert evaluate(with_(outcome={"decision": "not_approved"}), ["chair"]) == []


def test_occasional_home_working_keeps_the_rules_for_any_home_working_but_not_screen_work():
    occasional = keys(with_(tasks={"frequency": "occasional"}, technology={"laptop_hours": "3"}))
    assert "screen_work_rules" not in occasional and "offer_eye_test" not in occasional
    assert {"apv_covers_home", "rest_period", "separate_keyboard_mouse"} <= occasional
