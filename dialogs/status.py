"""`status`: the user's dialogues by state, agreements about them, their self-check, and
their open action items (a card of their own, with the buttons to mark them).

With the access checks on, the dialogues the user led as a manager are shown only for the
employees they lead now (dialogs/access.py, ``Access.led_among``: the same rule as every
dialogue verb, the managers asked in batches): a former manager sees neither the name nor the
state of a dialogue about someone Entra ID has moved to another manager, nor the open action
items of that employee's agreement they hold. When Graph cannot
answer for some employees, their dialogues are left out too, and the user is told that some
could not be shown now.
"""

from __future__ import annotations

import logging
from typing import Any

from cards.screens import Screens, StatusData
from core.action_items import ActionItem
from core.dialogue import CANCELLED, Dialogue
from dialogs.action_items import ActionItemAnswers
from dialogs.agreement_answers import AgreementAnswers
from dialogs.turn import Actor, Reply, TurnResult
from store.dialogues import DialogueStore
from store.outbox import Outbox
from store.self_checks import SelfCheckStore

log = logging.getLogger(__name__)


class Status:
    def __init__(
        self,
        dialogues: DialogueStore,
        self_checks: SelfCheckStore,
        agreements: AgreementAnswers,
        screens: Screens,
        items: ActionItemAnswers,
        outbox: Outbox | None = None,
    ) -> None:
        self.dialogues = dialogues
        self.self_checks = self_checks
        self.agreements = agreements
        self.screens = screens
        self.items = items
        #: The SharePoint outbox when SharePoint is on; None: agreements stay local.
        self.outbox = outbox

    async def show(self, actor: Actor, data: Any = None) -> TurnResult:
        linked = await self.agreements.link(actor)
        items = await self.items.open_for(actor)
        as_manager, items, hidden = await self._led_now(
            actor,
            [d for d in await self.dialogues.for_manager(actor.user_id) if d.state != CANCELLED],
            items,
        )
        about_me = await self.dialogues.for_employee(actor.user_id)
        saved: dict[str, bool] | None = None
        if self.outbox is not None:
            concluded = [d.id for d in as_manager + about_me if d.agreement_version > 0]
            found = await self.outbox.saved(concluded) if concluded else {}
            saved = {d: bool(found.get(d)) for d in concluded}
        done = await self.self_checks.latest_done(actor.user_id)
        today = self.items.today()
        status = StatusData(
            as_manager=as_manager,
            about_me=about_me,
            saved=saved,
            self_check_open=await self.self_checks.open_for(actor.user_id) is not None,
            self_check_done=done.updated_at[:10] if done else None,
            open_items=len(items),
            overdue_items=sum(item.overdue(today) for item in items),
            some_not_shown=hidden,
            follow_ups=frozenset(
                d.id for d in as_manager if d.follow_up_open(self.agreements.manager.today())
            ),
        )
        result = TurnResult.show(self.screens.status_card(actor.texts, status))
        if items:  # each with its buttons: done, or not needed
            result.replies.append(Reply(card=self.items.card(actor, items)))
        return result.extend(await self.agreements.waiting_agreements(actor, linked))

    async def _led_now(
        self, actor: Actor, dialogues: list[Dialogue], items: list[ActionItem]
    ) -> tuple[list[Dialogue], list[ActionItem], bool]:
        """The dialogues about employees the actor leads now (and those with no employee
        chosen yet), the action items the actor holds about them (and their own), and whether
        some were left out because Graph could not answer."""
        me = actor.user_id.lower()
        employees = {d.employee_id.lower() for d in dialogues if d.employee_id} | {
            i.employee_id.lower() for i in items if i.employee_id and i.employee_id.lower() != me
        }
        if not employees:
            return dialogues, items, False
        led, unchecked = await self.agreements.manager.access.led_among(actor.user_id, employees)
        if len(led) < len(employees):
            log.info(
                "status: dialogues left out",
                extra={"not_led": len(employees - led - unchecked), "unchecked": len(unchecked)},
            )

        def shown(employee_id: str | None) -> bool:
            return not employee_id or employee_id.lower() == me or employee_id.lower() in led

        return (
            [d for d in dialogues if shown(d.employee_id)],
            [i for i in items if shown(i.employee_id)],
            bool(unchecked),
        )
