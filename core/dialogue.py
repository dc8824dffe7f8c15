"""A home-working dialogue and the agreement it concludes in.

Plain data plus the transitions between steps and states. The ``version`` is bumped by every
change; each card carries the version it was made for, so a replayed or stale submit is
recognised.

States: in_progress (the manager's draft) → awaiting_employee (concluded, sent to the
employee) → confirmed | disputed; disputed → in_progress again when the manager revises it (a
new agreement version; earlier versions are kept). in_progress → cancelled at any time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.fields import FORM_STEPS, REVIEW, STEP_IDS, STEPS_BY_ID, step_after, step_before

IN_PROGRESS = "in_progress"
AWAITING_EMPLOYEE = "awaiting_employee"
CONFIRMED = "confirmed"
DISPUTED = "disputed"
CANCELLED = "cancelled"
STATES = (IN_PROGRESS, AWAITING_EMPLOYEE, DISPUTED, CONFIRMED, CANCELLED)


@dataclass
class Dialogue:
    id: str
    manager_id: str
    manager_name: str
    locale: str
    state: str = IN_PROGRESS
    step: str = FORM_STEPS[0].id
    version: int = 1
    editing: bool = False  # True while one topic is being edited from the review
    employee_id: str | None = None
    employee_name: str | None = None
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The newest agreement version concluded from this dialogue (0: none yet).
    agreement_version: int = 0
    created_at: str = ""
    updated_at: str = ""

    @property
    def is_open(self) -> bool:
        return self.state == IN_PROGRESS

    def step_number(self) -> int:
        return STEP_IDS.index(self.step) + 1

    def next_step(self) -> str:
        """Where a valid submit of the current step leads."""
        if self.editing or self.step == REVIEW:
            return REVIEW
        return step_after(STEP_IDS, self.step) or REVIEW

    def previous_step(self) -> str | None:
        return step_before(STEP_IDS, self.step)

    def can_edit(self, step: str) -> bool:
        """Any form step may be edited once it has been answered."""
        return step in STEPS_BY_ID and step in self.answers
