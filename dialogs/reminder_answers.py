"""What the employee and the manager do with a reminder card: answer the pulse, skip a week,
stop a kind of reminder, or (typed) turn the reminders back on.

A pulse answer is checked like any card submit: only for a week whose pulse was sent to this
user, each topic one of the offered choices, once per week. Anything else gets a friendly
message and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cards.reminder_screens import ReminderScreens
from core.reminders import PULSE, PULSE_CHOICES, PULSE_TOPICS, next_week, previous_week
from core.reminders import repeated_problems as repeated
from dialogs.card_data import PulseCard, StopCard
from dialogs.turn import Actor, TurnResult
from store.reminders import ReminderStore


class ReminderAnswers:
    def __init__(
        self, store: ReminderStore, screens: ReminderScreens, this_week: Callable[[], str]
    ) -> None:
        self.store = store
        self.screens = screens
        self.this_week = this_week  # the ISO week of today, in the municipality's zone

    async def _refusal(self, actor: Actor, week: str) -> TurnResult | None:
        """Why a pulse card of ``week`` may not be answered now, if it may not."""
        t = actor.texts
        if not await self.store.was_sent(actor.user_id, PULSE, week):
            return TurnResult.say(t("pulse.not_yours"))
        if week not in (self.this_week(), previous_week(self.this_week())):
            return TurnResult.say(t("pulse.stale"))
        return None

    async def snooze(self, actor: Actor, data: PulseCard) -> TurnResult:
        refused = await self._refusal(actor, data.week)
        if refused:
            return refused
        await self.store.set_preference(
            actor.user_id, PULSE, stopped=False, snoozed_week=next_week(self.this_week())
        )
        return TurnResult(
            replace=self.screens.answered_note(actor.texts, actor.texts("pulse.snoozed"))
        )

    async def answer(self, actor: Actor, data: PulseCard) -> TurnResult:
        refused = await self._refusal(actor, data.week)
        if refused:
            return refused
        t, week, inputs = actor.texts, data.week, data.inputs
        answers: dict[str, str] = {}
        for topic in PULSE_TOPICS:
            value = inputs.get(topic)
            if not isinstance(value, str) or value not in PULSE_CHOICES:
                result = TurnResult.say(t("pulse.error"))
                return result.extend(TurnResult.show(self.screens.pulse(t, week)))
            answers[topic] = value
        if not await self.store.save_pulse(actor.user_id, week, answers):
            return TurnResult.say(t("pulse.already_answered"))
        before = (await self.store.pulses(actor.user_id, [previous_week(week)])).get(
            previous_week(week)
        )
        shared = repeated(answers, before)
        return TurnResult(replace=self.screens.pulse_answered(t, answers, shared))

    async def stop(self, actor: Actor, data: StopCard) -> TurnResult:
        await self.store.set_preference(actor.user_id, data.kind, stopped=True)
        return TurnResult.say(self.screens.stopped(actor.texts, data.kind))

    async def resume(self, actor: Actor, data: Any = None) -> TurnResult:
        changed = await self.store.resume_all(actor.user_id)
        return TurnResult.say(
            actor.texts("reminders.resumed" if changed else "reminders.nothing_to_resume")
        )
