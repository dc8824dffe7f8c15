"""The typed answers: one model per step that agrees with the step's inputs, and stored
answers that read back the same (also those stored by earlier versions, as strings)."""

from __future__ import annotations

import typing
from datetime import date

import pytest

from core.answers import DialogueAnswers, SelfCheckAnswers
from core.fields import FORM_STEPS, SELF_CHECK_STEPS, Step
from core.rules import evaluate
from core.validation import validate_step
from tests.answers import SELF_CHECK_ANSWERS, STEP_ANSWERS, typed_answers

FORMS = [(DialogueAnswers, s) for s in FORM_STEPS] + [
    (SelfCheckAnswers, s) for s in SELF_CHECK_STEPS
]


def _literal_values(annotation: object) -> set[str]:
    """The values a Literal (or a list of a Literal) allows."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is list:
        return _literal_values(args[0])
    if typing.get_origin(annotation) is typing.Literal:
        return {str(a) for a in args}
    return set().union(*(_literal_values(a) for a in args)) if args else set()


@pytest.mark.parametrize(("form", "step"), FORMS, ids=lambda v: getattr(v, "id", ""))
def test_each_step_model_has_exactly_the_inputs_of_its_card(form, step: Step):
    model = form.STEPS[step.id]
    assert set(model.model_fields) == {f.id for f in step.fields}
    for f in step.fields:
        if f.kind in ("choice", "multi") and f.id not in ("days_per_week", "sc_days"):
            assert _literal_values(model.model_fields[f.id].annotation) == set(f.choices), f.id
        if f.required:
            assert model.model_fields[f.id].is_required(), f.id


@pytest.mark.parametrize(("form", "step"), FORMS, ids=lambda v: getattr(v, "id", ""))
def test_a_stored_step_shows_and_checks_as_it_was_answered(form, step: Step):
    submitted = {**STEP_ANSWERS, **SELF_CHECK_ANSWERS}[step.id]
    answers = form()
    values, errors = validate_step(step, submitted, date.today())
    assert errors == []
    answers.put(step.id, values)
    stored = form.model_validate_json(answers.model_dump_json())
    again, errors = validate_step(step, stored.values(step.id), date.today())
    assert errors == []
    assert form.STEPS[step.id].model_validate(again) == answers.get(step.id)


def test_numbers_are_numbers_and_dates_are_dates():
    answers = typed_answers()
    assert answers.tasks is not None and answers.tasks.days_per_week == 2
    assert answers.technology is not None and answers.technology.laptop_hours == 3.0
    assert (
        answers.technology.eq_pc_carried is True and answers.technology.eq_screen_carried is False
    )
    assert isinstance(answers.follow_up_date, date)
    assert answers.to_json()["tasks"]["days_per_week"] == 2


def test_answers_stored_as_strings_by_the_first_version_read_as_numbers():
    stored = typed_answers().to_json()
    stored["tasks"]["days_per_week"] = "2"  # how the first version stored a choice
    stored["technology"]["laptop_hours"] = 3
    answers = DialogueAnswers.model_validate(stored)
    assert answers.days_per_week == 2
    keys = {h.key for h in evaluate(answers)}
    assert {"screen_work_rules", "separate_keyboard_mouse"} <= keys
