"""The manager's guided dialogue: employee → T1–T4 → weighing → outcome → review → agreement.

Every card submit is checked before anything changes: it must name a dialogue this manager
owns, that dialogue must be open, and the card's step and version must be the current ones.
Anything else is answered politely and changes nothing. A valid submit is committed (with a
compare-and-set on the version) before the bot answers.

Choosing the employee sends them an invitation to the self-check; concluding sends them the
agreement to confirm. When they cannot be reached, the manager is told what to do.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from core.agreement import build_record
from core.dialogue import AWAITING_EMPLOYEE, CANCELLED, DISPUTED, IN_PROGRESS, Dialogue
from core.fields import REVIEW, STEP_IDS, STEPS_BY_ID, Step
from core.texts import Texts, texts_for
from core.validation import FieldError, is_entra_id, validate_step
from dialogs.screens import Screens, employee_display, flag_keys
from dialogs.turn import Actor, Notify, Reply, TurnResult
from store.conversations import ConversationStore
from store.database import utc_now
from store.dialogues import DialogueStore
from store.self_checks import SelfCheckStore

log = logging.getLogger(__name__)

#: The manager's card verbs; each has a handler ``_<verb>`` below.
DIALOGUE_VERBS = ("next", "back", "later", "cancel", "edit", "conclude", "revise")
_MAX_ID = 64

Handler = Callable[[Dialogue, Actor, dict[str, Any]], Awaitable[TurnResult]]


class ManagerDialogue:
    def __init__(
        self,
        store: DialogueStore,
        self_checks: SelfCheckStore,
        people: ConversationStore,
        screens: Screens,
        today: Callable[[], date],
    ) -> None:
        self.store = store
        self.self_checks = self_checks
        self.people = people
        self.screens = screens
        self.today = today
        self._verbs: dict[str, Handler] = {
            verb: getattr(self, f"_{verb}") for verb in DIALOGUE_VERBS
        }

    # --- commands -------------------------------------------------------------------------

    async def start(self, actor: Actor) -> TurnResult:
        """A new dialogue; an untouched one (nothing answered yet) is reused, so pressing
        Start twice does not leave empty dialogues behind."""
        untouched = await self.store.latest_open(actor.user_id)
        if untouched is not None and not untouched.answers and untouched.version == 1:
            return TurnResult(
                replies=[Reply(card=await self.card(untouched, actor.texts))],
                dialogue_id=untouched.id,
            )
        dialogue = Dialogue(
            id=uuid.uuid4().hex,
            manager_id=actor.user_id,
            manager_name=actor.name,
            locale=actor.locale,
        )
        await self.store.create(dialogue)
        log.info("dialogue started", extra={"dialogue": dialogue.id})
        return TurnResult(
            replies=[Reply(card=await self.card(dialogue, actor.texts))], dialogue_id=dialogue.id
        )

    async def card(
        self,
        dialogue: Dialogue,
        t: Texts,
        values: dict[str, Any] | None = None,
        errors: list | None = None,
    ) -> dict[str, Any]:
        """The manager's card for the dialogue's current step, with the employee's self-check."""
        check = await self.self_checks.latest_done(dialogue.employee_id)
        return self.screens.step(dialogue, t, values, errors, check)

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
                Reply(card=await self.card(dialogue, t)),
            ],
            dialogue_id=dialogue.id,
        )

    async def cancel_open(self, actor: Actor, preferred_id: str | None = None) -> TurnResult:
        t = actor.texts
        dialogue = await self._open_dialogue(actor, preferred_id)
        if dialogue is None:
            return TurnResult.say(t("commands.nothing_to_cancel"))
        return TurnResult(
            replies=[Reply(card=self.screens.cancel_question(dialogue, t))], dialogue_id=dialogue.id
        )

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
        if not dialogue.is_open and not (verb == "revise" and dialogue.state == DISPUTED):
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
        values, errors = validate_step(step, data, self.today(), dialogue.answers)
        if not errors and step.id == "employee" and self.screens.people_picker:
            errors = (
                [] if is_entra_id(values["employee"]) else [FieldError("employee", "not_a_person")]
            )
        if errors:
            # The same card again, with what was valid kept and the errors on top, in place.
            shown = {**dialogue.answers.get(step.id, {}), **values}
            return TurnResult(replace=await self.card(dialogue, t, shown, errors))
        expected = dialogue.version
        previous_employee = dialogue.answers.get("employee", {}).get("employee")
        dialogue.answers[step.id] = values
        new_employee = step.id == "employee" and values["employee"] != previous_employee
        if new_employee:
            await self._set_employee(dialogue, values["employee"])
        dialogue.step = dialogue.next_step()
        dialogue.editing = False
        if not await self._commit(dialogue, expected):
            return self._stale(t)
        result = TurnResult(
            replace=self.screens.answered_step(dialogue.answers, step, t),
            replies=[Reply(card=await self.card(dialogue, t))],
        )
        if new_employee:
            result.notify.append(self._invitation(dialogue, t))
        return result

    async def _set_employee(self, dialogue: Dialogue, value: str) -> None:
        """Teams' people picker gives the Entra object id; a typed name is looked up among the
        people who have talked with the bot, and used when exactly one has that name."""
        if self.screens.people_picker:
            dialogue.employee_id, dialogue.employee_name = value, None
            return
        matches = await self.people.users_named(value)
        dialogue.employee_name = value
        dialogue.employee_id = matches.pop() if len(matches) == 1 else None

    def _invitation(self, dialogue: Dialogue, t: Texts) -> Notify:
        employee = employee_display(dialogue, t)
        return Notify(
            dialogue.employee_id,
            [Reply(card=self.screens.invitation(dialogue, t))],
            if_unreachable=t("notices.invite_unreachable", employee=employee),
            if_reached=t("notices.invited", employee=employee),
        )

    async def _back(self, dialogue: Dialogue, actor: Actor, data: dict[str, Any]) -> TurnResult:
        t = actor.texts
        previous = dialogue.previous_step()
        if previous is None:
            return TurnResult.say(t("notices.unknown_action"))
        expected, title = dialogue.version, t(f"steps.{dialogue.step}.title")
        # Editing one topic from the review: "back" leads back to the review.
        dialogue.step = REVIEW if dialogue.editing else previous
        dialogue.editing = False
        if not await self._commit(dialogue, expected):
            return self._stale(t)
        return TurnResult(
            replace=self.screens.answered(title, t("common.went_back")),
            replies=[Reply(card=await self.card(dialogue, t))],
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
            replies=[Reply(card=await self.card(dialogue, t))],
        )

    async def _conclude(self, dialogue: Dialogue, actor: Actor, data: dict[str, Any]) -> TurnResult:
        t = actor.texts
        if dialogue.step != REVIEW or any(s not in dialogue.answers for s in STEPS_BY_ID):
            return TurnResult.say(t("notices.unknown_action"))
        problem = self._first_invalid_step(dialogue)
        if problem is not None:
            # E.g. a follow-up date that has passed while the review waited: fix that step.
            step, errors = problem
            expected = dialogue.version
            dialogue.step, dialogue.editing = step.id, True
            if not await self._commit(dialogue, expected):
                return self._stale(t)
            card = await self.card(dialogue, t, dialogue.answers.get(step.id, {}), errors)
            return TurnResult(
                replace=self.screens.answered(t("steps.review.title"), t("errors.intro")),
                replies=[Reply(card=card)],
            )
        expected = dialogue.version
        dialogue.version = expected + 1
        dialogue.agreement_version += 1
        check = await self.self_checks.latest_done(dialogue.employee_id)
        record = build_record(
            dialogue,
            version=dialogue.agreement_version,
            state=AWAITING_EMPLOYEE,
            concluded_at=utc_now(),
            self_check_flags=flag_keys(check),
        )
        if not await self.store.conclude(dialogue, expected, record):
            return self._stale(t)
        log.info("agreement stored", extra={"dialogue": dialogue.id, "version": record["version"]})
        return TurnResult(
            replace=self.screens.answered(t("steps.review.title"), t("review.concluded")),
            replies=[Reply(card=self.screens.agreement(record, t, check))],
            # The employee's language is not known until they write: the dialogue's is used.
            notify=[self.confirmation_request(dialogue, record, texts_for(dialogue.locale), t)],
        )

    def _first_invalid_step(self, dialogue: Dialogue) -> tuple[Step, list[FieldError]] | None:
        """Every stored step checked again, as on the day the agreement is concluded."""
        for step in STEPS_BY_ID.values():
            _, errors = validate_step(
                step, dialogue.answers[step.id], self.today(), dialogue.answers
            )
            if errors:
                return step, errors
        return None

    def confirmation_request(
        self, dialogue: Dialogue, record: dict[str, Any], to_employee: Texts, to_manager: Texts
    ) -> Notify:
        """The agreement, sent to the employee with the buttons to confirm or disagree."""
        envelope = {"dialogue_id": dialogue.id, "version": dialogue.version, "step": dialogue.step}
        card = self.screens.agreement(
            record, to_employee, confirm=envelope, intro=to_employee("notices.awaiting_intro")
        )
        employee = employee_display(dialogue, to_manager)
        return Notify(
            dialogue.employee_id,
            [Reply(card=card)],
            if_unreachable=to_manager("notices.confirm_unreachable", employee=employee),
            if_reached=to_manager("notices.sent_for_confirmation", employee=employee),
        )

    async def _revise(self, dialogue: Dialogue, actor: Actor, data: dict[str, Any]) -> TurnResult:
        """After a dispute: reopen the dialogue at the review for a new agreement version."""
        t = actor.texts
        if dialogue.state != DISPUTED:
            return TurnResult.say(t("notices.closed"))
        expected = dialogue.version
        dialogue.state, dialogue.step, dialogue.editing = IN_PROGRESS, REVIEW, False
        if not await self._commit(dialogue, expected):
            return self._stale(t)
        return TurnResult(
            replace=self.screens.answered(t("dispute.title"), t("dispute.button")),
            replies=[
                Reply(text=t("notices.revise_intro", employee=employee_display(dialogue, t))),
                Reply(card=await self.card(dialogue, t)),
            ],
        )
