"""The manager's guided dialogue: employee → T1–T4 → weighing → outcome → review → agreement.

Every card submit is checked before anything changes: it must name a dialogue this manager
owns, that dialogue must be open, and the card's step and version must be the current ones.
Anything else is answered politely and changes nothing. A valid submit is committed (with a
compare-and-set on the version) before the bot answers.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from core.agreement import build_record
from core.dialogue import CANCELLED, CONCLUDED, Dialogue
from core.fields import REVIEW, STEP_IDS, STEPS_BY_ID
from core.texts import Texts
from core.validation import validate_step
from dialogs.screens import Screens, employee_display
from dialogs.turn import Actor, Reply, TurnResult
from store.dialogues import DialogueStore

log = logging.getLogger(__name__)

DIALOGUE_VERBS = ("next", "back", "later", "cancel", "edit", "conclude")
_MAX_ID = 64

Handler = Callable[[Dialogue, Actor, dict[str, Any]], Awaitable[TurnResult]]


class ManagerDialogue:
    def __init__(self, store: DialogueStore, screens: Screens, today: Callable[[], date]) -> None:
        self.store = store
        self.screens = screens
        self.today = today
        self._verbs: dict[str, Handler] = {
            "next": self._next,
            "back": self._back,
            "later": self._later,
            "cancel": self._cancel,
            "edit": self._edit,
            "conclude": self._conclude,
        }

    # --- commands -------------------------------------------------------------------------

    async def start(self, actor: Actor) -> TurnResult:
        dialogue = Dialogue(
            id=uuid.uuid4().hex,
            manager_id=actor.user_id,
            manager_name=actor.name,
            locale=actor.locale,
        )
        await self.store.create(dialogue)
        log.info("dialogue started", extra={"dialogue": dialogue.id})
        return TurnResult(
            replies=[Reply(card=self.screens.step(dialogue, actor.texts))], dialogue_id=dialogue.id
        )

    async def _open_dialogue(self, actor: Actor, preferred_id: str | None) -> Dialogue | None:
        if preferred_id:
            dialogue = await self.store.get(preferred_id)
            if dialogue and dialogue.is_open and dialogue.manager_id == actor.user_id:
                return dialogue
        return await self.store.latest_open(actor.user_id)

    async def resume(self, actor: Actor, preferred_id: str | None = None) -> TurnResult:
        t = actor.texts
        dialogue = await self._open_dialogue(actor, preferred_id)
        if dialogue is None:
            return TurnResult.say(t("commands.nothing_to_continue"))
        return TurnResult(
            replies=[
                Reply(text=t("commands.continue_intro", employee=employee_display(dialogue, t))),
                Reply(card=self.screens.step(dialogue, t)),
            ],
            dialogue_id=dialogue.id,
        )

    async def cancel_open(self, actor: Actor, preferred_id: str | None = None) -> TurnResult:
        t = actor.texts
        dialogue = await self._open_dialogue(actor, preferred_id)
        if dialogue is None:
            return TurnResult.say(t("commands.nothing_to_cancel"))
        return await self._cancel(dialogue, actor, {})

    async def status(self, actor: Actor) -> TurnResult:
        t = actor.texts
        dialogues = await self.store.for_manager(actor.user_id)
        open_ones = [d for d in dialogues if d.is_open]
        agreements = await self.store.agreements_for_manager(actor.user_id)
        latest = open_ones[0] if open_ones else None
        card = self.screens.status(
            t, open_ones, agreements, {"verb": "continue"} if latest else None
        )
        return TurnResult.show(card)

    # --- card submits ---------------------------------------------------------------------

    async def on_submit(self, actor: Actor, data: dict[str, Any]) -> TurnResult:
        t = actor.texts
        verb = data.get("verb")
        dialogue_id, step, version = data.get("dialogue_id"), data.get("step"), data.get("version")
        if (
            verb not in self._verbs
            or not isinstance(dialogue_id, str)
            or len(dialogue_id) > _MAX_ID
            or step not in STEP_IDS
            or not isinstance(version, int)
            or isinstance(version, bool)
        ):
            log.warning("card submit refused: malformed envelope")
            return TurnResult.say(t("notices.unknown_action"))
        dialogue = await self.store.get(dialogue_id)
        if dialogue is None or dialogue.manager_id != actor.user_id:
            log.warning("card submit refused: not the dialogue's manager")
            return TurnResult.say(t("notices.not_yours"))
        if not dialogue.is_open:
            return TurnResult.say(t("notices.closed"))
        if step != dialogue.step or version != dialogue.version:
            log.info("card submit ignored: stale", extra={"dialogue": dialogue.id})
            return TurnResult.say(t("notices.stale"))
        result = await self._verbs[verb](dialogue, actor, data)
        result.dialogue_id = dialogue.id
        return result

    async def _commit(self, dialogue: Dialogue, expected_version: int) -> bool:
        dialogue.version = expected_version + 1
        return await self.store.save(dialogue, expected_version)

    def _stale(self, t: Texts) -> TurnResult:
        return TurnResult.say(t("notices.stale"))

    async def _next(self, dialogue: Dialogue, actor: Actor, data: dict[str, Any]) -> TurnResult:
        t = actor.texts
        if dialogue.step == REVIEW:
            return TurnResult.say(t("notices.unknown_action"))
        step = STEPS_BY_ID[dialogue.step]
        values, errors = validate_step(step, data, self.today())
        if errors:
            shown = {**dialogue.answers.get(step.id, {}), **values}
            return TurnResult(replies=[Reply(card=self.screens.step(dialogue, t, shown, errors))])
        expected = dialogue.version
        answered_step = step.id
        dialogue.answers[step.id] = values
        if step.id == "employee":
            self._set_employee(dialogue, values["employee"])
        dialogue.step = dialogue.next_step()
        dialogue.editing = False
        if not await self._commit(dialogue, expected):
            return self._stale(t)
        return TurnResult(
            replace=self.screens.answered_step(dialogue, answered_step, t),
            replies=[Reply(card=self.screens.step(dialogue, t))],
        )

    def _set_employee(self, dialogue: Dialogue, value: str) -> None:
        if self.screens.people_picker:
            dialogue.employee_id, dialogue.employee_name = value, None
        else:
            dialogue.employee_id, dialogue.employee_name = None, value

    async def _back(self, dialogue: Dialogue, actor: Actor, data: dict[str, Any]) -> TurnResult:
        t = actor.texts
        previous = dialogue.previous_step()
        if previous is None:
            return TurnResult.say(t("notices.unknown_action"))
        expected, title = dialogue.version, t(f"steps.{dialogue.step}.title")
        dialogue.step, dialogue.editing = previous, False
        if not await self._commit(dialogue, expected):
            return self._stale(t)
        return TurnResult(
            replace=self.screens.answered(title, t("common.went_back")),
            replies=[Reply(card=self.screens.step(dialogue, t))],
        )

    async def _later(self, dialogue: Dialogue, actor: Actor, data: dict[str, Any]) -> TurnResult:
        t = actor.texts
        return TurnResult(
            replace=self.screens.answered(t(f"steps.{dialogue.step}.title"), t("common.paused")),
            replies=[Reply(text=t("notices.paused"))],
        )

    async def _cancel(self, dialogue: Dialogue, actor: Actor, data: dict[str, Any]) -> TurnResult:
        t = actor.texts
        expected, title = dialogue.version, t(f"steps.{dialogue.step}.title")
        dialogue.state = CANCELLED
        if not await self._commit(dialogue, expected):
            return self._stale(t)
        log.info("dialogue cancelled", extra={"dialogue": dialogue.id})
        return TurnResult(
            replace=self.screens.answered(title, t("review.cancelled")),
            replies=[Reply(text=t("commands.cancelled", employee=employee_display(dialogue, t)))],
        )

    async def _edit(self, dialogue: Dialogue, actor: Actor, data: dict[str, Any]) -> TurnResult:
        t = actor.texts
        target = data.get("edit_step")
        if dialogue.step != REVIEW or not isinstance(target, str) or not dialogue.can_edit(target):
            return TurnResult.say(t("notices.unknown_action"))
        expected = dialogue.version
        dialogue.step, dialogue.editing = target, True
        if not await self._commit(dialogue, expected):
            return self._stale(t)
        return TurnResult(
            replace=self.screens.answered(t("steps.review.title"), t(f"steps.{target}.title")),
            replies=[Reply(card=self.screens.step(dialogue, t))],
        )

    async def _conclude(self, dialogue: Dialogue, actor: Actor, data: dict[str, Any]) -> TurnResult:
        t = actor.texts
        if dialogue.step != REVIEW or any(s not in dialogue.answers for s in STEPS_BY_ID):
            return TurnResult.say(t("notices.unknown_action"))
        expected = dialogue.version
        dialogue.version = expected + 1
        record = build_record(
            dialogue, version=1, state=CONCLUDED, concluded_at=self.today().isoformat()
        )
        if not await self.store.conclude(dialogue, expected, record):
            return self._stale(t)
        log.info("agreement stored", extra={"dialogue": dialogue.id})
        return TurnResult(
            replace=self.screens.answered(t("steps.review.title"), t("review.approved")),
            replies=[
                Reply(card=self.screens.agreement(record, t)),
                Reply(text=t("notices.stored", employee=employee_display(dialogue, t))),
            ],
        )
