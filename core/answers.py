"""The answers of each step, the self-check and the agreement record, as typed models.

A card submit is parsed field by field first (core/validation.py: every input checked, with
a friendly error per field); the clean values then become one of these models, which is what
the dialogues, the rules and the cards read. Numbers are numbers, dates are dates, a choice
is one of its values. Stored JSON is read back through the same models, so a dialogue stored
by an earlier version (where ``days_per_week`` was the string ``"2"``) reads as ``2``.

Field names are the input ids of core/fields.py; a test keeps the two in step.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic import Field as Spec

YesPartlyNo = Literal["yes", "partly", "no"]
YesNo = Literal["yes", "no"]
Support = Literal["supports", "neutral", "against"]
Provider = Literal["employer", "employee", "missing", "not_needed"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri"]
Contact = Literal["daily", "weekly", "as_needed"]
GoodPartlyPoor = Literal["good", "partly", "poor"]
Decision = Literal["approved", "approved_with_conditions", "not_approved"]
SpecialCare = Literal["data_security", "confidentiality", "difficult_conversations"]


class StepAnswers(BaseModel):
    """The answers of one step. Unknown keys in stored JSON are ignored."""

    model_config = ConfigDict(extra="ignore")

    def card_values(self) -> dict[str, Any]:
        """The answers as the card's inputs hold them (JSON values; what was not answered
        left out), for prefilling a card, checking a step again and showing a summary. A
        choice whose values are numbers (days a week) is a string on a card."""
        values = self.model_dump(mode="json", exclude_defaults=True)
        return {k: str(v) if type(v) is int else v for k, v in values.items()}


# --- the manager's dialogue ------------------------------------------------------------------


class EmployeeStep(StepAnswers):
    employee: str
    unit: str | None = None
    initiated_by: Literal["employee", "employer"]


class TasksStep(StepAnswers):
    frequency: Literal["weekly", "occasional"]
    #: None when occasional: then there are no days a week.
    days_per_week: int | None = Spec(default=None, ge=0, le=5)
    day_pattern: Literal["fixed", "flexible"] | None = None
    fixed_days: list[Weekday] = []
    available_from: str
    available_to: str
    tasks_home: str | None = None
    tasks_office: str | None = None
    special_care: list[SpecialCare] = []
    special_care_measures: str | None = None
    systematic: YesNo
    tasks_note: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _weekly_before_occasional_existed(cls, value: Any) -> Any:
        """Dialogues stored before occasional home working could be recorded are weekly."""
        if isinstance(value, dict) and "frequency" not in value and "days_per_week" in value:
            return {**value, "frequency": "weekly"}
        return value

    @property
    def occasional(self) -> bool:
        return self.frequency == "occasional"


class EnvironmentStep(StepAnswers):
    manager_contact: Contact
    colleague_impact: Literal["none", "some", "large"]
    colleague_contact: str | None = None
    work_life_fit: GoodPartlyPoor
    environment_note: str | None = None


class TechnologyStep(StepAnswers):
    main_device: Literal["laptop", "desktop", "tablet_phone"]
    laptop_hours: float = Spec(ge=0, le=16)
    eq_pc_by: Provider
    eq_pc_carried: bool = False
    eq_screen_by: Provider
    eq_screen_carried: bool = False
    eq_keyboard_mouse_by: Provider
    eq_keyboard_mouse_carried: bool = False
    eq_chair_by: Provider
    eq_chair_carried: bool = False
    eq_desk_by: Provider
    eq_desk_carried: bool = False
    eq_headset_by: Provider
    eq_headset_carried: bool = False
    eq_phone_by: Provider
    eq_phone_carried: bool = False
    systems_access: YesPartlyNo
    technology_note: str | None = None

    def provided_by(self, item: str) -> Provider:
        value: Provider = getattr(self, f"eq_{item}_by")
        return value

    def carried(self, item: str) -> bool:
        return bool(getattr(self, f"eq_{item}_carried"))


class ErgonomicsStep(StepAnswers):
    can_arrange: YesPartlyNo
    vary_positions: YesNo
    breaks_planned: YesPartlyNo
    office_chair_home: bool = False
    ergonomics_note: str | None = None


class WeighingStep(StepAnswers):
    weigh_organisation: Support
    weigh_organisation_note: str | None = None
    weigh_task: Support
    weigh_task_note: str | None = None
    weigh_individual: Support
    weigh_individual_note: str | None = None


class OutcomeStep(StepAnswers):
    decision: Decision
    med_discussed: YesNo | None = None
    conditions: str | None = None
    reason: str | None = None
    follow_up_date: date | None = None
    #: "Gælder til": the agreement's optional end date.
    valid_until: date | None = None


class FormAnswers(BaseModel):
    """The answers of a form, one optional model per step (None: not answered yet)."""

    model_config = ConfigDict(extra="ignore")
    #: step id -> the model of its answers
    STEPS: ClassVar[dict[str, type[StepAnswers]]] = {}

    def get(self, step_id: str) -> StepAnswers | None:
        value = getattr(self, step_id, None)
        return value if isinstance(value, StepAnswers) else None

    def put(self, step_id: str, values: dict[str, Any]) -> StepAnswers:
        """Store a step's clean values (from core/validation.py) as its model."""
        model = self.STEPS[step_id].model_validate(values)
        setattr(self, step_id, model)
        return model

    def values(self, step_id: str) -> dict[str, Any]:
        """A step's answers as card values; empty when not answered."""
        model = self.get(step_id)
        return model.card_values() if model is not None else {}

    def answered(self, step_id: str) -> bool:
        return self.get(step_id) is not None

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    def is_empty(self) -> bool:
        return all(self.get(step_id) is None for step_id in self.STEPS)


class DialogueAnswers(FormAnswers):
    employee: EmployeeStep | None = None
    tasks: TasksStep | None = None
    environment: EnvironmentStep | None = None
    technology: TechnologyStep | None = None
    ergonomics: ErgonomicsStep | None = None
    weighing: WeighingStep | None = None
    outcome: OutcomeStep | None = None

    STEPS: ClassVar[dict[str, type[StepAnswers]]] = {
        "employee": EmployeeStep,
        "tasks": TasksStep,
        "environment": EnvironmentStep,
        "technology": TechnologyStep,
        "ergonomics": ErgonomicsStep,
        "weighing": WeighingStep,
        "outcome": OutcomeStep,
    }

    @property
    def days_per_week(self) -> int:
        """Days a week of regular home working (0 when occasional)."""
        return (self.tasks.days_per_week or 0) if self.tasks else 0

    @property
    def occasional(self) -> bool:
        return self.tasks is not None and self.tasks.occasional

    @property
    def decision(self) -> Decision | None:
        return self.outcome.decision if self.outcome else None

    @property
    def follow_up_date(self) -> date | None:
        return self.outcome.follow_up_date if self.outcome else None

    @property
    def valid_until(self) -> date | None:
        return self.outcome.valid_until if self.outcome else None


# --- the employee's self-check ---------------------------------------------------------------


class WorkCheck(StepAnswers):
    sc_days: int = Spec(ge=0, le=5)
    sc_tasks: str | None = None
    sc_work_note: str | None = None


class ContactCheck(StepAnswers):
    sc_feedback: Contact
    sc_colleagues: GoodPartlyPoor
    sc_work_life: GoodPartlyPoor
    sc_contact_note: str | None = None


class EquipmentCheck(StepAnswers):
    sc_screen: YesNo
    sc_keyboard_mouse: YesNo
    sc_chair: YesNo
    sc_table: YesNo
    sc_lighting: YesNo
    sc_phone: YesNo
    sc_laptop_hours: float = Spec(ge=0, le=16)
    sc_systems: YesPartlyNo
    sc_equipment_note: str | None = None


class ErgonomicsCheck(StepAnswers):
    sc_positions: YesNo
    sc_breaks: YesPartlyNo
    sc_rest: YesNo
    sc_eye_test: YesNo
    sc_ergonomics_note: str | None = None


class SelfCheckAnswers(FormAnswers):
    sc_work: WorkCheck | None = None
    sc_contact: ContactCheck | None = None
    sc_equipment: EquipmentCheck | None = None
    sc_ergonomics: ErgonomicsCheck | None = None

    STEPS: ClassVar[dict[str, type[StepAnswers]]] = {
        "sc_work": WorkCheck,
        "sc_contact": ContactCheck,
        "sc_equipment": EquipmentCheck,
        "sc_ergonomics": ErgonomicsCheck,
    }


# --- the agreement record --------------------------------------------------------------------


class Person(BaseModel):
    id: str | None = None
    name: str | None = None


class Availability(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    start: str | None = Spec(default=None, alias="from")
    end: str | None = Spec(default=None, alias="to")


class EquipmentLine(BaseModel):
    item: str
    provided_by: Provider | None = None
    carried: bool = False


class RecordedAction(BaseModel):
    rule: str
    kind: Literal["action", "info"]
    key: str
    #: An action's deadline as the manager concluded it (None: an info point, or a record
    #: from before deadlines were kept).
    due: date | None = None


class AgreementRecord(BaseModel):
    """One agreement version (domain.md, "What an agreement records"): what is stored, shown
    on the agreement card, exported to HR and sent to SharePoint."""

    model_config = ConfigDict(extra="ignore")

    record_version: int = 1
    dialogue_id: str
    version: int
    state: str
    employee: Person
    manager: Person
    unit: str | None = None
    initiated_by: str | None = None
    days_per_week: int = 0
    frequency: Literal["weekly", "occasional"] = "weekly"
    day_pattern: str | None = None
    fixed_days: list[str] = []
    availability: Availability = Availability()
    equipment: list[EquipmentLine] = []
    answers: DialogueAnswers = DialogueAnswers()
    rules: list[str] = []
    actions: list[RecordedAction] = []
    decision: Decision | None = None
    conditions: str | None = None
    #: Why home working was not approved.
    reason: str | None = None
    #: Whether the MED committee had discussed the unit's systematic home working.
    med_discussed: YesNo | None = None
    follow_up_date: date | None = None
    #: "Gælder til": the last day the agreement applies (None: until it is followed up).
    valid_until: date | None = None
    #: The confirmed version this one replaces once it is confirmed (None: the first).
    replaces_version: int | None = None
    #: Why the manager reopened the confirmed agreement before its follow-up date.
    reopen_reason: str | None = None
    started_at: str = ""
    concluded_at: str = ""
    employee_comment: str | None = None
    answered_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The stored form, the same shape as the records of earlier versions."""
        return self.model_dump(mode="json", by_alias=True)

    @property
    def employee_name(self) -> str | None:
        return self.employee.name
