"""The one route table: every typed command and card verb, its data model and its handler.

A typed command is the name of a verb (core/commands.py): ``start`` does what the Start
button does. Card data is read into the route's model first; data that does not fit gets the
route's friendly refusal and no handler runs. Adding a verb is one entry here and one handler
that returns a ``TurnResult``.

Dialogues hold personal data and happen only in the 1:1 chat; in a group chat only the help
answers.

Who may use a verb is part of its entry: ``access`` names the rule of dialogs/access.py
(MANAGES to start, LEADS for every verb on a dialogue: only the employee's manager, their
substitute or HR for the unit, HR for HR's commands, OVERVIEW for the work-environment
group, MED members and HR). It runs after the data was read and
before the handler; a verb that works on a dialogue declares ``access=LEADS`` and gets the
manager check with nothing more to do.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from cards.screens import Screens
from core.commands import parse
from dialogs.access import HR, LEADS, MANAGES, OVERVIEW, Access
from dialogs.action_items import ActionItemAnswers
from dialogs.agreement_answers import AgreementAnswers
from dialogs.card_data import (
    AgreementCard,
    AgreementRef,
    Argument,
    AskCard,
    CardData,
    DialogueCard,
    EditCard,
    FollowUpCard,
    ItemCard,
    Pointed,
    PulseCard,
    RequestRef,
    SelfCheckCard,
    StopCard,
)
from dialogs.data_requests import DataRequests
from dialogs.follow_up import FollowUp
from dialogs.manager_dialogue import ManagerDialogue
from dialogs.overview_chat import OverviewChat
from dialogs.own_request import OwnRequest
from dialogs.reminder_answers import ReminderAnswers
from dialogs.self_check import SelfCheckFlow
from dialogs.status import Status
from dialogs.substitutes import Substitutes
from dialogs.turn import Actor, TurnResult

log = logging.getLogger(__name__)

Handler = Callable[[Actor, Any], Awaitable[TurnResult]]


@dataclass(frozen=True)
class Route:
    model: type[CardData]
    handler: Handler
    #: Said when the data does not fit the model (a key under the content files).
    refusal: str = "notices.unknown_action"
    #: Answered in group chats too (everything else only in the 1:1 chat).
    in_group: bool = False
    #: Without a dialogue id of its own, the data gets the chat's last dialogue.
    pointed: bool = False
    #: Who may use it (dialogs/access.py): MANAGES, LEADS, HR, or None for anyone.
    access: str | None = None


class Router:
    def __init__(
        self,
        manager: ManagerDialogue,
        self_check: SelfCheckFlow,
        agreements: AgreementAnswers,
        status: Status,
        data: DataRequests,
        reminders: ReminderAnswers,
        screens: Screens,
        items: ActionItemAnswers,
        follow_up: FollowUp,
        own_request: OwnRequest,
        access: Access,
        substitutes: Substitutes,
        overview: OverviewChat,
    ) -> None:
        self.access = access
        self.manager = manager
        self.self_check = self_check
        self.screens = screens
        self.routes: dict[str, Route] = {
            # Buttons and commands that are not tied to a form.
            "help": Route(CardData, self.help, in_group=True),
            "start": Route(CardData, manager.start, access=MANAGES),
            "continue": Route(Pointed, self.resume, pointed=True, access=LEADS),
            "cancel_open": Route(Pointed, manager.cancel_open, pointed=True, access=LEADS),
            "status": Route(CardData, status.show),
            "my_data": Route(CardData, data.my_data),
            "my_data_export": Route(CardData, data.my_data_export),
            "hr_list": Route(CardData, data.hr_list, access=HR),
            "hr_export": Route(CardData, data.hr_export, access=HR),
            "hr_erase": Route(Argument, data.hr_erase, access=HR),
            "reminders_on": Route(CardData, reminders.resume),
            "substitute": Route(Argument, substitutes.name),
            "substitute_remove": Route(CardData, substitutes.remove),
            "hr_substitute": Route(Argument, substitutes.name_for, access=HR),
            # The anonymous overview for the APV (the page in the Teams app has the rest).
            "overview": Route(CardData, overview.show, access=OVERVIEW),
            # The manager's dialogue.
            "next": Route(DialogueCard, manager.next, access=LEADS),
            "back": Route(DialogueCard, manager.back, access=LEADS),
            "later": Route(DialogueCard, manager.later, access=LEADS),
            "cancel": Route(DialogueCard, manager.cancel, access=LEADS),
            "edit": Route(EditCard, manager.edit, access=LEADS),
            "conclude": Route(DialogueCard, manager.conclude, access=LEADS),
            "revise": Route(DialogueCard, manager.revise, access=LEADS),
            # Follow-up and renewal of an agreement in force.
            "follow_up": Route(FollowUpCard, follow_up.follow_up, access=LEADS),
            "reopen": Route(FollowUpCard, follow_up.reopen, access=LEADS),
            "ask_follow_up": Route(AskCard, follow_up.ask, refusal="notices.not_employee"),
            # The employee's own request for a conversation.
            "request": Route(CardData, own_request.show),
            "request_send": Route(CardData, own_request.send),
            "request_start": Route(
                RequestRef, own_request.start, refusal="request.not_yours", access=LEADS
            ),
            # The employee's self-check and answer to the agreement.
            "sc_start": Route(CardData, self_check.start),
            "sc_next": Route(SelfCheckCard, self_check.next),
            "sc_back": Route(SelfCheckCard, self_check.back),
            "sc_later": Route(SelfCheckCard, self_check.later),
            "confirm": Route(AgreementCard, agreements.confirm),
            "dispute": Route(AgreementCard, agreements.dispute),
            "show_agreement": Route(
                AgreementRef, agreements.show, refusal="notices.not_yours", access=LEADS
            ),
            # The follow-up actions of confirmed agreements.
            "item_status": Route(ItemCard, items.mark, refusal="items.not_yours", access=LEADS),
            # The weekly reminders.
            "pulse_answer": Route(PulseCard, reminders.answer, refusal="pulse.not_yours"),
            "pulse_snooze": Route(PulseCard, reminders.snooze, refusal="pulse.not_yours"),
            "reminders_stop": Route(StopCard, reminders.stop, refusal="reminders.unknown_kind"),
        }

    # --- what comes in -----------------------------------------------------------------------

    async def on_text(self, actor: Actor, text: str | None, pointer: str | None) -> TurnResult:
        verb, argument = parse(text)
        if verb is None:
            return TurnResult.say(actor.texts("commands.hint"))
        data: dict[str, Any] = {"verb": verb}
        if argument:
            data["argument"] = argument
        return await self.on_card(actor, data, pointer)

    async def on_card(self, actor: Actor, data: dict[str, Any], pointer: str | None) -> TurnResult:
        t = actor.texts
        verb = data.get("verb")
        route = self.routes.get(verb) if isinstance(verb, str) else None
        if route is not None and not actor.personal and not route.in_group:
            return TurnResult.say(t("notices.personal_only"))
        if route is None:
            if not actor.personal:
                return TurnResult.say(t("notices.personal_only"))
            return TurnResult.say(t("notices.unknown_action"))
        chosen = data.get("dialogue_id")
        if route.pointed and not (isinstance(chosen, str) and chosen):
            data = {**data, "dialogue_id": pointer}
        try:
            model = route.model.model_validate(data)
        except ValidationError:
            log.warning("card submit refused: its data does not fit the verb %s", verb)
            return TurnResult.say(t(route.refusal))
        refused = await self.access.refusal(route.access, actor, model)
        if refused is not None:
            return refused
        return await route.handler(actor, model)

    def welcome(self, actor: Actor) -> TurnResult:
        return TurnResult.show(self.screens.welcome(actor.texts))

    # --- the router's own handlers -----------------------------------------------------------

    async def help(self, actor: Actor, data: CardData) -> TurnResult:
        return TurnResult.show(self.screens.help(actor.texts))

    async def resume(self, actor: Actor, data: Pointed) -> TurnResult:
        """The manager's open dialogue, else the employee's open self-check."""
        result = await self.manager.resume(actor, data)
        if result.dialogue_id is None and await self.self_check.open_for(actor):
            return await self.self_check.start(actor)
        return result
