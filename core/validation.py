"""Server-side validation of a submitted card.

A card's ``isRequired`` and ``maxLength`` only help an honest client. Everything that
arrives is checked again here: a value outside the offered choices, a wrong type, text over
its limit or a missing field gives an error key (worded in the content files) and nothing of
the step is stored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from core.answers import DialogueAnswers, FormAnswers
from core.fields import Field, Step

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(:[0-5]\d)?$")
#: Control characters other than tab and newline have no place in a typed answer.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_ENTRA_ID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
#: The furthest a follow-up date may lie ahead.
FOLLOW_UP_MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class FieldError:
    field: str
    error: str  # key under ``errors.`` in the content files


class _Invalid(Exception):
    def __init__(self, error: str) -> None:
        self.error = error


def _text(f: Field, raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or _CONTROL.search(raw):
        raise _Invalid("wrong_type")
    value = raw.strip()
    if f.max_len and len(value) > f.max_len:
        raise _Invalid("too_long")
    return value or None


def _choice(f: Field, raw: Any) -> str | None:
    value = _text(f, raw)
    if value is not None and value not in f.choices:
        raise _Invalid("not_a_choice")
    return value


def _multi(f: Field, raw: Any) -> list[str] | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        parts = [p.strip() for p in raw.split(",") if p.strip()]
    elif isinstance(raw, list) and all(isinstance(p, str) for p in raw):
        parts = [p.strip() for p in raw if p.strip()]
    else:
        raise _Invalid("wrong_type")
    if any(p not in f.choices for p in parts):
        raise _Invalid("not_a_choice")
    # Keep the order of the choices, drop repeats.
    return [c for c in f.choices if c in parts] or None


def _number(f: Field, raw: Any) -> float | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise _Invalid("wrong_type")
    if isinstance(raw, (int, float)):
        value = float(raw)
    elif isinstance(raw, str):
        try:
            value = float(raw.strip().replace(",", "."))
        except ValueError:
            raise _Invalid("wrong_type") from None
    else:
        raise _Invalid("wrong_type")
    if not math.isfinite(value):
        raise _Invalid("wrong_type")
    if (f.minimum is not None and value < f.minimum) or (
        f.maximum is not None and value > f.maximum
    ):
        raise _Invalid("out_of_range")
    return value


def _date(f: Field, raw: Any) -> str | None:
    value = _text(f, raw)
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise _Invalid("wrong_date") from None


def _time(f: Field, raw: Any) -> str | None:
    value = _text(f, raw)
    if value is None:
        return None
    if not _TIME.match(value):
        raise _Invalid("wrong_time")
    return value[:5]


def _toggle(f: Field, raw: Any) -> bool | None:
    if raw is None or raw == "":
        return None
    if raw in (True, "true", "True"):
        return True
    if raw in (False, "false", "False"):
        return False
    raise _Invalid("wrong_type")


_PARSERS: dict[str, Callable[[Field, Any], Any]] = {
    "text": _text,
    "person": _text,
    "choice": _choice,
    "multi": _multi,
    "number": _number,
    "date": _date,
    "time": _time,
    "toggle": _toggle,
}


def is_entra_id(value: str) -> bool:
    """An Entra object id (what Teams' people picker gives) looks like a GUID."""
    return bool(_ENTRA_ID.match(value))


def _cross_checks(
    step: Step, values: dict[str, Any], today: date, answers: FormAnswers | None
) -> list[FieldError]:
    """Checks that involve more than one field, or another step's answers. Fields that no
    longer apply (fixed days with flexible days, conditions without that decision) are
    dropped from ``values``."""
    errors: list[FieldError] = []
    if step.id == "tasks":
        if values.get("special_care") and not values.get("special_care_measures"):
            errors.append(FieldError("special_care_measures", "measures_needed"))
        start, end = values.get("available_from"), values.get("available_to")
        if start and end and start >= end:
            errors.append(FieldError("available_to", "time_order"))
        if values.get("frequency") == "occasional":
            # A few days a month or as needed: no days a week, no fixed days.
            for weekly in ("days_per_week", "day_pattern", "fixed_days"):
                values.pop(weekly, None)
        else:
            errors.extend(
                FieldError(f, "required")
                for f in ("days_per_week", "day_pattern")
                if f not in values
            )
            if values.get("day_pattern") == "fixed":
                fixed = values.get("fixed_days") or []
                if "days_per_week" in values and len(fixed) != int(values["days_per_week"]):
                    errors.append(FieldError("fixed_days", "days_needed"))
            else:
                values.pop("fixed_days", None)
    elif step.id == "outcome":
        errors.extend(_outcome_checks(values, today, answers))
    return errors


def _outcome_checks(
    values: dict[str, Any], today: date, answers: FormAnswers | None
) -> list[FieldError]:
    errors: list[FieldError] = []
    decision = values.get("decision")
    approved = decision in ("approved", "approved_with_conditions")
    if decision == "approved_with_conditions" and not values.get("conditions"):
        errors.append(FieldError("conditions", "conditions_needed"))
    if decision != "approved_with_conditions":
        values.pop("conditions", None)
    if decision == "not_approved" and not values.get("reason"):
        errors.append(FieldError("reason", "reason_needed"))
    if decision != "not_approved":
        values.pop("reason", None)
    tasks = answers.tasks if isinstance(answers, DialogueAnswers) else None
    if approved and tasks is not None and not tasks.occasional and not tasks.days_per_week:
        errors.append(FieldError("decision", "no_days"))
    if tasks is not None and tasks.systematic == "yes":
        # Systematic home working waits for the MED committee (R3).
        if "med_discussed" not in values:
            errors.append(FieldError("med_discussed", "required"))
        elif values["med_discussed"] == "no" and decision == "approved":
            errors.append(FieldError("decision", "med_first"))
    else:
        values.pop("med_discussed", None)
    due = values.get("follow_up_date")
    if due:
        d = date.fromisoformat(due)
        if d < today or d > today + timedelta(days=FOLLOW_UP_MAX_DAYS):
            errors.append(FieldError("follow_up_date", "date_window"))
    elif approved:  # when not approved, a date for a new assessment may be left out
        errors.append(FieldError("follow_up_date", "required"))
    until = values.get("valid_until")
    if until and date.fromisoformat(until) < today:
        errors.append(FieldError("valid_until", "date_past"))
    return errors


def validate_step(
    step: Step,
    submitted: Mapping[str, Any],
    today: date,
    answers: FormAnswers | None = None,
) -> tuple[dict[str, Any], list[FieldError]]:
    """Parse the inputs of ``step`` from a submit; unknown keys are ignored. ``answers`` are
    the dialogue's other steps, for the checks across steps.

    Returns the clean values (only when there are no errors is the caller to store them) and
    the errors, one at most per field.
    """
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    for f in step.fields:
        try:
            value = _PARSERS[f.kind](f, submitted.get(f.id))
        except _Invalid as bad:
            errors.append(FieldError(f.id, bad.error))
            continue
        if value is None and f.required:
            errors.append(FieldError(f.id, "required"))
            continue
        if value is not None:
            values[f.id] = value
    if not errors:
        errors = _cross_checks(step, values, today, answers)
    return values, errors
