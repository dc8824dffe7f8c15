"""What the manager's dialogue and the employee's self-check have in common: a form walked
step by step, with a version that every change bumps.

Each card carries the form's id, step and version; a submit for another step or an older
version is stale and changes nothing. ``editing`` is the manager's "edit one topic from the
review": the edited step then leads back to the review instead of on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from core.answers import FormAnswers
from core.fields import Step

IN_PROGRESS = "in_progress"


class StepSequence:
    """The steps of a form in order, and where the last one leads (None: the form is done)."""

    def __init__(self, steps: tuple[Step, ...], after_last: str | None = None) -> None:
        self.steps = steps
        self.by_id: dict[str, Step] = {s.id: s for s in steps}
        self.after_last = after_last
        #: Every step a card can be for: the form steps, then the one after the last if any.
        self.ids: tuple[str, ...] = tuple(self.by_id) + ((after_last,) if after_last else ())

    def after(self, step_id: str) -> str | None:
        index = self.ids.index(step_id) + 1
        return self.ids[index] if index < len(self.ids) else None

    def before(self, step_id: str) -> str | None:
        index = self.ids.index(step_id)
        return self.ids[index - 1] if index > 0 else None

    def number(self, step_id: str) -> int:
        return self.ids.index(step_id) + 1


@dataclass(kw_only=True)
class StepForm:
    """A form in progress: its state, the step it is at, its version and its answers."""

    SEQUENCE: ClassVar[StepSequence]

    id: str
    locale: str
    state: str = IN_PROGRESS
    step: str = ""
    version: int = 1
    editing: bool = False  # True while one step is being edited from the review
    answers: FormAnswers = field(default_factory=FormAnswers)
    created_at: str = ""
    updated_at: str = ""

    def __post_init__(self) -> None:
        if not self.step:
            self.step = self.SEQUENCE.ids[0]

    @property
    def is_open(self) -> bool:
        return self.state == IN_PROGRESS

    def step_number(self) -> int:
        return self.SEQUENCE.number(self.step)

    def next_step(self) -> str | None:
        """Where a valid submit of the current step leads; None: the form is done."""
        if self.editing:
            return self.SEQUENCE.after_last
        return self.SEQUENCE.after(self.step)

    def previous_step(self) -> str | None:
        return self.SEQUENCE.before(self.step)

    def current(self) -> Step | None:
        """The current step's inputs (None at the review, which has none)."""
        return self.SEQUENCE.by_id.get(self.step)
