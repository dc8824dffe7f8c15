"""The employee's side: the self-check (R5: the employee contributes to sound conditions at
home, since the employer may not inspect it) and the answer to the agreement.

Only the employee a dialogue is about may confirm or dispute its agreement, and only the
employee who owns a self-check may answer it; anyone else is refused and nothing changes.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from core.dialogue import AWAITING_EMPLOYEE, CONFIRMED, DISPUTED, IN_PROGRESS, Dialogue
from core.fields import SELF_CHECK_BY_ID, SELF_CHECK_STEP_IDS
from core.self_check import DONE, SelfCheck
from core.texts import Texts, texts_for
from core.validation import validate_step
from dialogs.manager_dialogue import ManagerDialogue
from dialogs.screens import COMMENT_MAX, Screens, employee_display
from dialogs.turn import Actor, Notify, Reply, TurnResult
from store.dialogues import DialogueStore
from store.self_checks import SelfCheckStore

log = logging.getLogger(__name__)

EMPLOYEE_VERBS = (
    "sc_start",
    "sc_next",
    "sc_back",
    "sc_later",
    "confirm",
    "dispute",
    "show_agreement",
)
_MAX_ID = 64


def _valid_id(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= _MAX_ID


def _valid_version(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class EmployeeSide:
    def __init__(
        self,
        dialogues: DialogueStore,
        self_checks: SelfCheckStore,
        manager: ManagerDialogue,
        screens: Screens,
        today: Callable[[], date],
    ) -> None:
        self.dialogues = dialogues
        self.self_checks = self_checks
        self.manager = manager
        self.screens = screens
        self.today = today

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
        notify = self.manager.confirmation_request(dialogue, record, t, t)
        return notify.replies[0].card  # type: ignore[return-value]

    # --- the self-check ---------------------------------------------------------------------

    async def start_self_check(self, actor: Actor) -> TurnResult:
        t = actor.texts
        linked = await self.link(actor)
        check = await self.self_checks.open_for(actor.user_id)
        if check is None:
            check = SelfCheck(
                id=uuid.uuid4().hex,
                employee_id=actor.user_id,
                employee_name=actor.name,
                locale=actor.locale,
            )
            await self.self_checks.create(check)
            result = TurnResult.show(self.screens.self_check_step(check, t))
        else:
            result = TurnResult(
                replies=[
                    Reply(text=t("notices.self_check_resume")),
                    Reply(card=self.screens.self_check_step(check, t)),
                ]
            )
        return result.extend(await self.waiting_agreements(actor, linked))

    async def open_self_check(self, actor: Actor) -> SelfCheck | None:
        return await self.self_checks.open_for(actor.user_id)

    async def _self_check_submit(self, actor: Actor, verb: str, data: dict[str, Any]) -> TurnResult:
        t = actor.texts
        check_id, step, version = data.get("check_id"), data.get("step"), data.get("version")
        if (
            not _valid_id(check_id)
            or step not in SELF_CHECK_STEP_IDS
            or not _valid_version(version)
        ):
            log.warning("self-check submit refused: malformed envelope")
            return TurnResult.say(t("notices.unknown_action"))
        check = await self.self_checks.get(check_id)
        if check is None or check.employee_id != actor.user_id:
            log.warning("self-check submit refused: not the owner")
            return TurnResult.say(t("notices.not_yours"))
        if not check.is_open:
            return TurnResult.say(t("notices.closed"))
        if step != check.step or version != check.version:
            return TurnResult.say(t("notices.stale"))
        expected = check.version
        current = SELF_CHECK_BY_ID[check.step]
        if verb == "sc_later":
            return TurnResult(
                replace=self.screens.answered(t(f"steps.{check.step}.title"), t("common.paused")),
                replies=[Reply(text=t("notices.paused"))],
            )
        if verb == "sc_back":
            previous = check.previous_step()
            if previous is None:
                return TurnResult.say(t("notices.unknown_action"))
            check.step, check.version = previous, expected + 1
            if not await self.self_checks.save(check, expected):
                return TurnResult.say(t("notices.stale"))
            return TurnResult(
                replace=self.screens.answered(
                    t(f"steps.{current.id}.title"), t("common.went_back")
                ),
                replies=[Reply(card=self.screens.self_check_step(check, t))],
            )
        values, errors = validate_step(current, data, self.today())
        if errors:
            # The same card again, in place, with the valid answers kept and the errors on top.
            shown = {**check.answers.get(current.id, {}), **values}
            return TurnResult(replace=self.screens.self_check_step(check, t, shown, errors))
        check.answers[current.id] = values
        following = check.next_step()
        check.version = expected + 1
        if following:
            check.step = following
        else:
            check.state = DONE
        if not await self.self_checks.save(check, expected):
            return TurnResult.say(t("notices.stale"))
        result = TurnResult(replace=self.screens.answered_step(check.answers, current, t))
        if following:
            result.replies.append(Reply(card=self.screens.self_check_step(check, t)))
            return result
        log.info("self-check done")
        result.replies.append(Reply(card=self.screens.self_check_result(check, t)))
        for dialogue in await self.dialogues.for_employee(actor.user_id):
            if dialogue.state == IN_PROGRESS:
                to_manager = texts_for(dialogue.locale)
                text = to_manager(
                    "notices.self_check_done_manager",
                    employee=employee_display(dialogue, to_manager),
                )
                result.notify.append(Notify(dialogue.manager_id, [Reply(text=text)]))
        return result

    # --- the answer to the agreement --------------------------------------------------------

    async def _answer(self, actor: Actor, verb: str, data: dict[str, Any]) -> TurnResult:
        t = actor.texts
        dialogue_id, version = data.get("dialogue_id"), data.get("version")
        if not _valid_id(dialogue_id) or not _valid_version(version):
            log.warning("agreement answer refused: malformed envelope")
            return TurnResult.say(t("notices.unknown_action"))
        await self.link(actor)
        dialogue = await self.dialogues.get(dialogue_id)
        if dialogue is None or dialogue.employee_id != actor.user_id:
            log.warning("agreement answer refused: not the dialogue's employee")
            return TurnResult.say(t("notices.not_employee"))
        if dialogue.state != AWAITING_EMPLOYEE or version != dialogue.version:
            return TurnResult.say(t("notices.stale"))
        comment = None
        if verb == "dispute":
            comment = data.get("comment")
            if (
                not isinstance(comment, str)
                or not comment.strip()
                or len(comment.strip()) > COMMENT_MAX
            ):
                return TurnResult.say(t("confirm.comment_error"))
            comment = comment.strip()
        expected = dialogue.version
        dialogue.version = expected + 1
        state = CONFIRMED if verb == "confirm" else DISPUTED
        record = await self.dialogues.answer(dialogue, expected, state, comment)
        if record is None:
            return TurnResult.say(t("notices.stale"))
        log.info("agreement answered", extra={"dialogue": dialogue.id, "state": state})
        check = await self.self_checks.latest_done(dialogue.employee_id)
        to_manager = texts_for(dialogue.locale)
        employee = employee_display(dialogue, to_manager)
        if state == CONFIRMED:
            return TurnResult(
                replace=self.screens.agreement(record, t, check),
                replies=[Reply(text=t("notices.confirmed_employee"))],
                notify=[
                    Notify(
                        dialogue.manager_id,
                        [
                            Reply(text=to_manager("notices.confirmed_manager", employee=employee)),
                            Reply(card=self.screens.agreement(record, to_manager, check)),
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

    async def _show_agreement(self, actor: Actor, data: dict[str, Any]) -> TurnResult:
        t = actor.texts
        dialogue_id = data.get("dialogue_id")
        dialogue = await self.dialogues.get(dialogue_id) if _valid_id(dialogue_id) else None
        if dialogue is None or actor.user_id not in (dialogue.employee_id, dialogue.manager_id):
            return TurnResult.say(t("notices.not_yours"))
        if dialogue.agreement_version == 0:
            return TurnResult.say(t("notices.stale"))
        if dialogue.state == AWAITING_EMPLOYEE and actor.user_id == dialogue.employee_id:
            return TurnResult.show(await self._confirmation_card(dialogue, t))
        record = await self.dialogues.agreement(dialogue.id, dialogue.agreement_version)
        check = await self.self_checks.latest_done(dialogue.employee_id)
        return TurnResult.show(self.screens.agreement(record, t, check))

    async def on_submit(self, actor: Actor, data: dict[str, Any]) -> TurnResult:
        verb = data.get("verb")
        if verb == "sc_start":
            return await self.start_self_check(actor)
        if verb in ("sc_next", "sc_back", "sc_later"):
            return await self._self_check_submit(actor, verb, data)
        if verb in ("confirm", "dispute"):
            return await self._answer(actor, verb, data)
        return await self._show_agreement(actor, data)
