"""A home-working dialogue and the agreement it concludes in.

States: in_progress (the manager's draft) → awaiting_employee (concluded, sent to the
employee) → confirmed | disputed; disputed → in_progress again when the manager revises it (a
new agreement version; earlier versions are kept). in_progress → cancelled at any time.

A confirmed dialogue goes back to in_progress when the manager follows it up or reopens it: a
new version is prefilled from the one in force, and ``in_force_version`` keeps naming the
confirmed version until the new one is confirmed (the old one is then "superseded").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from core.answers import DialogueAnswers
from core.fields import FORM_STEPS, REVIEW
from core.form import IN_PROGRESS, StepForm, StepSequence

AWAITING_EMPLOYEE = "awaiting_employee"
CONFIRMED = "confirmed"
DISPUTED = "disputed"
CANCELLED = "cancelled"
#: An agreement version that a newer confirmed version replaced (agreements only).
SUPERSEDED = "superseded"
STATES = (IN_PROGRESS, AWAITING_EMPLOYEE, DISPUTED, CONFIRMED, CANCELLED)

SEQUENCE = StepSequence(FORM_STEPS, after_last=REVIEW)

__all__ = [
    "AWAITING_EMPLOYEE",
    "CANCELLED",
    "CONFIRMED",
    "DISPUTED",
    "IN_PROGRESS",
    "SUPERSEDED",
    "Dialogue",
]


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
    #: The confirmed agreement version in force (0: none yet).
    in_force_version: int = 0
    #: Why the manager reopened the agreement in force (None: a follow-up, or the first).
    reopen_reason: str | None = None
    #: The employee's department in Entra ID when they were chosen, casefolded as
    #: core/access.py compares units, and as the directory spells it (None: not known).
    unit: str | None = None
    unit_name: str | None = None

    def follow_up_open(self, today: date) -> bool:
        """Whether "Følg op" is offered: a confirmed agreement from its follow-up date on (not
        approved: from the date for a new assessment), or once it has expired."""
        if self.state != CONFIRMED:
            return False
        due, until = self.answers.follow_up_date, self.answers.valid_until
        return (due is not None and due <= today) or (until is not None and until < today)

    def expired(self, today: date) -> bool:
        """A confirmed agreement past its "gælder til" date."""
        until = self.answers.valid_until
        return self.state == CONFIRMED and until is not None and until < today

    @property
    def is_renewal(self) -> bool:
        """A new version of an agreement that is in force (a follow-up or a reopening)."""
        return self.in_force_version > 0 and self.state != CONFIRMED

    def can_edit(self, step: str) -> bool:
        """Any form step may be edited from the review once it has been answered."""
        return step in SEQUENCE.by_id and self.answers.answered(step)

    def is_complete(self) -> bool:
        return all(self.answers.answered(s) for s in SEQUENCE.by_id)
