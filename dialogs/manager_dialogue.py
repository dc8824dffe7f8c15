"""The manager's guided dialogue: employee → T1–T4 → weighing → outcome → review → agreement.

Next, back and later are the shared step machine's (dialogs/step_flow.py); here are the
manager's own verbs: cancel, edit a step from the review, conclude, and revise after a
dispute. Choosing the employee sends them an invitation to the self-check; concluding sends
them the agreement to confirm. When they cannot be reached, the manager is told what to do.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from cards.screens import AgreementParts, Screens, employee_display, flag_keys
from core.access import AS_MANAGER
from core.action_items import chosen_due, item_actions
from core.agreement import build_record
from core.answers import AgreementRecord, StepAnswers
from core.dialogue import (
    AWAITING_EMPLOYEE,
    CANCELLED,
    CONFIRMED,
    DISPUTED,
    IN_PROGRESS,
    SEQUENCE,
    Dialogue,
)
from core.fields import REVIEW, Step
from core.rules import evaluate
from core.texts import Texts, texts_for
from core.validation import FieldError, is_entra_id, validate_step
from dialogs.access import Access, DirectoryUnavailable
from dialogs.card_data import DialogueCard, EditCard, Pointed
from dialogs.people import SEVERAL, People, Person
from dialogs.step_flow import StepFlow
from dialogs.turn import Actor, Notify, Reply, TurnResult
from store.conversations import ConversationStore
from store.database import utc_now
from store.dialogues import DialogueStore
from store.self_checks import SelfCheckStore

log = logging.getLogger(__name__)


class ManagerDialogue(StepFlow[Dialogue]):
    name = "dialogue"

    def __init__(
        self,
        store: DialogueStore,
        self_checks: SelfCheckStore,
        people: ConversationStore,
        screens: Screens,
        today: Callable[[], date],
        access: Access,
    ) -> None:
        super().__init__(store, screens, today)
        self.store: DialogueStore = store
        self.self_checks = self_checks
        self.people = people
        self.access = access
        self.people_named = People(people, access)

    # --- the flow ---------------------------------------------------------------------------

    def owns(self, form: Dialogue, actor: Actor) -> bool:
        return form.manager_id == actor.user_id

    def pointer(self, form: Dialogue) -> str | None:
        return form.id

    def accepts(self, form: Dialogue, verb: str) -> bool:
        return form.is_open or (verb == "revise" and form.state == DISPUTED)

    async def card(
        self,
        form: Dialogue,
        t: Texts,
        values: dict[str, Any] | None = None,
        errors: list[FieldError] | None = None,
    ) -> dict[str, Any]:
        """The manager's card for the dialogue's current step, with the employee's self-check."""
        check = await self.self_checks.latest_done(form.employee_id)
        in_force = await self.in_force(form) if form.step == REVIEW else None
        return self.screens.step(form, t, values, errors, check, in_force)

    def extra_errors(self, form: Dialogue, step: Step, values: dict[str, Any]) -> list[FieldError]:
        if step.id == "employee" and self.screens.people_picker:
            if not is_entra_id(values["employee"]):
                return [FieldError("employee", "not_a_person")]
        return []

    async def access_errors(
        self, form: Dialogue, step: Step, values: dict[str, Any], actor: Actor
    ) -> list[FieldError]:
        """The chosen employee must be one the manager leads (dialogs/access.py), checked
        before the dialogue stores them or the employee hears of it. A typed name the bot does
        not know is looked up in Entra ID (dialogs/people.py); the person found is the
        dialogue's employee, so the step is not looked up twice."""
        if step.id != "employee" or not self.access.on:
            return []
        try:
            chosen = await self._chosen(values["employee"])
            if isinstance(chosen, str):
                problem = "several_people" if chosen == SEVERAL else "unknown_person"
                return [FieldError("employee", problem)]
            reason = await self.access.leads(actor.user_id, chosen.user_id)
        except DirectoryUnavailable as error:
            log.warning("employee choice refused: the directory did not answer (%s)", error)
            return [FieldError("employee", "access_unavailable")]
        if reason is None:
            log.warning("employee choice refused: not the employee's manager")
            return [FieldError("employee", "not_your_employee")]
        if reason != AS_MANAGER:
            log.info("dialogue led by someone other than the manager", extra={"as": reason})
        previous = form.answers.employee
        if previous is None or previous.employee != values["employee"]:
            form.employee_id = chosen.user_id
            form.employee_name = None if self.screens.people_picker else chosen.name
        return []

    async def before_commit(self, form: Dialogue, step: Step, before: StepAnswers | None) -> None:
        # With the checks on, access_errors has set the employee already.
        chosen = form.answers.employee
        if self._new_employee(form, step, before) and chosen is not None and not self.access.on:
            await self._set_employee(form, chosen.employee)
        if step.id == "employee":
            await self.set_unit(form)

    @staticmethod
    def _new_employee(form: Dialogue, step: Step, before: StepAnswers | None) -> bool:
        chosen = form.answers.employee
        previous = getattr(before, "employee", None)
        return step.id == "employee" and chosen is not None and chosen.employee != previous

    async def after_step(
        self, form: Dialogue, step: Step, actor: Actor, before: StepAnswers | None
    ) -> TurnResult:
        result = await super().after_step(form, step, actor, before)
        if self._new_employee(form, step, before):
            result.notify.append(self._invitation(form, actor.texts))
        return result

    async def _set_employee(self, dialogue: Dialogue, value: str) -> None:
        """Without the checks (local mode): Teams' people picker gives the Entra object id; a
        typed name is used when exactly one person who has talked with the bot has it."""
        chosen = await self._chosen(value)
        dialogue.employee_id = chosen.user_id if isinstance(chosen, Person) else None
        dialogue.employee_name = None if self.screens.people_picker else value

    async def set_unit(self, dialogue: Dialogue) -> None:
        """The employee's unit, for the anonymous overview: the department the directory
        names (cached, when the access check asked already); where it names none (local mode,
        no department in Entra ID, or Graph cannot tell) the unit the manager wrote on the
        first card. The dialogue goes on either way, since the unit is only counted."""
        directory = self.access.directory
        name = None
        if directory is not None and dialogue.employee_id is not None:
            try:
                name = await directory.unit_of(dialogue.employee_id)
            except DirectoryUnavailable:
                log.warning("the employee's unit is not known: the directory did not answer")
        if not name and dialogue.answers.employee is not None:
            name = (dialogue.answers.employee.unit or "").strip() or None
        dialogue.unit_name = name
        dialogue.unit = name.strip().casefold() if name else None

    async def _chosen(self, value: str) -> Person | str:
        """The person from the people picker, or the one person the typed name names."""
        if self.screens.people_picker:
            return Person(value, value)
        return await self.people_named.named(value)

    def _invitation(self, dialogue: Dialogue, t: Texts) -> Notify:
        employee = employee_display(dialogue, t)
        return Notify(
            dialogue.employee_id,
            [Reply(card=self.screens.invitation(dialogue, t))],
            if_unreachable=t("notices.invite_unreachable", employee=employee),
            if_reached=t("notices.invited", employee=employee),
        )

    # --- commands ---------------------------------------------------------------------------

    async def start(self, actor: Actor, data: Any = None) -> TurnResult:
        """A new dialogue; an untouched one (nothing answered yet) is reused, so pressing
        Start twice does not leave empty dialogues behind."""
        untouched = await self.store.latest_open(actor.user_id)
        if untouched is not None and untouched.answers.is_empty() and untouched.version == 1:
            dialogue = untouched
        else:
            new = Dialogue(
                id=uuid.uuid4().hex,
                manager_id=actor.user_id,
                manager_name=actor.name,
                locale=actor.locale,
            )
            # A second press of Start that arrived at the same time gets the same dialogue.
            dialogue = await self.store.create(new)
            if dialogue is new:
                log.info("dialogue started", extra={"dialogue": dialogue.id})
        return TurnResult(
            replies=[Reply(card=await self.card(dialogue, actor.texts))], dialogue_id=dialogue.id
        )

    async def _open_dialogue(self, actor: Actor, preferred_id: str | None) -> Dialogue | None:
        if preferred_id:
            dialogue = await self.store.get(preferred_id)
            if dialogue and dialogue.is_open and dialogue.manager_id == actor.user_id:
                return dialogue
        return await self.store.latest_open(actor.user_id)

    async def resume(self, actor: Actor, data: Pointed) -> TurnResult:
        t = actor.texts
        dialogue = await self._open_dialogue(actor, data.dialogue_id)
        if dialogue is None:
            return TurnResult.say(t("commands.nothing_to_continue"))
        return TurnResult(
            replies=[
                Reply(text=t("commands.continue_intro", employee=employee_display(dialogue, t))),
                Reply(card=await self.card(dialogue, t)),
            ],
            dialogue_id=dialogue.id,
        )

    async def cancel_open(self, actor: Actor, data: Pointed) -> TurnResult:
        t = actor.texts
        dialogue = await self._open_dialogue(actor, data.dialogue_id)
        if dialogue is None:
            return TurnResult.say(t("commands.nothing_to_cancel"))
        return TurnResult(
            replies=[Reply(card=self.screens.cancel_question(dialogue, t))], dialogue_id=dialogue.id
        )

    # --- the manager's own verbs ------------------------------------------------------------

    async def cancel(self, actor: Actor, data: DialogueCard) -> TurnResult:
        return await self.run(actor, data, self._cancel)

    async def _cancel(self, dialogue: Dialogue, actor: Actor, data: DialogueCard) -> TurnResult:
        t = actor.texts
        expected, title = dialogue.version, t(f"steps.{dialogue.step}.title")
        if dialogue.is_renewal:
            return await self._cancel_renewal(dialogue, expected, title, t)
        dialogue.state = CANCELLED
        if not await self.commit(dialogue, expected):
            return self.stale(t)
        log.info("dialogue cancelled", extra={"dialogue": dialogue.id})
        return TurnResult(
            replace=self.screens.answered(title, t("review.cancelled")),
            replies=[Reply(text=t("commands.cancelled", employee=employee_display(dialogue, t)))],
        )

    async def _cancel_renewal(
        self, dialogue: Dialogue, expected: int, title: str, t: Texts
    ) -> TurnResult:
        """A follow-up that is given up: the agreement in force stays, with its answers."""
        in_force = await self.store.agreement(dialogue.id, dialogue.in_force_version)
        assert in_force is not None, "the version in force is stored"
        dialogue.answers = in_force.answers.model_copy(deep=True)
        dialogue.state, dialogue.step, dialogue.editing = CONFIRMED, REVIEW, False
        dialogue.reopen_reason = None
        if not await self.commit(dialogue, expected):
            return self.stale(t)
        log.info("follow-up cancelled", extra={"dialogue": dialogue.id})
        return TurnResult(
            replace=self.screens.answered(title, t("review.cancelled")),
            replies=[Reply(text=t("follow_up.cancelled", version=in_force.version))],
        )

    async def edit(self, actor: Actor, data: EditCard) -> TurnResult:
        return await self.run(actor, data, self._edit)

    async def _edit(self, dialogue: Dialogue, actor: Actor, data: EditCard) -> TurnResult:
        t = actor.texts
        target = data.edit_step
        if dialogue.step == REVIEW and target in (None, ""):
            return TurnResult.say(t("review.edit_error"))  # the button without a step chosen
        if dialogue.step != REVIEW or not isinstance(target, str) or not dialogue.can_edit(target):
            return TurnResult.say(t("notices.unknown_action"))
        expected = dialogue.version
        dialogue.step, dialogue.editing = target, True
        if not await self.commit(dialogue, expected):
            return self.stale(t)
        return TurnResult(
            replace=self.screens.answered(t("steps.review.title"), t(f"steps.{target}.title")),
            replies=[Reply(card=await self.card(dialogue, t))],
        )

    async def conclude(self, actor: Actor, data: DialogueCard) -> TurnResult:
        return await self.run(actor, data, self._conclude)

    async def _conclude(self, dialogue: Dialogue, actor: Actor, data: DialogueCard) -> TurnResult:
        t = actor.texts
        if dialogue.step != REVIEW or not dialogue.is_complete():
            return TurnResult.say(t("notices.unknown_action"))
        problem = self._first_invalid_step(dialogue)
        if problem is not None:
            # E.g. a follow-up date that has passed while the review waited: fix that step.
            step, errors = problem
            expected = dialogue.version
            dialogue.step, dialogue.editing = step.id, True
            if not await self.commit(dialogue, expected):
                return self.stale(t)
            card = await self.card(dialogue, t, dialogue.answers.values(step.id), errors)
            return TurnResult(
                replace=self.screens.answered(t("steps.review.title"), t("errors.intro")),
                replies=[Reply(card=card)],
            )
        check = await self.self_checks.latest_done(dialogue.employee_id)
        hits = evaluate(dialogue.answers, flag_keys(check))
        due = chosen_due(item_actions(hits, dialogue.answers), data.inputs, self.today())
        if due is None:  # a deadline in the past, too far ahead, or not a date
            # The review again, its deadlines counted from today (the card may be days old).
            return TurnResult(
                replies=[
                    Reply(text=t("review.due_error")),
                    Reply(card=await self.card(dialogue, t)),
                ]
            )
        expected = dialogue.version
        dialogue.version = expected + 1
        dialogue.agreement_version += 1
        record = build_record(
            dialogue,
            version=dialogue.agreement_version,
            state=AWAITING_EMPLOYEE,
            concluded_at=utc_now(),
            self_check_flags=flag_keys(check),
            due=due,
        )
        if not await self.store.conclude(dialogue, expected, record):
            return self.stale(t)
        log.info("agreement stored", extra={"dialogue": dialogue.id, "version": record.version})
        # The manager's copy and the employee's request show the same version: built once.
        parts = self.screens.agreement_parts(record, t)
        return TurnResult(
            replace=self.screens.answered(t("steps.review.title"), t("review.concluded")),
            replies=[Reply(card=self.screens.agreement(record, t, check, parts=parts))],
            # The employee's language is not known until they write: the dialogue's is used.
            notify=[
                self.confirmation_request(
                    dialogue,
                    record,
                    texts_for(dialogue.locale),
                    t,
                    await self.in_force(dialogue),
                    parts,
                )
            ],
        )

    def _first_invalid_step(self, dialogue: Dialogue) -> tuple[Step, list[FieldError]] | None:
        """Every stored step checked again, as on the day the agreement is concluded."""
        for step in SEQUENCE.steps:
            values = dialogue.answers.values(step.id)
            _, errors = validate_step(step, values, self.today(), dialogue.answers)
            if errors:
                return step, errors
        return None

    async def in_force(self, dialogue: Dialogue) -> AgreementRecord | None:
        """The confirmed version a follow-up works from (None: not a follow-up)."""
        if not dialogue.is_renewal:
            return None
        return await self.store.agreement(dialogue.id, dialogue.in_force_version)

    def confirmation_request(
        self,
        dialogue: Dialogue,
        record: AgreementRecord,
        to_employee: Texts,
        to_manager: Texts,
        in_force: AgreementRecord | None = None,
        parts: AgreementParts | None = None,
    ) -> Notify:
        """The agreement, sent to the employee with the buttons to confirm or disagree; a new
        version of an agreement in force lists what changed since that version. ``parts``:
        those of the manager's card of the version, when it is built in the same turn."""
        envelope = {"dialogue_id": dialogue.id, "version": dialogue.version, "step": dialogue.step}
        intro = to_employee("notices.awaiting_intro")
        if record.replaces_version:
            intro = to_employee("follow_up.awaiting_intro", version=record.replaces_version)
        if record.decision == "not_approved":  # plainly what happens now, and what next
            when = (
                to_employee(
                    "notices.new_assessment_from",
                    date=self.screens.day(record.follow_up_date, to_employee),
                )
                if record.follow_up_date
                else to_employee("notices.new_assessment_any_time")
            )
            intro = to_employee("notices.awaiting_not_approved_intro", when=when)
        card = self.screens.agreement(
            record, to_employee, confirm=envelope, intro=intro, in_force=in_force, parts=parts
        )
        employee = employee_display(dialogue, to_manager)
        return Notify(
            dialogue.employee_id,
            [Reply(card=card)],
            if_unreachable=to_manager("notices.confirm_unreachable", employee=employee),
            if_reached=to_manager("notices.sent_for_confirmation", employee=employee),
        )

    async def revise(self, actor: Actor, data: DialogueCard) -> TurnResult:
        """After a dispute: reopen the dialogue at the review for a new agreement version."""
        return await self.run(actor, data, self._revise)

    async def _revise(self, dialogue: Dialogue, actor: Actor, data: DialogueCard) -> TurnResult:
        t = actor.texts
        if dialogue.state != DISPUTED:
            return TurnResult.say(t("notices.closed"))
        expected = dialogue.version
        dialogue.state, dialogue.step, dialogue.editing = IN_PROGRESS, REVIEW, False
        if not await self.commit(dialogue, expected):
            return self.stale(t)
        return TurnResult(
            replace=self.screens.answered(t("dispute.title"), t("dispute.button")),
            replies=[
                Reply(text=t("notices.revise_intro", employee=employee_display(dialogue, t))),
                Reply(card=await self.card(dialogue, t)),
            ],
        )
