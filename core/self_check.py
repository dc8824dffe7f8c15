"""The employee's self-check: its states and the flags its answers raise.

A flag is a point the employee and the manager should act on (a laptop used more than two
hours a day without a separate keyboard, no suitable chair, …). Each names the rule of the
guidance it comes from and the self-check step (topic) it belongs to; the employee reads
``flags.<key>.advice``, the manager ``flags.<key>.manager``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core import policy as policies
from core.answers import SelfCheckAnswers
from core.fields import SELF_CHECK_STEPS
from core.form import IN_PROGRESS, StepForm, StepSequence
from core.policy import Policy

DONE = "done"
SEQUENCE = StepSequence(SELF_CHECK_STEPS)

__all__ = ["DONE", "IN_PROGRESS", "Flag", "SelfCheck", "flags"]


@dataclass(frozen=True)
class Flag:
    key: str
    rule: str
    step: str  # the self-check step it belongs to


@dataclass(kw_only=True)
class SelfCheck(StepForm):
    SEQUENCE = SEQUENCE

    employee_id: str
    employee_name: str
    answers: SelfCheckAnswers = field(default_factory=SelfCheckAnswers)


def flags(answers: SelfCheckAnswers, policy: Policy | None = None) -> list[Flag]:
    """The points the self-check answers raise, in the policy file's order (a step not
    answered raises none)."""
    policy = policy or policies.active()
    return [
        Flag(f.key, f.rule, f.step) for f in policy.flags if policies.holds(policy, f.when, answers)
    ]
