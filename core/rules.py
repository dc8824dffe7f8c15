"""The rules of the municipality's guidance (R1–R12 in domain.md), applied to the answers.

What fires on what lives in the policy file (core/policy.py, content/policy.toml); here is
only how: a dialogue's answers (and the points its employee's self-check raised) give the
follow-ups that apply, each once, in rule order. A follow-up is an ``action`` (someone must
do it) or an ``info`` (both should know it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from core import policy as policies
from core.answers import DialogueAnswers
from core.policy import Policy


@dataclass(frozen=True)
class RuleHit:
    rule: str  # "R1" … "R12": kept in the record and in SharePoint, never shown
    kind: Literal["action", "info"]
    key: str  # the follow-up's key in the policy file


def home_working(answers: DialogueAnswers) -> bool:
    """No rule applies without home working: no days from home, or work at the office. Rules
    about regular home working (screen work) test the days a week, which are 0 when it is
    occasional."""
    some = answers.days_per_week > 0 or answers.occasional
    return some and answers.decision != "not_approved"


def _rule_number(hit: RuleHit) -> int:
    return int(hit.rule[1:])


def evaluate(
    answers: DialogueAnswers,
    self_check_flags: Iterable[str] = (),
    policy: Policy | None = None,
) -> list[RuleHit]:
    """The follow-ups that apply to these answers (and to the employee's self-check flags,
    by key), in rule order, each once."""
    policy = policy or policies.active()
    if not home_working(answers):
        return []
    hits = [
        RuleHit(a.rule, a.kind, a.key)
        for a in policy.actions
        if policies.holds(policy, a.when, answers)
    ]
    flagged = set(self_check_flags)
    for flag in policy.flags:
        if flag.key in flagged and flag.action is not None:
            added = policy.action(flag.action)
            hits.append(RuleHit(added.rule, added.kind, added.key))
    unique = list({hit.key: hit for hit in hits}.values())
    return sorted(unique, key=_rule_number)


def triggered_rules(hits: list[RuleHit]) -> list[str]:
    """The distinct rule ids of ``hits`` in order (for the agreement record)."""
    return list(dict.fromkeys(h.rule for h in hits))
