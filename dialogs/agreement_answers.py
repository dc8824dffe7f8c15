"""The employee's answer to an agreement: confirm it, or disagree with a comment.

Only the employee a dialogue is about may confirm or dispute its agreement; anyone else is
refused and nothing changes. A dispute reaches the manager, who can revise the agreement.
"""

from __future__ import annotations

import logging
from typing import Any

from cards.screens import COMMENT_MAX, Screens, employee_display
from core.dialogue import AWAITING_EMPLOYEE, CONFIRMED, DISPUTED, Dialogue
from core.texts import Texts, texts_for
from dialogs.card_data import AgreementCard, AgreementRef
from dialogs.manager_dialogue import ManagerDialogue
from dialogs.turn import Actor, Notify, Reply, TurnResult
from store.dialogues import DialogueStore
from store.self_checks import SelfCheckStore

log = logging.getLogger(__name__)


class AgreementAnswers:
    def __init__(
        self,
        dialogues: DialogueStore,
        self_checks: SelfCheckStore,
        manager: ManagerDialogue,
        screens: Screens,
    ) -> None:
        self.dialogues = dialogues
        self.self_checks = self_checks
        self.manager = manager
        self.screens = screens

    # --- who the employee is ----------------------------------------------------------------

    async def link(self, actor: Actor) -> list[Dialogue]:
        """Dialogues whose employee was typed in by name (local mode, no people picker) and
        who is this user: they get the user's id, so the employee can take part. With the
        people picker the id is known; the user's name is learnt for the manager's cards."""
        if not actor.name.strip():
            return []
        if self.screens.people_picker:
            await self.dialogues.learn_employee_name(actor.user_id, actor.name.strip())
            return []
        name = actor.name.strip().casefold()
        linked = []
        for dialogue in await self.dialogues.without_employee_id():
            if dialogue.manager_id == actor.user_id:
                continue
            if (dialogue.employee_name or "").strip().casefold() != name:
                continue
            if await self.dialogues.link_employee(dialogue.id, actor.user_id):
                dialogue.employee_id = actor.user_id
                linked.append(dialogue)
        return linked

    async def waiting_agreements(self, actor: Actor, dialogues: list[Dialogue]) -> TurnResult:
        """The confirmation cards of agreements that wait for this employee."""
        result = TurnResult()
        for dialogue in dialogues:
            if dialogue.state == AWAITING_EMPLOYEE:
                result.replies.append(
                    Reply(card=await self._confirmation_card(dialogue, actor.texts))
                )
        return result

    async def _confirmation_card(self, dialogue: Dialogue, t: Texts) -> dict[str, Any]:
        record = await self.dialogues.agreement(dialogue.id, dialogue.agreement_version)
        assert record is not None, "a concluded dialogue has its agreement"
        in_force = await self.manager.in_force(dialogue)
        card = self.manager.confirmation_request(dialogue, record, t, t, in_force).replies[0].card
        assert card is not None
        return card

    # --- the answer -------------------------------------------------------------------------

    async def confirm(self, actor: Actor, data: AgreementCard) -> TurnResult:
        return await self._answer(actor, data, CONFIRMED)

    async def dispute(self, actor: Actor, data: AgreementCard) -> TurnResult:
        return await self._answer(actor, data, DISPUTED)

    async def _answer(self, actor: Actor, data: AgreementCard, state: str) -> TurnResult:
        t = actor.texts
        await self.link(actor)
        dialogue = await self.dialogues.get(data.dialogue_id)
        if dialogue is None or dialogue.employee_id != actor.user_id:
            log.warning("agreement answer refused: not the dialogue's employee")
            return TurnResult.say(t("notices.not_employee"))
        if dialogue.state != AWAITING_EMPLOYEE or data.version != dialogue.version:
            return TurnResult.say(t("notices.stale"))
        comment = None
        if state == DISPUTED:
            comment = data.comment.strip() if isinstance(data.comment, str) else ""
            if not comment or len(comment) > COMMENT_MAX:
                return TurnResult.say(t("confirm.comment_error"))
        expected = dialogue.version
        dialogue.version = expected + 1
        record = await self.dialogues.answer(dialogue, expected, state, comment)
        if record is None:
            return TurnResult.say(t("notices.stale"))
        log.info("agreement answered", extra={"dialogue": dialogue.id, "state": state})
        check = await self.self_checks.latest_done(dialogue.employee_id)
        to_manager = texts_for(dialogue.locale)
        employee = employee_display(dialogue, to_manager)
        if state == CONFIRMED:
            due = dialogue.follow_up_open(self.manager.today())
            # The employee's card and the manager's show the same version: built once (when
            # both read the same language).
            parts = self.screens.agreement_parts(record, t)
            return TurnResult(
                replace=self.screens.agreement(record, t, check, ask=dialogue, parts=parts),
                replies=[Reply(text=t("notices.confirmed_employee"))],
                notify=[
                    Notify(
                        dialogue.manager_id,
                        [
                            Reply(text=to_manager("notices.confirmed_manager", employee=employee)),
                            Reply(
                                card=self.screens.agreement(
                                    record,
                                    to_manager,
                                    check,
                                    manage=dialogue,
                                    follow_up_due=due,
                                    parts=parts,
                                )
                            ),
                        ],
                    )
                ],
            )
        return TurnResult(
            replace=self.screens.agreement(record, t, check),
            replies=[Reply(text=t("notices.disputed_employee"))],
            notify=[
                Notify(
                    dialogue.manager_id,
                    [Reply(card=self.screens.dispute(dialogue, comment or "", to_manager))],
                )
            ],
        )

    async def show(self, actor: Actor, data: AgreementRef) -> TurnResult:
        t = actor.texts
        dialogue = await self.dialogues.get(data.dialogue_id)
        if dialogue is None or actor.user_id not in (dialogue.employee_id, dialogue.manager_id):
            return TurnResult.say(t("notices.not_yours"))
        if dialogue.agreement_version == 0:
            return TurnResult.say(t("notices.stale"))
        is_employee = actor.user_id == dialogue.employee_id
        if dialogue.state == AWAITING_EMPLOYEE and is_employee:
            return TurnResult.show(await self._confirmation_card(dialogue, t))
        # The version in force, while there is one; else the newest.
        version = dialogue.in_force_version or dialogue.agreement_version
        record = await self.dialogues.agreement(dialogue.id, version)
        if record is None:
            return TurnResult.say(t("notices.stale"))
        check = await self.self_checks.latest_done(dialogue.employee_id)
        confirmed = dialogue.state == CONFIRMED
        card = self.screens.agreement(
            record,
            t,
            check,
            manage=dialogue if confirmed and not is_employee else None,
            ask=dialogue if confirmed and is_employee else None,
            follow_up_due=dialogue.follow_up_open(self.manager.today()),
        )
        return TurnResult.show(card)
