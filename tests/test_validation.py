"""Server-side validation of submitted cards: nothing wrong is accepted."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.fields import STEPS_BY_ID
from core.validation import validate_step
from tests.answers import STEP_ANSWERS, typed_answers

TODAY = date.today()


def errors_of(step: str, **changes) -> dict[str, str]:
    submitted = {**STEP_ANSWERS[step], **changes}
    _, errors = validate_step(STEPS_BY_ID[step], submitted, TODAY)
    return {e.field: e.error for e in errors}


@pytest.mark.parametrize("step", list(STEP_ANSWERS))
def test_the_complete_answers_are_valid(step):
    assert errors_of(step) == {}


def test_values_are_parsed_to_their_types():
    values, _ = validate_step(STEPS_BY_ID["technology"], STEP_ANSWERS["technology"], TODAY)
    assert values["laptop_hours"] == 3.0
    assert values["eq_pc_carried"] is True and values["eq_screen_carried"] is False
    values, _ = validate_step(STEPS_BY_ID["tasks"], STEP_ANSWERS["tasks"], TODAY)
    assert values["fixed_days"] == ["mon", "thu"]
    assert (
        "environment_note"
        not in validate_step(STEPS_BY_ID["environment"], STEP_ANSWERS["environment"], TODAY)[0]
    )


@pytest.mark.parametrize(
    ("step", "change", "error"),
    [
        ("tasks", {"days_per_week": "6"}, "not_a_choice"),
        ("tasks", {"days_per_week": None}, "required"),
        ("tasks", {"days_per_week": 2}, "wrong_type"),
        ("tasks", {"fixed_days": "mon,sun"}, "not_a_choice"),
        ("tasks", {"available_from": "25:00"}, "wrong_time"),
        ("tasks", {"tasks_note": "x" * 1001}, "too_long"),
        ("tasks", {"tasks_home": {"nested": "object"}}, "wrong_type"),
        ("technology", {"laptop_hours": "17"}, "out_of_range"),
        ("technology", {"laptop_hours": "-1"}, "out_of_range"),
        ("technology", {"laptop_hours": "mange"}, "wrong_type"),
        ("technology", {"laptop_hours": "nan"}, "wrong_type"),
        ("technology", {"eq_pc_carried": "maybe"}, "wrong_type"),
        ("technology", {"eq_chair_by": "neighbour"}, "not_a_choice"),
        ("outcome", {"follow_up_date": "2026-02-30"}, "wrong_date"),
        ("employee", {"employee": "   "}, "required"),
    ],
)
def test_bad_values_are_refused(step, change, error):
    field = next(iter(change))
    assert errors_of(step, **change) == {field: error}


def test_danish_decimal_comma_is_read():
    values, errors = validate_step(
        STEPS_BY_ID["technology"], {**STEP_ANSWERS["technology"], "laptop_hours": "2,5"}, TODAY
    )
    assert not errors and values["laptop_hours"] == 2.5


@pytest.mark.parametrize(
    ("step", "change", "field", "error"),
    [
        ("tasks", {"special_care_measures": ""}, "special_care_measures", "measures_needed"),
        ("tasks", {"available_to": "07:00"}, "available_to", "time_order"),
        ("tasks", {"fixed_days": ""}, "fixed_days", "days_needed"),
        ("outcome", {"conditions": ""}, "conditions", "conditions_needed"),
        (
            "outcome",
            {"follow_up_date": (TODAY - timedelta(days=1)).isoformat()},
            "follow_up_date",
            "date_window",
        ),
        (
            "outcome",
            {"follow_up_date": (TODAY + timedelta(days=4 * 366)).isoformat()},
            "follow_up_date",
            "date_window",
        ),
    ],
)
def test_checks_across_fields(step, change, field, error):
    assert errors_of(step, **change) == {field: error}


def test_flexible_days_need_no_fixed_days():
    assert errors_of("tasks", day_pattern="flexible", fixed_days="") == {}


def test_unknown_keys_are_ignored_not_stored():
    values, errors = validate_step(
        STEPS_BY_ID["environment"], {**STEP_ANSWERS["environment"], "evil": "x"}, TODAY
    )
    assert not errors and "evil" not in values


def test_fixed_days_must_match_the_days_a_week():
    assert errors_of("tasks", days_per_week="1") == {"fixed_days": "days_needed"}
    assert errors_of("tasks", fixed_days="mon,tue,wed") == {"fixed_days": "days_needed"}


def test_answers_that_no_longer_apply_are_dropped():
    values, _ = validate_step(
        STEPS_BY_ID["tasks"], {**STEP_ANSWERS["tasks"], "day_pattern": "flexible"}, TODAY
    )
    assert "fixed_days" not in values
    values, _ = validate_step(
        STEPS_BY_ID["outcome"], {**STEP_ANSWERS["outcome"], "decision": "approved"}, TODAY
    )
    assert "conditions" not in values


def test_approval_needs_days_from_home():
    outcome = {**STEP_ANSWERS["outcome"], "decision": "approved"}
    no_days = typed_answers(
        {
            "tasks": {"days_per_week": "0", "day_pattern": "flexible"},
            "outcome": {"decision": "not_approved"},
        }
    )
    _, errors = validate_step(STEPS_BY_ID["outcome"], outcome, TODAY, no_days)
    assert [(e.field, e.error) for e in errors] == [("decision", "no_days")]
    office = {**outcome, "decision": "not_approved", "reason": "Opgaverne kræver fremmøde"}
    assert validate_step(STEPS_BY_ID["outcome"], office, TODAY, no_days)[1] == []


@pytest.mark.parametrize("text", ["a\x00b", "bell\x07", "esc\x1b[31m"])
def test_control_characters_are_refused(text):
    assert errors_of("tasks", tasks_home=text) == {"tasks_home": "wrong_type"}


def test_tabs_and_newlines_are_fine():
    assert errors_of("tasks", tasks_home="linje 1\n\tlinje 2") == {}


def test_entra_ids():
    from core.validation import is_entra_id

    assert is_entra_id("22222222-2222-2222-2222-222222222222")
    assert not is_entra_id("Mette Sørensen") and not is_entra_id("not-a-guid <script>")


def outcome_errors(answers, **values) -> set[tuple[str, str]]:
    submitted = {**STEP_ANSWERS["outcome"], **values}
    _, errors = validate_step(STEPS_BY_ID["outcome"], submitted, TODAY, answers)
    return {(e.field, e.error) for e in errors}


def test_not_approved_needs_a_reason_and_may_leave_out_the_new_date():
    answers = typed_answers()
    assert outcome_errors(answers, decision="not_approved") == {("reason", "reason_needed")}
    assert (
        outcome_errors(answers, decision="not_approved", reason="Fremmøde", follow_up_date="")
        == set()
    )
    assert outcome_errors(answers, decision="approved", follow_up_date="") == {
        ("follow_up_date", "required")
    }


def test_systematic_home_working_waits_for_the_med_committee():
    systematic = typed_answers({"tasks": {"systematic": "yes"}})
    assert outcome_errors(systematic, decision="approved", med_discussed="") == {
        ("med_discussed", "required")
    }
    assert outcome_errors(systematic, decision="approved", med_discussed="no") == {
        ("decision", "med_first")
    }
    assert outcome_errors(systematic, med_discussed="no") == set()  # approved with conditions
    assert outcome_errors(systematic, decision="approved", med_discussed="yes") == set()
    # An individual agreement is not asked: an answer sent anyway is not kept.
    values, errors = validate_step(
        STEPS_BY_ID["outcome"],
        {**STEP_ANSWERS["outcome"], "med_discussed": "no"},
        TODAY,
        typed_answers(),
    )
    assert errors == [] and "med_discussed" not in values


def test_occasional_home_working_has_no_days_a_week():
    values, errors = validate_step(
        STEPS_BY_ID["tasks"],
        {
            **STEP_ANSWERS["tasks"],
            "frequency": "occasional",
            "days_per_week": "",
            "day_pattern": "",
        },
        TODAY,
    )
    assert errors == [] and "days_per_week" not in values and "fixed_days" not in values
    weekly = {**STEP_ANSWERS["tasks"], "days_per_week": "", "day_pattern": ""}
    _, errors = validate_step(STEPS_BY_ID["tasks"], weekly, TODAY)
    assert {(e.field, e.error) for e in errors} == {
        ("days_per_week", "required"),
        ("day_pattern", "required"),
    }
    occasional = typed_answers({"tasks": {"frequency": "occasional"}})
    assert outcome_errors(occasional, decision="approved") == set()  # no "no days" error
