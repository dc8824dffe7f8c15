"""The inputs of every step of the manager's dialogue, as data.

One definition serves three readers: the card templates (which input to show, with which
choices and limits), the server-side validation (a submit is never trusted because the card
said ``isRequired``) and the summary (how an answer is shown). Labels and choice titles live
in the content files under ``fields.<id>``; here are only ids, kinds and limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FieldKind = Literal["text", "choice", "multi", "number", "date", "time", "toggle", "person"]

NOTE_MAX = 1000
SHORT_MAX = 200
LONG_MAX = 500


@dataclass(frozen=True)
class Field:
    id: str
    kind: FieldKind
    required: bool = False
    choices: tuple[str, ...] = ()
    max_len: int = 0
    minimum: float | None = None
    maximum: float | None = None
    multiline: bool = False
    #: Where the choice titles live under ``fields.`` when not under the field's own id.
    choices_key: str = ""

    @property
    def choices_text_key(self) -> str:
        return f"fields.{self.choices_key or self.id}.choices"


@dataclass(frozen=True)
class Step:
    id: str
    topic: str | None  # T1–T4 for the four dialogue topics, None for the other steps
    fields: tuple[Field, ...]

    def field(self, field_id: str) -> Field:
        for f in self.fields:
            if f.id == field_id:
                return f
        raise KeyError(field_id)


YES_PARTLY_NO = ("yes", "partly", "no")
SUPPORT = ("supports", "neutral", "against")
EQUIPMENT_ITEMS = ("pc", "screen", "keyboard_mouse", "chair", "desk", "headset", "phone")
EQUIPMENT_PROVIDERS = ("employer", "employee", "missing", "not_needed")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def _note(step_id: str) -> Field:
    return Field(f"{step_id}_note", "text", max_len=NOTE_MAX, multiline=True)


def _equipment_fields() -> tuple[Field, ...]:
    fields: list[Field] = []
    for item in EQUIPMENT_ITEMS:
        fields.append(
            Field(
                f"eq_{item}_by",
                "choice",
                required=True,
                choices=EQUIPMENT_PROVIDERS,
                choices_key="equipment_provider",
            )
        )
        fields.append(Field(f"eq_{item}_carried", "toggle"))
    return tuple(fields)


EMPLOYEE = Step(
    "employee",
    None,
    (
        Field("employee", "person", required=True, max_len=SHORT_MAX),
        Field("unit", "text", max_len=SHORT_MAX),
        Field("initiated_by", "choice", required=True, choices=("employee", "employer")),
    ),
)

TASKS = Step(
    "tasks",
    "T1",
    (
        Field("frequency", "choice", required=True, choices=("weekly", "occasional")),
        # Asked for weekly home working only (core/validation.py checks it then).
        Field("days_per_week", "choice", choices=("0", "1", "2", "3", "4", "5")),
        Field("day_pattern", "choice", choices=("fixed", "flexible")),
        Field("fixed_days", "multi", choices=WEEKDAYS),
        Field("available_from", "time", required=True),
        Field("available_to", "time", required=True),
        Field("tasks_home", "text", max_len=LONG_MAX, multiline=True),
        Field("tasks_office", "text", max_len=LONG_MAX, multiline=True),
        Field(
            "special_care",
            "multi",
            choices=("data_security", "confidentiality", "difficult_conversations"),
        ),
        Field("special_care_measures", "text", max_len=LONG_MAX, multiline=True),
        Field("systematic", "choice", required=True, choices=("no", "yes")),
        _note("tasks"),
    ),
)

ENVIRONMENT = Step(
    "environment",
    "T2",
    (
        Field("manager_contact", "choice", required=True, choices=("daily", "weekly", "as_needed")),
        Field("colleague_impact", "choice", required=True, choices=("none", "some", "large")),
        Field("colleague_contact", "text", max_len=LONG_MAX, multiline=True),
        Field("work_life_fit", "choice", required=True, choices=("good", "partly", "poor")),
        _note("environment"),
    ),
)

TECHNOLOGY = Step(
    "technology",
    "T3",
    (
        Field(
            "main_device", "choice", required=True, choices=("laptop", "desktop", "tablet_phone")
        ),
        Field("laptop_hours", "number", required=True, minimum=0, maximum=16),
        *_equipment_fields(),
        Field("systems_access", "choice", required=True, choices=YES_PARTLY_NO),
        _note("technology"),
    ),
)

ERGONOMICS = Step(
    "ergonomics",
    "T4",
    (
        Field("can_arrange", "choice", required=True, choices=YES_PARTLY_NO),
        Field("vary_positions", "choice", required=True, choices=("yes", "no")),
        Field("breaks_planned", "choice", required=True, choices=YES_PARTLY_NO),
        Field("office_chair_home", "toggle"),
        _note("ergonomics"),
    ),
)

WEIGHING = Step(
    "weighing",
    None,
    (
        Field("weigh_organisation", "choice", required=True, choices=SUPPORT),
        Field("weigh_organisation_note", "text", max_len=LONG_MAX, multiline=True),
        Field("weigh_task", "choice", required=True, choices=SUPPORT),
        Field("weigh_task_note", "text", max_len=LONG_MAX, multiline=True),
        Field("weigh_individual", "choice", required=True, choices=SUPPORT),
        Field("weigh_individual_note", "text", max_len=LONG_MAX, multiline=True),
    ),
)

OUTCOME = Step(
    "outcome",
    None,
    (
        Field(
            "decision",
            "choice",
            required=True,
            choices=("approved", "approved_with_conditions", "not_approved"),
        ),
        # Asked only when the unit works from home systematically (R3).
        Field("med_discussed", "choice", choices=("yes", "no")),
        Field("conditions", "text", max_len=NOTE_MAX, multiline=True),
        # Required when home working is not approved (core/validation.py).
        Field("reason", "text", max_len=NOTE_MAX, multiline=True),
        # The follow-up; when not approved, an optional date for a new assessment.
        Field("follow_up_date", "date"),
        # "Gælder til": optional; after it the agreement has expired (the digest says so).
        Field("valid_until", "date"),
    ),
)

#: The steps with inputs, in the order the manager meets them. "review" follows them.
FORM_STEPS: tuple[Step, ...] = (
    EMPLOYEE,
    TASKS,
    ENVIRONMENT,
    TECHNOLOGY,
    ERGONOMICS,
    WEIGHING,
    OUTCOME,
)
REVIEW = "review"

#: The employee's own request for a conversation: the manager, and the self-check if wanted.
REQUEST = Step(
    "request",
    None,
    (
        Field("manager", "person", required=True, max_len=SHORT_MAX),
        Field("attach_self_check", "toggle"),
    ),
)


STEPS_BY_ID: dict[str, Step] = {s.id: s for s in FORM_STEPS}


# --- The employee's self-check (R5: the employee contributes to sound conditions at home) ---

YES_NO = ("yes", "no")

SC_WORK = Step(
    "sc_work",
    "T1",
    (
        Field("sc_days", "choice", required=True, choices=("0", "1", "2", "3", "4", "5")),
        Field("sc_tasks", "text", max_len=LONG_MAX, multiline=True),
        Field("sc_work_note", "text", max_len=LONG_MAX, multiline=True),
    ),
)

SC_CONTACT = Step(
    "sc_contact",
    "T2",
    (
        Field("sc_feedback", "choice", required=True, choices=("daily", "weekly", "as_needed")),
        Field("sc_colleagues", "choice", required=True, choices=("good", "partly", "poor")),
        Field("sc_work_life", "choice", required=True, choices=("good", "partly", "poor")),
        Field("sc_contact_note", "text", max_len=LONG_MAX, multiline=True),
    ),
)

SC_EQUIPMENT = Step(
    "sc_equipment",
    "T3",
    (
        Field("sc_screen", "choice", required=True, choices=YES_NO),
        Field("sc_keyboard_mouse", "choice", required=True, choices=YES_NO),
        Field("sc_chair", "choice", required=True, choices=YES_NO),
        Field("sc_table", "choice", required=True, choices=YES_NO),
        Field("sc_lighting", "choice", required=True, choices=YES_NO),
        Field("sc_phone", "choice", required=True, choices=YES_NO),
        Field("sc_laptop_hours", "number", required=True, minimum=0, maximum=16),
        Field("sc_systems", "choice", required=True, choices=YES_PARTLY_NO),
        Field("sc_equipment_note", "text", max_len=LONG_MAX, multiline=True),
    ),
)

SC_ERGONOMICS = Step(
    "sc_ergonomics",
    "T4",
    (
        Field("sc_positions", "choice", required=True, choices=YES_NO),
        Field("sc_breaks", "choice", required=True, choices=YES_PARTLY_NO),
        Field("sc_rest", "choice", required=True, choices=YES_NO),
        Field("sc_eye_test", "choice", required=True, choices=YES_NO),
        Field("sc_ergonomics_note", "text", max_len=LONG_MAX, multiline=True),
    ),
)

SELF_CHECK_STEPS: tuple[Step, ...] = (SC_WORK, SC_CONTACT, SC_EQUIPMENT, SC_ERGONOMICS)
SELF_CHECK_BY_ID: dict[str, Step] = {s.id: s for s in SELF_CHECK_STEPS}
#: The self-check step a manager sees beside each topic card.
SELF_CHECK_FOR_TOPIC: dict[str, str] = {
    "tasks": "sc_work",
    "environment": "sc_contact",
    "technology": "sc_equipment",
    "ergonomics": "sc_ergonomics",
}
