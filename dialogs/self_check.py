"""The employee's self-check (R5: the employee contributes to sound conditions at home, since
the employer may not inspect it): four steps on the shared step machine, then advice.

Only the employee who owns a self-check may answer it; anyone else is refused and nothing
changes. When it is done, the managers of the employee's open dialogues are told.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from cards.screens import Screens, employee_display
from core.answers import StepAnswers
from core.dialogue import IN_PROGRESS
from core.fields import Step
from core.self_check import DONE, SelfCheck
from core.texts import Texts, texts_for
from core.validation import FieldError
from dialogs.agreement_answers import AgreementAnswers
from dialogs.step_flow import StepFlow
from dialogs.turn import Actor, Notify, Reply, TurnResult
from store.dialogues import DialogueStore
from store.self_checks import SelfCheckStore

log = logging.getLogger(__name__)


class SelfCheckFlow(StepFlow[SelfCheck]):
    name = "self-check"

    def __init__(
        self,
        store: SelfCheckStore,
        dialogues: DialogueStore,
        agreements: AgreementAnswers,
        screens: Screens,
        today: Callable[[], date],
    ) -> None:
        super().__init__(store, screens, today)
        self.store: SelfCheckStore = store
        self.dialogues = dialogues
        self.agreements = agreements

    def owns(self, form: SelfCheck, actor: Actor) -> bool:
        return form.employee_id == actor.user_id

    async def card(
        self,
        form: SelfCheck,
        t: Texts,
        values: dict[str, Any] | None = None,
        errors: list[FieldError] | None = None,
    ) -> dict[str, Any]:
        return self.screens.self_check_step(form, t, values, errors)

    def finish(self, form: SelfCheck) -> None:
        form.state = DONE

    async def after_step(
        self, form: SelfCheck, step: Step, actor: Actor, before: StepAnswers | None
    ) -> TurnResult:
        if form.is_open:
            return await super().after_step(form, step, actor, before)
        t = actor.texts
        log.info("self-check done")
        result = TurnResult(
            replace=self.screens.answered_step(form.answers, step, t),
            replies=[Reply(card=self.screens.self_check_result(form, t))],
        )
        for dialogue in await self.dialogues.for_employee(actor.user_id):
            if dialogue.state == IN_PROGRESS:
                to_manager = texts_for(dialogue.locale)
                text = to_manager(
                    "notices.self_check_done_manager",
                    employee=employee_display(dialogue, to_manager),
                )
                result.notify.append(Notify(dialogue.manager_id, [Reply(text=text)]))
        return result

    async def start(self, actor: Actor, data: Any = None) -> TurnResult:
        """The employee's open self-check, or a new one; and any agreement waiting for them."""
        t = actor.texts
        linked = await self.agreements.link(actor)
        check = await self.store.open_for(actor.user_id)
        if check is None:
            # A second press that arrived at the same time gets the same self-check.
            check = await self.store.create(
                SelfCheck(
                    id=uuid.uuid4().hex,
                    employee_id=actor.user_id,
                    employee_name=actor.name,
                    locale=actor.locale,
                )
            )
            result = TurnResult.show(self.screens.self_check_step(check, t))
        else:
            result = TurnResult(
                replies=[
                    Reply(text=t("notices.self_check_resume")),
                    Reply(card=self.screens.self_check_step(check, t)),
                ]
            )
        return result.extend(await self.agreements.waiting_agreements(actor, linked))

    async def open_for(self, actor: Actor) -> SelfCheck | None:
        return await self.store.open_for(actor.user_id)
