"""`status`: the user's dialogues by state, agreements about them, their self-check, and
their open action items (a card of their own, with the buttons to mark them)."""

from __future__ import annotations

from typing import Any

from cards.screens import Screens, StatusData
from core.dialogue import CANCELLED
from dialogs.action_items import ActionItemAnswers
from dialogs.agreement_answers import AgreementAnswers
from dialogs.turn import Actor, Reply, TurnResult
from store.dialogues import DialogueStore
from store.outbox import Outbox
from store.self_checks import SelfCheckStore


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
        as_manager = [
            d for d in await self.dialogues.for_manager(actor.user_id) if d.state != CANCELLED
        ]
        about_me = await self.dialogues.for_employee(actor.user_id)
        saved: dict[str, bool] | None = None
        if self.outbox is not None:
            concluded = [d.id for d in as_manager + about_me if d.agreement_version > 0]
            found = await self.outbox.saved(concluded) if concluded else {}
            saved = {d: bool(found.get(d)) for d in concluded}
        done = await self.self_checks.latest_done(actor.user_id)
        items = await self.items.open_for(actor)
        today = self.items.today()
        status = StatusData(
            as_manager=as_manager,
            about_me=about_me,
            saved=saved,
            self_check_open=await self.self_checks.open_for(actor.user_id) is not None,
            self_check_done=done.updated_at[:10] if done else None,
            open_items=len(items),
            overdue_items=sum(item.overdue(today) for item in items),
            follow_ups=frozenset(
                d.id for d in as_manager if d.follow_up_open(self.agreements.manager.today())
            ),
        )
        result = TurnResult.show(self.screens.status_card(actor.texts, status))
        if items:  # each with its buttons: done, or not needed
            result.replies.append(Reply(card=self.items.card(actor, items)))
        return result.extend(await self.agreements.waiting_agreements(actor, linked))
