"""Build each card of the bot from its template, its texts and the dialogue's data."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from cards import view
from cards.renderer import CardRenderer
from core import action_items
from core import policy as policies
from core.agreement import recorded_hits
from core.answers import AgreementRecord, DialogueAnswers, FormAnswers
from core.dialogue import AWAITING_EMPLOYEE, CONFIRMED, DISPUTED, IN_PROGRESS, Dialogue
from core.fields import (
    EQUIPMENT_ITEMS,
    NOTE_MAX,
    REQUEST,
    REVIEW,
    SELF_CHECK_BY_ID,
    SELF_CHECK_FOR_TOPIC,
    STEPS_BY_ID,
    Step,
)
from core.requests import FOLLOW_UP, ConversationRequest
from core.rules import RuleHit, evaluate
from core.self_check import SelfCheck, flags
from core.texts import Texts
from core.validation import FieldError

HELP_COMMANDS = (
    "help",
    "start",
    "self_check",
    "request",
    "continue",
    "status",
    "cancel",
    "my_data",
    "reminders",
    "substitute",
    "overview",
)
BUTTONS = (
    "start",
    "self_check",
    "help",
    "next",
    "back",
    "later",
    "cancel",
    "cancel_yes",
    "conclude",
    "edit",
    "continue",
    "request",
)
COMMENT_MAX = 1000
HR_LINES = 30
#: What `mine data` counts, in this order (the keys of the export).
MY_DATA_KINDS = (
    "dialogues_as_manager",
    "dialogues_about_me",
    "agreements",
    "action_items",
    "self_checks",
    "conversation_requests",
    "conversations",
    "pulse_answers",
    "reminders_sent",
)
#: The order a manager's dialogues are grouped in on the status card.
MANAGER_GROUPS = (IN_PROGRESS, DISPUTED, AWAITING_EMPLOYEE, CONFIRMED)
#: The newest lines shown per group; the card stays small for a manager of many.
STATUS_LINES = 15
#: Buttons on the status card (one per open dialogue, one per agreement to confirm).
STATUS_BUTTONS = 5


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _buttons(t: Texts) -> dict[str, str]:
    return {key: t(f"buttons.{key}") for key in BUTTONS}


def flag_keys(check: SelfCheck | None) -> list[str]:
    return [f.key for f in flags(check.answers)] if check else []


def employee_display(dialogue: Dialogue, t: Texts) -> str:
    """The employee as the manager knows them: the typed or learnt name, else a stand-in."""
    if dialogue.employee_name:
        return dialogue.employee_name
    return t("fields.employee.picked") if dialogue.employee_id else t("fields.employee.not_chosen")


@dataclass(frozen=True)
class AgreementParts:
    """The parts of an agreement card that do not depend on who reads it or which buttons it
    has, for one version in one language (Screens.agreement_parts). A turn that sends two
    cards of the version, as the conclusion does (the manager's copy and the employee's
    request), builds them once."""

    record: AgreementRecord
    texts: Texts
    context: Mapping[str, Any]


class Screens:
    def __init__(
        self,
        renderer: CardRenderer,
        *,
        people_picker: bool,
        sharepoint: bool = False,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.renderer = renderer
        self.people_picker = people_picker
        #: The day the review card counts the default deadlines of the actions from.
        self.today = today
        #: Where the agreement card says agreements are kept: also in SharePoint, or only here.
        self.storage_note = (
            "notices.storage_place_sharepoint" if sharepoint else "notices.storage_place"
        )

    #: A date as every card shows it.
    day = staticmethod(view.day)

    def welcome(self, t: Texts) -> dict[str, Any]:
        return self.renderer.render(
            "welcome",
            title=t("welcome.title"),
            body=t("welcome.body"),
            hint=t("welcome.start_hint"),
            buttons=_buttons(t),
        )

    def help(self, t: Texts) -> dict[str, Any]:
        return self.renderer.render(
            "help",
            title=t("help.title"),
            intro=t("help.intro"),
            about_title=t("help.about_title"),
            about=[t(f"help.about_{n}") for n in range(1, 5)],
            commands_title=t("help.commands_title"),
            commands=[t(f"help.cmd_{c}") for c in HELP_COMMANDS],
            sources_title=t("help.sources_title"),
            sources=[
                {"title": t(f"sources.{sid}.title"), "url": t(f"sources.{sid}.url")}
                for sid in policies.active().sources
            ],
            buttons=_buttons(t),
        )

    def _form(
        self,
        template: str,
        step: Step,
        t: Texts,
        values: dict[str, Any],
        errors: list[FieldError] | None,
        progress: str,
        data: dict[str, Any],
        **extra: Any,
    ) -> dict[str, Any]:
        source = policies.active().read_more.get(step.id)
        read_more = (
            {
                "text": t("common.read_more", title=t(f"sources.{source}.title")),
                "url": t(f"sources.{source}.url"),
            }
            if source
            else None
        )
        return self.renderer.render(
            template,
            title=t(f"steps.{step.id}.title"),
            read_more=read_more,
            intro=t(f"steps.{step.id}.intro"),
            progress=progress,
            errors=view.error_lines(step, errors or [], t),
            error_intro=t("errors.intro"),
            f=view.form_view(step, t, values, people_picker=self.people_picker),
            buttons=_buttons(t),
            data=data,
            **extra,
        )

    def cancel_question(self, dialogue: Dialogue, t: Texts) -> dict[str, Any]:
        return self.renderer.render(
            "cancel",
            title=t("common.cancel_title"),
            question=t("common.cancel_question", employee=employee_display(dialogue, t)),
            buttons=_buttons(t),
            data=view.envelope("cancel", dialogue),
        )

    def step(
        self,
        dialogue: Dialogue,
        t: Texts,
        values: dict[str, Any] | None = None,
        errors: list[FieldError] | None = None,
        self_check: SelfCheck | None = None,
        in_force: AgreementRecord | None = None,
    ) -> dict[str, Any]:
        """The card for the dialogue's current step, prefilled with what is known; a topic
        card also shows the employee's self-check for that topic. ``in_force``: the confirmed
        version a follow-up starts from (the review shows what changed since)."""
        if dialogue.step == REVIEW:
            return self.review(dialogue, t, self_check, in_force)
        step = STEPS_BY_ID[dialogue.step]
        sc_step = SELF_CHECK_FOR_TOPIC.get(step.id)
        return self._form(
            f"step_{step.id}",
            step,
            t,
            dialogue.answers.values(step.id) if values is None else values,
            errors,
            view.progress(dialogue, t),
            {
                "next": view.envelope("next", dialogue),
                "back": view.envelope("back", dialogue) if dialogue.previous_step() else None,
                "later": view.envelope("later", dialogue),
                "cancel": view.envelope("cancel", dialogue),
            },
            self_check=view.self_check_view(self_check, t, (sc_step,)) if sc_step else None,
            cancel_question=t("common.cancel_question", employee=employee_display(dialogue, t)),
            equipment=EQUIPMENT_ITEMS,
            equipment_title=t("fields.equipment.label"),
            systematic_hint=t("steps.tasks.systematic_hint"),
            systematic=bool(dialogue.answers.tasks and dialogue.answers.tasks.systematic == "yes"),
            weighing_hint=t("steps.outcome.weighing_hint")
            if dialogue.answers.weighing
            and dialogue.answers.weighing.weigh_organisation == "against"
            else None,
        )

    def _rules_context(
        self,
        hits: list[RuleHit],
        t: Texts,
        answers: DialogueAnswers,
        due: Mapping[str, date] | None = None,
    ) -> dict[str, Any]:
        return {
            "rules": view.rule_view(hits, t, due),
            "labels": {
                key: t(f"review.{key}")
                for key in ("actions_title", "no_rules", "show_answers", "show_self_check")
            }
            | {
                "show_info": t("review.show_info", count=sum(h.kind == "info" for h in hits)),
                "edit_label": view.input_label(t("review.edit_label"), False, t),
                "edit_placeholder": t("review.edit_error"),
                # Occasional home working: why the screen-work rules are not listed.
                "occasional_note": t("review.occasional_note")
                if answers.occasional and answers.decision != "not_approved"
                else None,
            },
        }

    def due_inputs(self, hits: list[RuleHit], answers: DialogueAnswers, t: Texts) -> list[Any]:
        """A deadline input per action that becomes an item, prefilled with its default."""
        today = self.today()
        latest = (today + timedelta(days=action_items.MAX_DUE_DAYS)).isoformat()
        return [
            {
                "id": action_items.due_input(action.key),
                "label": view.input_label(
                    t(
                        "review.due_label",
                        action=t(f"items.kinds.{action.key}"),
                        owner=t(f"owners.{action.owner}"),
                    ),
                    True,
                    t,
                ),
                "value": action_items.default_due(action, today).isoformat(),
                "min": today.isoformat(),
                "max": latest,
                "error": t("review.due_input_error"),
            }
            for action in action_items.item_actions(hits, answers)
        ]

    def review(
        self,
        dialogue: Dialogue,
        t: Texts,
        self_check: SelfCheck | None = None,
        in_force: AgreementRecord | None = None,
    ) -> dict[str, Any]:
        hits = evaluate(dialogue.answers, flag_keys(self_check))
        changes = _changes(in_force, dialogue.answers, dialogue.reopen_reason, t)
        return self.renderer.render(
            "review",
            title=t("steps.review.title"),
            intro=t("follow_up.review_intro") if in_force else t("steps.review.intro"),
            changes=changes,
            progress=view.progress(dialogue, t),
            employee_line=t("review.employee_line", employee=employee_display(dialogue, t)),
            sections=view.sections(dialogue.answers, t),
            self_check=view.self_check_view(self_check, t),
            edit_choices=view.editable_steps(dialogue, t),
            cancel_question=t("common.cancel_question", employee=employee_display(dialogue, t)),
            buttons=_buttons(t),
            data={
                "edit": view.envelope("edit", dialogue),
                "conclude": view.envelope("conclude", dialogue),
                "later": view.envelope("later", dialogue),
                "cancel": view.envelope("cancel", dialogue),
            },
            due_title=t("review.due_title"),
            due_intro=t("review.due_intro"),
            due_inputs=self.due_inputs(hits, dialogue.answers, t),
            **self._rules_context(hits, t, dialogue.answers),
        )

    def answered(
        self, title: str, note: str, answers: list[dict[str, str]] | None = None
    ) -> dict[str, Any]:
        return self.renderer.render("answered", title=title, note=note, answers=answers or [])

    def answered_step(self, answers: FormAnswers, step: Step, t: Texts) -> dict[str, Any]:
        note = t("common.answered")
        if step.id == "tasks" and answers.values("tasks").get("systematic") == "yes":
            note = t("steps.tasks.med_first")  # not only at the review: now
        return self.answered(
            t(f"steps.{step.id}.title"), note, view.facts(step, answers.values(step.id), t)
        )

    def agreement_parts(self, record: AgreementRecord, t: Texts) -> AgreementParts:
        """What every card of ``record`` shows alike in the language of ``t``: the header,
        the rules and the answers, the last two rendered."""
        outcome = STEPS_BY_ID["outcome"]
        header = [
            {
                "title": t("agreement.employee"),
                "value": record.employee.name or t("fields.employee.picked"),
            },
            {"title": t("agreement.manager"), "value": record.manager.name or ""},
            {"title": t("agreement.unit"), "value": record.unit or t("common.not_answered")},
            {
                "title": t("agreement.decision"),
                "value": view.display(outcome.field("decision"), record.decision, t),
            },
            {
                "title": t("agreement.new_assessment")
                if record.decision == "not_approved"
                else t("agreement.follow_up"),
                "value": view.display(
                    outcome.field("follow_up_date"), _iso(record.follow_up_date), t
                ),
            },
            {
                "title": t("agreement.date"),
                "value": view.day(record.concluded_at, t),
            },
            {"title": t("agreement.version"), "value": str(record.version)},
            {"title": t("agreement.state"), "value": t(f"states.{record.state}")},
        ]
        if record.valid_until:
            header.insert(
                5, {"title": t("agreement.valid_until"), "value": view.day(record.valid_until, t)}
            )
        if record.reason:
            header.insert(4, {"title": t("agreement.reason"), "value": record.reason})
        if record.replaces_version:
            header.append(
                {
                    "title": t("agreement.replaces"),
                    "value": t(
                        "agreement.replaces_value"
                        if record.state == AWAITING_EMPLOYEE
                        else "agreement.replaces_done",
                        version=record.replaces_version,
                    ),
                }
            )
        if record.reopen_reason:
            header.append({"title": t("agreement.reopen_reason"), "value": record.reopen_reason})
        if record.employee_comment:
            header.append({"title": t("agreement.comment"), "value": record.employee_comment})
        rules = self._rules_context(
            recorded_hits(record),
            t,
            record.answers,
            {a.key: a.due for a in record.actions if a.due is not None},
        )
        macros = self.renderer.macros
        return AgreementParts(
            record,
            t,
            {
                "title": t("agreement.title"),
                "header": header,
                **rules,
                "rendered_rules": macros.rules_block(rules["rules"], rules["labels"]),
                "rendered_answers": macros.sections_block(view.sections(record.answers, t)),
                "stored_note": t(self.storage_note),
            },
        )

    def agreement(
        self,
        record: AgreementRecord,
        t: Texts,
        self_check: SelfCheck | None = None,
        *,
        confirm: dict[str, Any] | None = None,
        intro: str | None = None,
        manage: Dialogue | None = None,
        ask: Dialogue | None = None,
        follow_up_due: bool = False,
        in_force: AgreementRecord | None = None,
        parts: AgreementParts | None = None,
    ) -> dict[str, Any]:
        """An agreement version; with ``confirm`` (the envelope of the dialogue) it carries the
        employee's buttons: confirm, or disagree with a comment. With ``manage`` (the
        manager's confirmed dialogue) it offers "Følg op" when due and reopening with a
        reason; with ``ask`` (the employee's) asking for a new conversation. ``parts``: those
        built for another card of the version in the same turn, used when they are of this
        record and these texts (else they are built anew)."""
        if parts is None or parts.record is not record or parts.texts is not t:
            parts = self.agreement_parts(record, t)
        buttons = None
        if confirm is not None:
            buttons = {
                "confirm_title": t("confirm.confirm"),
                "dispute_title": t("confirm.dispute"),
                "send_title": t("confirm.send"),
                "comment_label": view.input_label(t("confirm.comment_label"), True, t),
                "comment_error": t("confirm.comment_error"),
                "comment_max": COMMENT_MAX,
                "confirm": {**confirm, "verb": "confirm"},
                "dispute": {**confirm, "verb": "dispute"},
            }
        renewal = None
        if manage is not None:
            envelope = {"dialogue_id": manage.id, "version": manage.version}
            renewal = {
                "follow_up_title": t("buttons.follow_up"),
                "follow_up": {**envelope, "verb": "follow_up"} if follow_up_due else None,
                "reopen_title": t("follow_up.reopen"),
                "reopen_label": view.input_label(t("follow_up.reason_label"), True, t),
                "reopen_error": t("follow_up.reason_needed"),
                "reopen_max": NOTE_MAX,
                "reopen": {**envelope, "verb": "reopen"},
                "send_title": t("follow_up.reopen_send"),
            }
        asking = None
        if ask is not None:
            asking = {
                "title": t("request.ask_title"),
                "label": t("request.comment_label"),
                "max": COMMENT_MAX,
                "send_title": t("request.send"),
                "data": {"verb": "ask_follow_up", "dialogue_id": ask.id},
            }
        return self.renderer.render(
            "agreement",
            changes=_changes(in_force, record.answers, None, t),
            renewal=renewal,
            asking=asking,
            intro=intro,
            self_check=view.self_check_view(self_check, t) if self_check else None,
            confirm=buttons,
            **parts.context,
        )

    # --- the employee's requests -----------------------------------------------------------

    def request_form(
        self, t: Texts, values: dict[str, Any], errors: list[FieldError], has_self_check: bool
    ) -> dict[str, Any]:
        """The employee names their manager and may attach their finished self-check."""
        f = view.form_view(REQUEST, t, values, people_picker=self.people_picker)
        return self.renderer.render(
            "request_form",
            title=t("request.title"),
            intro=t("request.intro"),
            errors=view.error_lines(REQUEST, errors, t),
            error_intro=t("errors.intro"),
            manager=f["manager"],
            attach=f["attach_self_check"] if has_self_check else None,
            no_self_check=None if has_self_check else t("request.no_self_check"),
            button=t("request.send"),
        )

    def request_received(
        self,
        request: ConversationRequest,
        t: Texts,
        *,
        employee: str,
        button: str,
        data: dict[str, Any],
        self_check: SelfCheck | None = None,
    ) -> dict[str, Any]:
        """The manager's card for an employee's request, with the button that acts on it."""
        if request.kind == FOLLOW_UP:
            body = t("request.follow_up_body", employee=employee)
        else:
            body = t("request.conversation_body", employee=employee)
        return self.renderer.render(
            "request_received",
            title=t("request.received_title"),
            body=body,
            comment_title=t("request.comment_title") if request.comment else None,
            comment=request.comment,
            self_check=view.self_check_view(self_check, t) if self_check else None,
            button=button,
            data=data,
        )

    def invitation(self, dialogue: Dialogue, t: Texts) -> dict[str, Any]:
        return self.renderer.render(
            "invitation",
            title=t("invitation.title"),
            body=t("invitation.body", manager=dialogue.manager_name),
            hint=t("invitation.hint"),
            button=t("invitation.button"),
        )

    def dispute(self, dialogue: Dialogue, comment: str, t: Texts) -> dict[str, Any]:
        return self.renderer.render(
            "dispute",
            title=t("dispute.title"),
            body=t("dispute.body", employee=employee_display(dialogue, t)),
            comment_label=t("dispute.comment_label"),
            comment=comment,
            button=t("dispute.button"),
            data=view.envelope("revise", dialogue),
        )

    def self_check_step(
        self,
        check: SelfCheck,
        t: Texts,
        values: dict[str, Any] | None = None,
        errors: list[FieldError] | None = None,
    ) -> dict[str, Any]:
        step = SELF_CHECK_BY_ID[check.step]
        return self._form(
            step.id,
            step,
            t,
            check.answers.values(step.id) if values is None else values,
            errors,
            view.progress(check, t),
            {
                "next": view.self_check_envelope("sc_next", check),
                "back": view.self_check_envelope("sc_back", check)
                if check.previous_step()
                else None,
                "later": view.self_check_envelope("sc_later", check),
                "cancel": None,
            },
            cancel_question="",
        )

    def self_check_result(self, check: SelfCheck, t: Texts) -> dict[str, Any]:
        advice = [t(f"flags.{f.key}.advice") for f in flags(check.answers)]
        return self.renderer.render(
            "self_check_result",
            title=t("self_check.done_title"),
            intro=t("self_check.done_with_flags") if advice else t("self_check.done_no_flags"),
            advice=advice,
            outro=t("self_check.shared_with_manager"),
            request_title=t("buttons.request"),
            request_hint=t("self_check.request_hint"),
        )

    def overview(
        self, t: Texts, title: str, sections: list[dict[str, Any]], buttons: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """A titled list of sections of facts with buttons: status, my data, HR's list."""
        return self.renderer.render(
            "overview", title=title, empty=t("status.none"), sections=sections, buttons=buttons
        )

    # --- the user's own data and HR's list ---------------------------------------------------

    def my_data(self, t: Texts, counts: dict[str, int]) -> dict[str, Any]:
        """How many records of each kind the bot keeps about the user, with the export."""
        facts = [{"title": t(f"my_data.{key}"), "value": str(counts[key])} for key in MY_DATA_KINDS]
        return self.overview(
            t,
            t("my_data.title"),
            [{"title": t("my_data.intro"), "facts": facts}],
            [{"title": t("my_data.export"), "data": {"verb": "my_data_export"}}],
        )

    def hr_list(self, t: Texts, records: list[AgreementRecord]) -> dict[str, Any]:
        """HR's list of the newest agreement records in their units."""
        outcome = STEPS_BY_ID["outcome"]
        facts = [
            {
                "title": f"{r.employee.name or t('fields.employee.picked')} ({r.unit or '–'})",
                "value": t(
                    "status.agreement_value",
                    decision=view.display(outcome.field("decision"), r.decision, t),
                    follow_up=view.display(
                        outcome.field("follow_up_date"), _iso(r.follow_up_date), t
                    ),
                    state=t(f"states.{r.state}"),
                ),
            }
            for r in records[:HR_LINES]
        ]
        if len(records) > HR_LINES:
            facts.append({"title": "…", "value": t("status.more", count=len(records) - HR_LINES)})
        sections = (
            [{"title": t("hr.agreements", count=len(records)), "facts": facts}] if records else []
        )
        buttons = [{"title": t("hr.export"), "data": {"verb": "hr_export"}}] if records else []
        return self.overview(t, t("hr.title"), sections, buttons)

    # --- status ---------------------------------------------------------------------------

    def status_card(self, t: Texts, status: StatusData) -> dict[str, Any]:
        """The user's dialogues by state, the agreements about them, their self-check and
        where agreements are kept."""
        sections: list[dict[str, Any]] = []
        buttons: list[dict[str, Any]] = []
        marks = {
            d: " " + (t("storage.saved") if saved else t("storage.pending")) + "."
            for d, saved in (status.saved or {}).items()
        }
        for d in status.as_manager + status.about_me:
            if d.is_renewal:  # the confirmed version still applies
                marks[d.id] = (
                    marks.get(d.id, "") + " " + t("status.in_force", version=d.in_force_version)
                )
        if status.as_manager:
            sections.extend(_manager_groups(status.as_manager, t, marks))
            for d in [d for d in status.as_manager if d.is_open][:STATUS_BUTTONS]:
                buttons.append(
                    {
                        "title": t("buttons.continue_with", employee=employee_display(d, t)),
                        "data": {"verb": "continue", "dialogue_id": d.id},
                    }
                )
            due = [d for d in status.as_manager if d.id in status.follow_ups]
            for d in due[:STATUS_BUTTONS]:
                buttons.append(
                    {
                        "title": t("buttons.follow_up_with", employee=employee_display(d, t)),
                        "data": {"verb": "follow_up", "dialogue_id": d.id, "version": d.version},
                    }
                )
        if status.some_not_shown:
            note = {"title": "", "value": t("status.some_not_shown")}
            sections.append({"title": t("status.as_manager"), "facts": [note]})
        shown = [d for d in status.about_me if d.agreement_version > 0]
        if shown:
            facts = [
                {"title": d.manager_name, "value": t(f"states.{d.state}") + marks.get(d.id, "")}
                for d in shown[:STATUS_LINES]
            ]
            sections.append({"title": t("status.as_employee"), "facts": facts})
            answerable = [d for d in shown if d.state in (AWAITING_EMPLOYEE, CONFIRMED)]
            for d in answerable[:STATUS_BUTTONS]:
                buttons.append(
                    {
                        "title": t("buttons.show_agreement", manager=d.manager_name),
                        "data": {"verb": "show_agreement", "dialogue_id": d.id},
                    }
                )
        if status.self_check_open or status.self_check_done:
            done = status.self_check_done
            value = (
                t("status.self_check_done", date=view.day(done, t))
                if done and not status.self_check_open
                else t("status.self_check_open")
            )
            sections.append(
                {"title": t("status.self_check_title"), "facts": [{"title": "", "value": value}]}
            )
        if status.open_items:
            line = t("items.status_line", count=status.open_items, overdue=status.overdue_items)
            sections.append(
                {"title": t("items.status_title"), "facts": [{"title": "", "value": line}]}
            )
        if any(d.agreement_version > 0 for d in status.as_manager + status.about_me):
            where = "storage.local" if status.saved is None else "storage.sharepoint"
            note = {"title": "", "value": t(where)}
            sections.append({"title": t("storage.title"), "facts": [note]})
        return self.overview(t, t("status.title"), sections, buttons)


def _changes(
    in_force: AgreementRecord | None, answers: DialogueAnswers, reason: str | None, t: Texts
) -> dict[str, Any] | None:
    """What a new version changes since the version in force (None: not a follow-up)."""
    if in_force is None:
        return None
    lines = view.changes(in_force.answers, answers, t)
    return {
        "title": t("follow_up.changes_title", version=in_force.version),
        "lines": lines or [t("follow_up.no_changes")],
        "reason": t("follow_up.reason_line", reason=reason) if reason else None,
    }


@dataclass
class StatusData:
    """What ``status`` shows, gathered by dialogs/status.py."""

    as_manager: list[Dialogue]
    about_me: list[Dialogue]
    #: Per concluded dialogue: saved in SharePoint or not yet; None when SharePoint is off.
    saved: dict[str, bool] | None
    self_check_open: bool
    #: The day the newest finished self-check was finished, if any.
    self_check_done: str | None
    #: The user's open action items, and how many of them are past their deadline.
    open_items: int = 0
    overdue_items: int = 0
    #: The manager's confirmed dialogues that are due for a follow-up (or have expired).
    follow_ups: frozenset[str] = frozenset()
    #: Some of the manager's dialogues were left out: Graph could not say whether they still
    #: lead those employees (dialogs/status.py).
    some_not_shown: bool = False


def _manager_groups(
    dialogues: list[Dialogue], t: Texts, marks: dict[str, str]
) -> list[dict[str, Any]]:
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
                answers = d.answers.values("outcome")
                value = t(
                    "status.agreement_value",
                    decision=view.display(outcome.field("decision"), answers.get("decision"), t),
                    follow_up=view.display(
                        outcome.field("follow_up_date"), answers.get("follow_up_date"), t
                    ),
                    state=t(f"states.{state}"),
                ) + marks.get(d.id, "")
            facts.append({"title": employee_display(d, t), "value": value})
        if len(members) > STATUS_LINES:
            facts.append(
                {"title": "…", "value": t("status.more", count=len(members) - STATUS_LINES)}
            )
        groups.append({"title": t(f"states.{state}"), "facts": facts})
    return groups
