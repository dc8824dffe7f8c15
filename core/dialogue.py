"""A home-working dialogue and the agreement it concludes in.

States: in_progress (the manager's draft) → awaiting_employee (concluded, sent to the
employee) → confirmed | disputed; disputed → in_progress again when the manager revises it (a
new agreement version; earlier versions are kept). in_progress → cancelled at any time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.answers import DialogueAnswers
from core.fields import FORM_STEPS, REVIEW
from core.form import IN_PROGRESS, StepForm, StepSequence

AWAITING_EMPLOYEE = "awaiting_employee"
CONFIRMED = "confirmed"
DISPUTED = "disputed"
CANCELLED = "cancelled"
STATES = (IN_PROGRESS, AWAITING_EMPLOYEE, DISPUTED, CONFIRMED, CANCELLED)

SEQUENCE = StepSequence(FORM_STEPS, after_last=REVIEW)

__all__ = ["AWAITING_EMPLOYEE", "CANCELLED", "CONFIRMED", "DISPUTED", "IN_PROGRESS", "Dialogue"]


@dataclass(kw_only=True)
class Dialogue(StepForm):
    SEQUENCE = SEQUENCE

    manager_id: str
    manager_name: str
    employee_id: str | None = None
    employee_name: str | None = None
    answers: DialogueAnswers = field(default_factory=DialogueAnswers)
    #: The newest agreement version concluded from this dialogue (0: none yet).
    agreement_version: int = 0

    def can_edit(self, step: str) -> bool:
        """Any form step may be edited from the review once it has been answered."""
        return step in SEQUENCE.by_id and self.answers.answered(step)

    def is_complete(self) -> bool:
        return all(self.answers.answered(s) for s in SEQUENCE.by_id)
