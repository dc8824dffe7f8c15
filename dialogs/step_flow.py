"""The one step machine: next, back and later for a form walked card by card.

The manager's dialogue and the employee's self-check are both forms (core/form.py). Every
submit is checked the same way before anything changes: the form must exist and belong to
the acting user, be open, and the card's step and version must be the current ones. Anything
else is answered politely and changes nothing. A valid step is committed with a
compare-and-set on the version, so two copies of one submit cannot both win; only then does
the bot answer.

A flow says what differs: where its forms are stored, who owns one, its cards, and what
happens after a step (the manager's next topic and invitation, the self-check's advice).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, Generic, Protocol, TypeVar

from cards.screens import Screens
from core.answers import StepAnswers
from core.fields import Step
from core.form import StepForm
from core.texts import Texts
from core.validation import FieldError, validate_step
from dialogs.card_data import FormCard
from dialogs.turn import Actor, Reply, TurnResult

log = logging.getLogger(__name__)

F = TypeVar("F", bound=StepForm)
#: A verb's work on a form that passed the guard.
Action = Callable[[F, Actor, Any], Awaitable[TurnResult]]


class FormStore(Protocol[F]):
    """Where a flow's forms are kept: read by id, saved with a compare-and-set on the version."""

    async def get(self, form_id: str) -> F | None: ...

    async def save(self, form: F, expected_version: int) -> bool: ...


class StepFlow(Generic[F]):
    #: Named in the log lines (never with ids of people).
    name = "form"

    def __init__(self, store: FormStore[F], screens: Screens, today: Callable[[], date]) -> None:
        self.store = store
        self.screens = screens
        self.today = today

    # --- what a flow provides ------------------------------------------------------------

    def owns(self, form: F, actor: Actor) -> bool:
        raise NotImplementedError

    async def card(
        self,
        form: F,
        t: Texts,
        values: dict[str, Any] | None = None,
        errors: list[FieldError] | None = None,
    ) -> dict[str, Any]:
        raise NotImplementedError

    def accepts(self, form: F, verb: str) -> bool:
        """Whether the form takes this verb in its state (open forms take every verb)."""
        return form.is_open

    def extra_errors(self, form: F, step: Step, values: dict[str, Any]) -> list[FieldError]:
        """Checks a flow adds to a step's own validation."""
        return []

    async def access_errors(
        self, form: F, step: Step, values: dict[str, Any], actor: Actor
    ) -> list[FieldError]:
        """Whether the actor may give these answers (the manager check of a chosen employee);
        nothing is stored or sent when they may not."""
        return []

    async def before_commit(self, form: F, step: Step, before: StepAnswers | None) -> None:
        """Changes that go with a valid step (the dialogue's employee)."""

    def finish(self, form: F) -> None:
        """The last step was answered and leads nowhere: the form is done."""

    async def after_step(
        self, form: F, step: Step, actor: Actor, before: StepAnswers | None
    ) -> TurnResult:
        """The answer to a committed step: by default the answered card and the next one."""
        t = actor.texts
        return TurnResult(
            replace=self.screens.answered_step(form.answers, step, t),
            replies=[Reply(card=await self.card(form, t))],
        )

    # --- the machine ----------------------------------------------------------------------

    async def guard(self, actor: Actor, data: FormCard) -> F | TurnResult:
        """The form the card is for, or the polite refusal."""
        t = actor.texts
        form = await self.store.get(data.form_id)
        if form is None or not self.owns(form, actor):
            log.warning("%s submit refused: not the owner", self.name)
            return TurnResult.say(t("notices.not_yours"))
        if not self.accepts(form, data.verb):
            return TurnResult.say(t("notices.closed"))
        if data.step != form.step or data.version != form.version:
            log.info("%s submit ignored: stale", self.name)
            return TurnResult.say(t("notices.stale"))
        return form

    def pointer(self, form: F) -> str | None:
        """The id the chat remembers for "continue" after a submit of this form."""
        return None

    async def run(self, actor: Actor, data: FormCard, action: Action[F]) -> TurnResult:
        """Guard the submit, then let ``action`` handle it."""
        form = await self.guard(actor, data)
        if isinstance(form, TurnResult):
            return form
        result = await action(form, actor, data)
        result.dialogue_id = result.dialogue_id or self.pointer(form)
        return result

    async def commit(self, form: F, expected_version: int) -> bool:
        form.version = expected_version + 1
        return await self.store.save(form, expected_version)

    def stale(self, t: Texts) -> TurnResult:
        return TurnResult.say(t("notices.stale"))

    async def next(self, actor: Actor, data: FormCard) -> TurnResult:
        return await self.run(actor, data, self._next)

    async def _next(self, form: F, actor: Actor, data: FormCard) -> TurnResult:
        t = actor.texts
        step = form.current()
        if step is None:  # the review has no inputs
            return TurnResult.say(t("notices.unknown_action"))
        values, errors = validate_step(step, data.inputs, self.today(), form.answers)
        if not errors:
            errors = self.extra_errors(form, step, values)
        if not errors:
            errors = await self.access_errors(form, step, values, actor)
        if errors:
            # The same card again, in place, with what was valid kept and the errors on top.
            shown = {**form.answers.values(step.id), **values}
            return TurnResult(replace=await self.card(form, t, shown, errors))
        expected, before = form.version, form.answers.get(step.id)
        form.answers.put(step.id, values)
        following = form.next_step()
        form.editing = False
        if following is None:
            self.finish(form)
        else:
            form.step = following
        await self.before_commit(form, step, before)
        if not await self.commit(form, expected):
            return self.stale(t)
        return await self.after_step(form, step, actor, before)

    async def back(self, actor: Actor, data: FormCard) -> TurnResult:
        return await self.run(actor, data, self._back)

    async def _back(self, form: F, actor: Actor, data: FormCard) -> TurnResult:
        t = actor.texts
        previous = form.previous_step()
        if previous is None:
            return TurnResult.say(t("notices.unknown_action"))
        expected, title = form.version, t(f"steps.{form.step}.title")
        # Editing one step from the review: "back" leads back to the review.
        form.step = (form.SEQUENCE.after_last or previous) if form.editing else previous
        form.editing = False
        if not await self.commit(form, expected):
            return self.stale(t)
        return TurnResult(
            replace=self.screens.answered(title, t("common.went_back")),
            replies=[Reply(card=await self.card(form, t))],
        )

    async def later(self, actor: Actor, data: FormCard) -> TurnResult:
        return await self.run(actor, data, self._later)

    async def _later(self, form: F, actor: Actor, data: FormCard) -> TurnResult:
        t = actor.texts
        return TurnResult(
            replace=self.screens.answered(t(f"steps.{form.step}.title"), t("common.paused")),
            replies=[Reply(text=t("notices.paused"))],
        )
