"""The employee's own request for a home-working conversation.

The employee names their manager (Teams' people picker; a typed name, found among the people
who have talked with the bot or, with the access checks on, in Entra ID, as the manager's
"start" finds the employee) and may attach their finished self-check. With the checks on,
Entra ID must name that person as one who leads the employee (their manager, substitute or HR)
before the request goes out, and again when "Start samtalen" is pressed (the route's LEADS).
The manager gets a card with "Start samtalen",
which opens the dialogue with the employee chosen and "the employee wished it" filled in;
the self-check shows beside the topics as in every dialogue. One open request per employee
and manager: a second press is told the request exists; only the first "Start samtalen"
starts a dialogue.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from cards.screens import Screens, employee_display
from core.dialogue import Dialogue
from core.fields import REQUEST
from core.requests import CONVERSATION, ConversationRequest
from core.texts import texts_for
from core.validation import FieldError, is_entra_id, validate_step
from dialogs.access import DirectoryUnavailable
from dialogs.card_data import CardData, RequestRef
from dialogs.manager_dialogue import ManagerDialogue
from dialogs.people import SEVERAL, People, Person
from dialogs.turn import Actor, Notify, Reply, TurnResult
from store.conversations import ConversationStore
from store.requests import RequestStore
from store.self_checks import SelfCheckStore

log = logging.getLogger(__name__)

#: Where a dialogue started from a request opens: the employee step is answered already.
FIRST_STEP = "tasks"


class OwnRequest:
    def __init__(
        self,
        requests: RequestStore,
        self_checks: SelfCheckStore,
        people: ConversationStore,
        manager: ManagerDialogue,
        screens: Screens,
        today: Callable[[], date],
    ) -> None:
        self.requests = requests
        self.self_checks = self_checks
        self.people = People(people, manager.access)
        self.manager = manager
        self.screens = screens
        self.today = today

    async def _form(
        self,
        actor: Actor,
        values: dict[str, Any] | None = None,
        errors: list[FieldError] | None = None,
    ) -> dict[str, Any]:
        has_check = await self.self_checks.latest_done(actor.user_id) is not None
        return self.screens.request_form(actor.texts, values or {}, errors or [], has_check)

    async def show(self, actor: Actor, data: CardData | None = None) -> TurnResult:
        return TurnResult.show(await self._form(actor))

    async def _manager(self, actor: Actor, value: str) -> Person | FieldError:
        """The manager the employee named: the people picker's choice, else the one person the
        typed name names (dialogs/people.py). With the access checks on, Entra ID must agree
        that they lead the employee before the request (and the self-check) goes to them."""
        access = self.manager.access
        try:
            if self.screens.people_picker:
                if not is_entra_id(value):
                    return FieldError("manager", "not_a_manager")
                found: Person | str = Person(value, "")
            else:
                found = await self.people.named(value, besides=actor.user_id)
            if isinstance(found, str):
                return FieldError(
                    "manager", "manager_several" if found == SEVERAL else "manager_unknown"
                )
            if found.user_id.lower() == actor.user_id.lower():
                return FieldError("manager", "not_yourself")
            if access.on and await access.leads(found.user_id, actor.user_id) is None:
                log.warning("request refused: the named person does not lead the employee")
                return FieldError("manager", "not_your_manager")
        except DirectoryUnavailable as error:
            log.warning("request refused: the directory did not answer (%s)", error)
            return FieldError("manager", "manager_unavailable")
        return found

    async def send(self, actor: Actor, data: CardData) -> TurnResult:
        t = actor.texts
        values, errors = validate_step(REQUEST, data.inputs, self.today())
        manager: Person | FieldError = FieldError("manager", "required")
        if not errors:
            manager = await self._manager(actor, values["manager"])
        if isinstance(manager, FieldError):
            errors = errors or [manager]
            return TurnResult(replace=await self._form(actor, values, errors))
        check = (
            await self.self_checks.latest_done(actor.user_id)
            if values.get("attach_self_check")
            else None
        )
        manager_name = manager.name or None
        request, added = await self.requests.create(
            ConversationRequest(
                id=uuid.uuid4().hex,
                kind=CONVERSATION,
                employee_id=actor.user_id,
                employee_name=actor.name or None,
                manager_id=manager.user_id,
                manager_name=manager_name,
                self_check_id=check.id if check else None,
                locale=actor.locale,
            )
        )
        shown = manager_name or t("request.your_manager")
        if not added:
            return TurnResult.say(t("request.already_sent", manager=shown))
        log.info("conversation requested")
        # The manager's language is not known here: the employee's is used.
        to_manager = texts_for(actor.locale)
        card = self.screens.request_received(
            request,
            to_manager,
            employee=actor.name or to_manager("fields.employee.picked"),
            button=to_manager("buttons.start_requested"),
            data={"verb": "request_start", "request_id": request.id},
            self_check=check,
        )
        return TurnResult(
            replace=self.screens.answered(t("request.title"), t("request.sending")),
            notify=[
                Notify(
                    manager.user_id,
                    [Reply(card=card)],
                    if_unreachable=t("request.unreachable", manager=shown),
                    if_reached=t("request.sent", manager=shown),
                )
            ],
        )

    async def start(self, actor: Actor, data: RequestRef) -> TurnResult:
        """ "Start samtalen": the dialogue, with the employee and their wish filled in."""
        t = actor.texts
        request = await self.requests.get(data.request_id)
        if request is None or request.manager_id != actor.user_id or request.kind != CONVERSATION:
            log.warning("request start refused: not the manager's request")
            return TurnResult.say(t("request.not_yours"))
        if not request.is_open:
            return TurnResult.say(t("request.handled"))
        dialogue = Dialogue(
            id=uuid.uuid4().hex,
            manager_id=actor.user_id,
            manager_name=actor.name,
            locale=actor.locale,
            employee_id=request.employee_id,
            employee_name=request.employee_name,
            step=FIRST_STEP,
            # Not version 1: that is an untouched dialogue, of which a manager has one.
            version=2,
        )
        chosen = request.employee_id if self.screens.people_picker else request.employee_name
        dialogue.answers.put(
            "employee", {"employee": chosen or request.employee_id, "initiated_by": "employee"}
        )
        await self.manager.set_unit(dialogue)
        if not await self.requests.start_dialogue(request.id, dialogue):
            return TurnResult.say(t("request.handled"))
        log.info("dialogue started from a request", extra={"dialogue": dialogue.id})
        to_employee = texts_for(request.locale)
        return TurnResult(
            replace=self.screens.answered(t("request.received_title"), t("request.started_note")),
            replies=[
                Reply(text=t("request.started", employee=employee_display(dialogue, t))),
                Reply(card=await self.manager.card(dialogue, t)),
            ],
            dialogue_id=dialogue.id,
            notify=[
                Notify(
                    request.employee_id,
                    [Reply(text=to_employee("request.employee_told", manager=actor.name))],
                )
            ],
        )
