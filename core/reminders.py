"""The weekly reminders, as plain data: kinds, ISO weeks, the pulse's topics, who needs a
nudge, what goes in a manager's digest, and how a failed send is retried.

No botbuilder and no store here: the planner feeds this module rows and sends what it answers.
"""

from __future__ import annotations

import math
import random
from collections.abc import Container
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

PULSE = "pulse"
DIGEST = "digest"
NUDGE = "nudge"
KINDS = (PULSE, DIGEST, NUDGE)

#: The weekly pulse's topics (labels in the content files under ``pulse.topics``).
PULSE_TOPICS = ("breaks", "workstation", "colleagues", "work_life", "rest")
PULSE_CHOICES = ("good", "mixed", "problem")
#: A pending self-check or confirmation is nudged after this many working days.
NUDGE_AFTER_WORKING_DAYS = 3
#: The digest lists follow-up dates due within this many days.
FOLLOW_UP_WINDOW_DAYS = 14


def iso_week(year: int, week: int) -> str:
    return f"{year}-W{week:02d}"


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return iso_week(year, week)


def previous_week(week: str) -> str:
    year, number = week.split("-W")
    return week_of(date.fromisocalendar(int(year), int(number), 1) - timedelta(weeks=1))


def next_week(week: str) -> str:
    year, number = week.split("-W")
    return week_of(date.fromisocalendar(int(year), int(number), 1) + timedelta(weeks=1))


def working_days_since(start: date, today: date, closed: Container[date]) -> int:
    """Working days (Monday–Friday, not a public holiday) after ``start`` up to ``today``."""
    count, day = 0, start
    while day < today:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in closed:
            count += 1
    return count


def problem_mask(answers: dict[str, str]) -> int:
    """The pulse topics marked a problem, as bits in the order of ``PULSE_TOPICS`` (a new
    topic is added at the end): what the anonymous overview counts without reading JSON."""
    return sum(1 << n for n, t in enumerate(PULSE_TOPICS) if answers.get(t) == "problem")


def repeated_problems(this_week: dict[str, str], last_week: dict[str, str] | None) -> list[str]:
    """The pulse topics marked a problem two weeks running: these go to the manager."""
    if not last_week:
        return []
    return [t for t in PULSE_TOPICS if this_week.get(t) == last_week.get(t) == "problem"]


@dataclass
class Digest:
    """What a manager's weekly digest lists, as the dialogues concerned (the card shows the
    employees' names); empty lists are left out of the card."""

    awaiting_employee: list[Any] = field(default_factory=list)
    unfinished: list[Any] = field(default_factory=list)
    follow_ups: list[Any] = field(default_factory=list)
    disputed: list[Any] = field(default_factory=list)
    unreachable: list[Any] = field(default_factory=list)
    #: (dialogue, the pulse topics that were a problem two weeks running)
    pulse_problems: list[tuple[Any, list[str]]] = field(default_factory=list)
    #: Open action items past their deadline (core/action_items.py), whoever owns them.
    overdue_items: list[Any] = field(default_factory=list)
    #: Confirmed agreements past their "gælder til" date, until they are followed up.
    expired: list[Any] = field(default_factory=list)
    #: Employees' open requests for a conversation.
    requests: list[Any] = field(default_factory=list)
    #: The follow-ups that can start now (a "Følg op" button each).
    due_now: list[Any] = field(default_factory=list)
    #: Agreements a former manager made whose follow-up is due, about employees the manager
    #: leads now in Entra ID (reminders/planner.py): no button, they start a new dialogue.
    handed_over: list[Any] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(
            (
                self.awaiting_employee,
                self.unfinished,
                self.follow_ups,
                self.expired,
                self.requests,
                self.disputed,
                self.unreachable,
                self.pulse_problems,
                self.overdue_items,
                self.handed_over,
            )
        )


def follow_up_due(follow_up: date | None, today: date) -> bool:
    """A follow-up date from today up to FOLLOW_UP_WINDOW_DAYS ahead (or overdue)."""
    return follow_up is not None and follow_up <= today + timedelta(days=FOLLOW_UP_WINDOW_DAYS)


# --- delivery outcomes ----------------------------------------------------------------------

SENT = "sent"
RETRY = "retry"
UNREACHABLE = "unreachable"
FAILED = "failed"

#: Statuses worth another try (Teams: 412, 502, 503, 504; 429 with Retry-After; any 5xx).
RETRY_STATUSES = frozenset({408, 412, 429, 500, 502, 503, 504})
#: The app is blocked or removed, or the user is unknown: stop, and tell the manager.
UNREACHABLE_STATUSES = frozenset({403, 404})
MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 0.25
BACKOFF_CAP_SECONDS = 300.0


def classify(status: int | None) -> str:
    """What to do after a send answered ``status`` (None: no answer, a connection error)."""
    if status is not None and 200 <= status < 300:
        return SENT
    if status in UNREACHABLE_STATUSES:
        return UNREACHABLE
    if status is None or status in RETRY_STATUSES or status >= 500:
        return RETRY
    return FAILED


def retry_delay(
    attempt: int,
    retry_after: float | None,
    *,
    base: float = BACKOFF_BASE_SECONDS,
    jitter: random.Random | None = None,
) -> float:
    """Seconds before attempt ``attempt + 1``: the server's Retry-After when it gave one
    (plus a little jitter, so that many waiting sends do not return at the same instant),
    else exponential backoff with full jitter, capped."""
    rng = jitter or random
    if retry_after is not None and retry_after >= 0:
        return retry_after + rng.uniform(0, base / 4)
    return rng.uniform(0, min(BACKOFF_CAP_SECONDS, base * 2**attempt))


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (the Bot Connector sends seconds; a date is not expected)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return min(seconds, BACKOFF_CAP_SECONDS)
