"""Route a typed command or a card submit to the handler that owns it, and build `status`."""

from __future__ import annotations

from typing import Any

from cards import view
from core.commands import Command, parse_with_argument
from core.dialogue import AWAITING_EMPLOYEE, CANCELLED, CONFIRMED, DISPUTED, IN_PROGRESS, Dialogue
from core.fields import STEPS_BY_ID
from dialogs.data_requests import DataRequests
from dialogs.employee_side import EMPLOYEE_VERBS, EmployeeSide
from dialogs.manager_dialogue import DIALOGUE_VERBS, ManagerDialogue
from dialogs.reminder_answers import REMINDER_VERBS, ReminderAnswers
from dialogs.screens import Screens, employee_display
from dialogs.turn import Actor, Reply, TurnResult
from store.outbox import Outbox

#: The order a manager's dialogues are grouped in on the status card.
MANAGER_GROUPS = (IN_PROGRESS, DISPUTED, AWAITING_EMPLOYEE, CONFIRMED)
#: The newest lines shown per group; the card stays small for a manager of many.
STATUS_LINES = 15
#: Buttons on the status card (one per open dialogue, one per agreement to confirm).
STATUS_BUTTONS = 5


class Router:
    def __init__(
        self,
        manager: ManagerDialogue,
        employee: EmployeeSide,
        data: DataRequests,
        reminders: ReminderAnswers,
        screens: Screens,
        outbox: Outbox | None = None,
    ) -> None:
        self.manager = manager
        self.reminders = reminders
        self.employee = employee
        self.data = data
        self.screens = screens
        #: The SharePoint outbox when SharePoint is on; None: agreements stay local.
        self.outbox = outbox

    async def _storage(
        self, dialogues: list[Dialogue], t: Any
    ) -> tuple[dict[str, str], list[dict[str, Any]]]:
        """Per dialogue with an agreement: saved in SharePoint or not yet; and a section that
        says where agreements are kept (only when there are agreements to show)."""
        concluded = [d.id for d in dialogues if d.agreement_version > 0]
        if not concluded:
            return {}, []
        if self.outbox is None:
            note = {"title": "", "value": t("storage.local")}
            return {}, [{"title": t("storage.title"), "facts": [note]}]
        saved = await self.outbox.saved(concluded)
        marks = {
            d: " " + (t("storage.saved") if saved.get(d) else t("storage.pending")) + "."
            for d in concluded
        }
        note = {"title": "", "value": t("storage.sharepoint")}
        return marks, [{"title": t("storage.title"), "facts": [note]}]

    def welcome(self, actor: Actor) -> TurnResult:
        return TurnResult.show(self.screens.welcome(actor.texts))

    async def command(
        self, actor: Actor, command: Command, pointer: str | None, argument: str = ""
    ) -> TurnResult:
        if command is Command.HELP:
            return TurnResult.show(self.screens.help(actor.texts))
        if not actor.personal:
            return TurnResult.say(actor.texts("notices.personal_only"))
        if command is Command.MY_DATA:
            return await self.data.my_data(actor)
        if command is Command.HR_LIST:
            return await self.data.hr_list(actor)
        if command is Command.HR_EXPORT:
            return await self.data.hr_export(actor)
        if command is Command.HR_ERASE:
            return await self.data.hr_erase(actor, argument)
        if command is Command.REMINDERS_ON:
            return await self.reminders.resume(actor)
        if command is Command.START:
            return await self.manager.start(actor)
        if command is Command.SELF_CHECK:
            return await self.employee.start_self_check(actor)
        if command is Command.CONTINUE:
            return await self._continue(actor, pointer)
        if command is Command.CANCEL:
            return await self.manager.cancel_open(actor, pointer)
        return await self.status(actor)

    async def _continue(self, actor: Actor, pointer: str | None) -> TurnResult:
        """The manager's open dialogue, else the employee's open self-check."""
        result = await self.manager.resume(actor, pointer)
        if result.dialogue_id is None and await self.employee.open_self_check(actor):
            return await self.employee.start_self_check(actor)
        return result

    async def status(self, actor: Actor) -> TurnResult:
        t = actor.texts
        linked = await self.employee.link(actor)
        sections: list[dict[str, Any]] = []
        buttons: list[dict[str, Any]] = []
        as_manager = [
            d for d in await self.manager.store.for_manager(actor.user_id) if d.state != CANCELLED
        ]
        about_me = await self.manager.store.for_employee(actor.user_id)
        marks, storage = await self._storage(as_manager + about_me, t)
        if as_manager:
            sections.extend(self._manager_groups(as_manager, actor, marks))
            for d in [d for d in as_manager if d.is_open][:STATUS_BUTTONS]:
                buttons.append(
                    {
                        "title": t("buttons.continue_with", employee=employee_display(d, t)),
                        "data": {"verb": "continue", "dialogue_id": d.id},
                    }
                )
        shown = [d for d in about_me if d.agreement_version > 0]
        if shown:
            sections.append(
                {
                    "title": t("status.as_employee"),
                    "facts": [
                        {
                            "title": d.manager_name,
                            "value": t(f"states.{d.state}") + marks.get(d.id, ""),
                        }
                        for d in shown[:STATUS_LINES]
                    ],
                }
            )
            for d in [d for d in shown if d.state == AWAITING_EMPLOYEE][:STATUS_BUTTONS]:
                if d.state == AWAITING_EMPLOYEE:
                    buttons.append(
                        {
                            "title": t("buttons.show_agreement", manager=d.manager_name),
                            "data": {"verb": "show_agreement", "dialogue_id": d.id},
                        }
                    )
        check_open = await self.employee.open_self_check(actor)
        check_done = await self.employee.self_checks.latest_done(actor.user_id)
        if check_open or check_done:
            value = (
                t("status.self_check_open")
                if check_open
                else t("status.self_check_done", date=check_done.updated_at[:10])  # type: ignore[union-attr]
            )
            sections.append(
                {"title": t("status.self_check_title"), "facts": [{"title": "", "value": value}]}
            )
        sections.extend(storage)
        result = TurnResult.show(self.screens.status(t, sections, buttons))
        return result.extend(await self.employee.waiting_agreements(actor, linked))

    def _manager_groups(
        self, dialogues: list[Dialogue], actor: Actor, marks: dict[str, str] | None = None
    ) -> list[dict[str, Any]]:
        t = actor.texts
        outcome = STEPS_BY_ID["outcome"]
        groups = []
        for state in MANAGER_GROUPS:
            members = [d for d in dialogues if d.state == state]
            if not members:
                continue
            facts = []
            for d in members[:STATUS_LINES]:
                if state == IN_PROGRESS:
                    value = t(f"steps.{d.step}.title")
                else:
                    decision = d.answers.get("outcome", {}).get("decision")
                    due = d.answers.get("outcome", {}).get("follow_up_date")
                    value = t(
                        "status.agreement_value",
                        decision=view.display(outcome.field("decision"), decision, t),
                        follow_up=view.display(outcome.field("follow_up_date"), due, t),
                        state=t(f"states.{state}"),
                    ) + (marks or {}).get(d.id, "")
                facts.append({"title": employee_display(d, t), "value": value})
            if len(members) > STATUS_LINES:
                facts.append(
                    {"title": "…", "value": t("status.more", count=len(members) - STATUS_LINES)}
                )
            groups.append({"title": t(f"states.{state}"), "facts": facts})
        return groups

    async def on_text(self, actor: Actor, text: str | None, pointer: str | None) -> TurnResult:
        command, argument = parse_with_argument(text)
        if command is None:
            return TurnResult.say(actor.texts("commands.hint"))
        return await self.command(actor, command, pointer, argument)

    async def on_card(self, actor: Actor, data: dict[str, Any], pointer: str | None) -> TurnResult:
        verb = data.get("verb")
        if not actor.personal and verb != "help":
            return TurnResult.say(actor.texts("notices.personal_only"))
        if verb in DIALOGUE_VERBS:
            return await self.manager.on_submit(actor, data)
        if verb in EMPLOYEE_VERBS:
            return await self.employee.on_submit(actor, data)
        if verb in REMINDER_VERBS:
            return await self.reminders.on_submit(actor, data)
        # Buttons that are not tied to a dialogue: the welcome, help and status cards.
        plain = {
            "start": Command.START,
            "help": Command.HELP,
            "continue": Command.CONTINUE,
            "status": Command.STATUS,
            "my_data": Command.MY_DATA,
        }
        if verb == "my_data_export":
            return await self.data.my_data_export(actor)
        if verb == "hr_export":
            return await self.data.hr_export(actor)
        if isinstance(verb, str) and verb in plain:
            chosen = data.get("dialogue_id")
            return await self.command(
                actor, plain[verb], chosen if isinstance(chosen, str) else pointer
            )
        return TurnResult(replies=[Reply(text=actor.texts("notices.unknown_action"))])
