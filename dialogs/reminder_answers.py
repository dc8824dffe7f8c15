"""What the employee and the manager do with a reminder card: answer the pulse, skip a week,
stop a kind of reminder, or (typed) turn the reminders back on.

A pulse answer is checked like any card submit: only for a week whose pulse was sent to this
user, each topic one of the offered choices, once per week. Anything else gets a friendly
message and changes nothing.
"""

from __future__ import annotations

import re
from typing import Any

from core.reminders import KINDS, PULSE, PULSE_CHOICES, PULSE_TOPICS, next_week, previous_week
from core.reminders import repeated_problems as repeated
from dialogs.reminder_screens import ReminderScreens
from dialogs.turn import Actor, TurnResult
from store.reminders import ReminderStore

REMINDER_VERBS = ("pulse_answer", "pulse_snooze", "reminders_stop")
_WEEK = re.compile(r"\d{4}-W\d{2}")


class ReminderAnswers:
    def __init__(self, store: ReminderStore, screens: ReminderScreens, this_week) -> None:
        self.store = store
        self.screens = screens
        self.this_week = this_week  # () -> ISO week of today, in the municipality's zone

    async def on_submit(self, actor: Actor, data: dict[str, Any]) -> TurnResult:
        verb = data.get("verb")
        if verb == "reminders_stop":
            return await self._stop(actor, data.get("kind"))
        week = data.get("week")
        t = actor.texts
        if not isinstance(week, str) or not _WEEK.fullmatch(week):
            return TurnResult.say(t("pulse.not_yours"))
        if not await self.store.was_sent(actor.user_id, PULSE, week):
            return TurnResult.say(t("pulse.not_yours"))
        if week not in (self.this_week(), previous_week(self.this_week())):
            return TurnResult.say(t("pulse.stale"))
        if verb == "pulse_snooze":
            await self.store.set_preference(
                actor.user_id, PULSE, stopped=False, snoozed_week=next_week(self.this_week())
            )
            return TurnResult(replace=self.screens.answered_note(t, t("pulse.snoozed")))
        answers = {topic: data.get(topic) for topic in PULSE_TOPICS}
        if any(value not in PULSE_CHOICES for value in answers.values()):
            result = TurnResult.say(t("pulse.error"))
            result.replies.append(TurnResult.show(self.screens.pulse(t, week)).replies[0])
            return result
        if not await self.store.save_pulse(actor.user_id, week, answers):  # type: ignore[arg-type]
            return TurnResult.say(t("pulse.already_answered"))
        before = (await self.store.pulses(actor.user_id, [previous_week(week)])).get(
            previous_week(week)
        )
        shared = repeated(answers, before)  # type: ignore[arg-type]
        return TurnResult(replace=self.screens.pulse_answered(t, answers, shared))  # type: ignore[arg-type]

    async def _stop(self, actor: Actor, kind: Any) -> TurnResult:
        t = actor.texts
        if kind not in KINDS:
            return TurnResult.say(t("reminders.unknown_kind"))
        await self.store.set_preference(actor.user_id, kind, stopped=True)
        return TurnResult.say(self.screens.stopped(t, kind))

    async def resume(self, actor: Actor) -> TurnResult:
        changed = await self.store.resume_all(actor.user_id)
        return TurnResult.say(
            actor.texts("reminders.resumed" if changed else "reminders.nothing_to_resume")
        )
