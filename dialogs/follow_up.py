"""Follow-up and renewal of a confirmed agreement.

From its follow-up date on (or once the employee has asked for it), the manager can follow
an agreement up ("Følg op"); at any time they can reopen it with a reason. Either way the dialogue gets a new version prefilled from
the version in force and opens at the review, where the manager edits only the topics that
changed (the step machine's "edit from the review") and sees what changed since the version
in force. The confirmed version stays in force until the employee confirms the new one.

The employee can ask for a new conversation about an agreement in force, with an optional
comment: the manager gets a card whose button starts the follow-up (with the access checks
on, only while Entra ID still names them as one who leads the employee). Every button here is
checked against the dialogue's version, so a replayed or doubled press is told politely that
the follow-up has started and changes nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from cards.screens import Screens, employee_display
from core.dialogue import CONFIRMED, IN_PROGRESS, Dialogue
from core.fields import NOTE_MAX, REVIEW
from core.requests import COMMENT_MAX, FOLLOW_UP, ConversationRequest
from core.texts import Texts, texts_for
from dialogs.access import DirectoryUnavailable
from dialogs.card_data import AskCard, FollowUpCard
from dialogs.manager_dialogue import ManagerDialogue
from dialogs.turn import Actor, Notify, Reply, TurnResult
from store.dialogues import DialogueStore
from store.requests import RequestStore

log = logging.getLogger(__name__)


def _text(raw: object) -> str:
    return raw.strip() if isinstance(raw, str) else ""


class FollowUp:
    def __init__(
        self,
        dialogues: DialogueStore,
        requests: RequestStore,
        manager: ManagerDialogue,
        screens: Screens,
        today: Callable[[], date],
    ) -> None:
        self.dialogues = dialogues
        self.requests = requests
        self.manager = manager
        self.screens = screens
        self.today = today

    # --- the manager --------------------------------------------------------------------

    async def follow_up(self, actor: Actor, data: FollowUpCard) -> TurnResult:
        return await self._renew(actor, data, None)

    async def reopen(self, actor: Actor, data: FollowUpCard) -> TurnResult:
        reason = _text(data.reason)
        if not reason or len(reason) > NOTE_MAX:
            return TurnResult.say(actor.texts("follow_up.reason_needed"))
        return await self._renew(actor, data, reason)

    async def _renew(self, actor: Actor, data: FollowUpCard, reason: str | None) -> TurnResult:
        t = actor.texts
        dialogue = await self.dialogues.get(data.dialogue_id)
        if dialogue is None or dialogue.manager_id != actor.user_id:
            log.warning("follow-up refused: not the manager")
            return TurnResult.say(t("notices.not_yours"))
        if dialogue.is_renewal:
            return TurnResult.say(t("follow_up.already_started"))
        if dialogue.state != CONFIRMED:
            return TurnResult.say(t("notices.closed"))
        if data.version != dialogue.version:
            return TurnResult.say(t("notices.stale"))
        if reason is None and not dialogue.follow_up_open(self.today()):
            # Before the date only when the employee has asked for it (or with a reason).
            if not await self.requests.follow_up_asked(dialogue.id):
                return TurnResult.say(t("follow_up.not_due"))
        expected = dialogue.version
        dialogue.state, dialogue.step, dialogue.editing = IN_PROGRESS, REVIEW, False
        dialogue.reopen_reason = reason
        # The new version needs its own follow-up date: the old one has passed (or will).
        outcome = dialogue.answers.values("outcome")
        outcome.pop("follow_up_date", None)
        dialogue.answers.put("outcome", outcome)
        if not await self.manager.commit(dialogue, expected):
            return TurnResult.say(t("follow_up.already_started"))
        handled = await self.requests.handle_follow_ups(dialogue.id)
        log.info("follow-up started", extra={"dialogue": dialogue.id, "requests": handled})
        employee = employee_display(dialogue, t)
        to_employee = texts_for(dialogue.locale)
        return TurnResult(
            replies=[
                Reply(text=t("follow_up.intro", employee=employee)),
                Reply(card=await self.manager.card(dialogue, t)),
            ],
            dialogue_id=dialogue.id,
            notify=[
                Notify(
                    dialogue.employee_id,
                    [
                        Reply(
                            text=to_employee(
                                "follow_up.employee_told", manager=dialogue.manager_name
                            )
                        )
                    ],
                )
            ],
        )

    # --- the employee -------------------------------------------------------------------

    async def ask(self, actor: Actor, data: AskCard) -> TurnResult:
        """The employee asks for a new conversation about an agreement in force."""
        t = actor.texts
        dialogue = await self.dialogues.get(data.dialogue_id)
        if dialogue is None or dialogue.employee_id != actor.user_id:
            log.warning("follow-up request refused: not the dialogue's employee")
            return TurnResult.say(t("notices.not_employee"))
        if dialogue.in_force_version == 0:
            return TurnResult.say(t("notices.closed"))
        if dialogue.is_renewal:
            return TurnResult.say(t("follow_up.already_under_way"))
        comment = _text(data.comment)
        if len(comment) > COMMENT_MAX:
            return TurnResult.say(t("request.comment_too_long", max=COMMENT_MAX))
        refused = await self._manager_moved(dialogue, t)
        if refused is not None:
            return refused
        request, added = await self.requests.create(
            ConversationRequest(
                id=uuid.uuid4().hex,
                kind=FOLLOW_UP,
                employee_id=actor.user_id,
                employee_name=actor.name or None,
                manager_id=dialogue.manager_id,
                manager_name=dialogue.manager_name,
                dialogue_id=dialogue.id,
                comment=comment or None,
                locale=actor.locale,
            )
        )
        if not added:
            return TurnResult.say(t("request.already_sent", manager=dialogue.manager_name))
        log.info("follow-up requested", extra={"dialogue": dialogue.id})
        to_manager = texts_for(dialogue.locale)
        return TurnResult(
            notify=[
                Notify(
                    dialogue.manager_id,
                    [Reply(card=self.request_card(request, dialogue, to_manager))],
                    if_unreachable=t("request.unreachable", manager=dialogue.manager_name),
                    if_reached=t("request.sent", manager=dialogue.manager_name),
                )
            ],
        )

    async def _manager_moved(self, dialogue: Dialogue, t: Texts) -> TurnResult | None:
        """With the access checks on, the employee's wish (and comment) goes to the dialogue's
        manager only while Entra ID still names them as one who leads the employee; a former
        manager hears nothing, and the employee is told to ask their manager now."""
        access = self.manager.access
        if not access.on or not dialogue.employee_id:
            return None
        try:
            leads = await access.leads(dialogue.manager_id, dialogue.employee_id)
        except DirectoryUnavailable as error:
            log.warning("follow-up request refused: the directory did not answer (%s)", error)
            return TurnResult.say(t("access.unavailable"))
        if leads is None:
            log.warning("follow-up request refused: the dialogue's manager no longer leads")
            return TurnResult.say(t("follow_up.manager_moved", manager=dialogue.manager_name))
        return None

    def request_card(
        self, request: ConversationRequest, dialogue: Dialogue, t: Texts
    ) -> dict[str, Any]:
        return self.screens.request_received(
            request,
            t,
            employee=employee_display(dialogue, t),
            button=t("buttons.follow_up"),
            data={"verb": "follow_up", "dialogue_id": dialogue.id, "version": dialogue.version},
        )
