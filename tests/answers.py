"""A complete set of card answers, as Teams submits them (strings, "a,b" for multi-select,
"true"/"false" for toggles), for a manager dialogue that triggers most rules."""

from __future__ import annotations

from datetime import date, timedelta

from core.answers import DialogueAnswers
from core.fields import FORM_STEPS
from core.validation import validate_step

FOLLOW_UP = (date.today() + timedelta(days=90)).isoformat()

STEP_ANSWERS: dict[str, dict[str, str]] = {
    "employee": {"employee": "Mette Sørensen", "unit": "Borgerservice", "initiated_by": "employee"},
    "tasks": {
        "frequency": "weekly",
        "days_per_week": "2",
        "day_pattern": "fixed",
        "fixed_days": "mon,thu",
        "available_from": "08:00",
        "available_to": "15:30",
        "tasks_home": "Sagsbehandling og notater",
        "tasks_office": "Borgermøder",
        "special_care": "data_security,confidentiality",
        "special_care_measures": "Låst skærm og lukket rum",
        "systematic": "no",
        "tasks_note": "Hemmelig note om opgaver",
    },
    "environment": {
        "manager_contact": "weekly",
        "colleague_impact": "some",
        "colleague_contact": "Morgenmøde på Teams",
        "work_life_fit": "good",
        "environment_note": "",
    },
    "technology": {
        "main_device": "laptop",
        "laptop_hours": "3",
        **{
            f"eq_{i}_by": "employer"
            for i in ("pc", "screen", "keyboard_mouse", "chair", "desk", "headset", "phone")
        },
        "eq_pc_carried": "true",
        "eq_screen_carried": "false",
        "systems_access": "yes",
    },
    "ergonomics": {
        "can_arrange": "yes",
        "vary_positions": "yes",
        "breaks_planned": "partly",
        "office_chair_home": "false",
    },
    "weighing": {
        "weigh_organisation": "supports",
        "weigh_organisation_note": "Kerneopgaven løses fint",
        "weigh_task": "supports",
        "weigh_task_note": "",
        "weigh_individual": "neutral",
        "weigh_individual_note": "",
    },
    "outcome": {
        "decision": "approved_with_conditions",
        "conditions": "Møder op ved teammøder",
        "follow_up_date": FOLLOW_UP,
    },
}


SELF_CHECK_ANSWERS: dict[str, dict[str, str]] = {
    "sc_work": {"sc_days": "2", "sc_tasks": "Skrivearbejde", "sc_work_note": ""},
    "sc_contact": {"sc_feedback": "weekly", "sc_colleagues": "good", "sc_work_life": "good"},
    "sc_equipment": {
        "sc_screen": "yes",
        "sc_keyboard_mouse": "no",
        "sc_chair": "no",
        "sc_table": "yes",
        "sc_lighting": "yes",
        "sc_phone": "yes",
        "sc_laptop_hours": "4",
        "sc_systems": "yes",
        "sc_equipment_note": "Privat note om stuen",
    },
    "sc_ergonomics": {
        "sc_positions": "yes",
        "sc_breaks": "yes",
        "sc_rest": "yes",
        "sc_eye_test": "yes",
    },
}


def typed_answers(changes: dict[str, dict[str, str]] | None = None) -> DialogueAnswers:
    """The complete dialogue above with some card values changed, read as the bot reads a
    submit: each step checked (core/validation.py) and stored as its typed model."""
    changes = {step: dict(values) for step, values in (changes or {}).items()}
    outcome = changes.setdefault("outcome", {})
    if outcome.get("decision") == "not_approved":
        outcome.setdefault("reason", "Opgaverne kræver fremmøde")  # required then
    if changes.get("tasks", {}).get("systematic") == "yes":
        outcome.setdefault("med_discussed", "yes")  # asked then
    answers = DialogueAnswers()
    for step in FORM_STEPS:
        submitted = {**STEP_ANSWERS[step.id], **changes.get(step.id, {})}
        values, errors = validate_step(step, submitted, date.today(), answers)
        assert errors == [], errors
        answers.put(step.id, values)
    return answers
