"""Build each card of the bot from its template, its texts and the dialogue's data."""

from __future__ import annotations

from typing import Any

from cards import view
from cards.renderer import CardRenderer
from core.dialogue import Dialogue
from core.fields import EQUIPMENT_ITEMS, REVIEW, STEPS_BY_ID
from core.rules import evaluate
from core.texts import Texts
from core.validation import FieldError

HELP_SOURCES = (
    ("source_at", "https://at.dk/regler/at-vejledninger/hjemmearbejde-d-2-9/"),
    ("source_screen", "https://www.retsinformation.dk/eli/lta/1992/1108"),
    ("source_checklist", "https://www.arbejdsmiljoweb.dk/"),
    ("source_kropogkontor", "https://www.kropogkontor.dk/"),
    ("source_bfa", "https://www.arbejdsmiljoweb.dk/bfa-kontor"),
)


def _buttons(t: Texts) -> dict[str, str]:
    return {
        key: t(f"buttons.{key}")
        for key in (
            "start",
            "help",
            "next",
            "back",
            "later",
            "cancel",
            "conclude",
            "edit",
            "continue",
        )
    }


def employee_display(dialogue: Dialogue, t: Texts) -> str:
    return dialogue.employee_name or t("fields.employee.picked")


class Screens:
    def __init__(self, renderer: CardRenderer, *, people_picker: bool) -> None:
        self.renderer = renderer
        self.people_picker = people_picker

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
            commands_title=t("help.commands_title"),
            commands=[
                t(f"help.cmd_{c}") for c in ("help", "start", "continue", "status", "cancel")
            ],
            sources_title=t("help.sources_title"),
            sources=[{"title": t(f"help.{key}"), "url": url} for key, url in HELP_SOURCES],
            buttons=_buttons(t),
        )

    def step(
        self,
        dialogue: Dialogue,
        t: Texts,
        values: dict[str, Any] | None = None,
        errors: list[FieldError] | None = None,
    ) -> dict[str, Any]:
        """The card for the dialogue's current step, prefilled with what is known."""
        if dialogue.step == REVIEW:
            return self.review(dialogue, t)
        step = STEPS_BY_ID[dialogue.step]
        if values is None:
            values = dialogue.answers.get(step.id, {})
        data = {
            "next": view.envelope("next", dialogue),
            "back": view.envelope("back", dialogue) if dialogue.previous_step() else None,
            "later": view.envelope("later", dialogue),
            "cancel": view.envelope("cancel", dialogue),
        }
        return self.renderer.render(
            f"step_{step.id}",
            title=t(f"steps.{step.id}.title"),
            intro=t(f"steps.{step.id}.intro"),
            progress=view.progress(dialogue, t),
            errors=view.error_lines(step, errors or [], t),
            error_intro=t("errors.intro"),
            f=view.form_view(step, t, values, people_picker=self.people_picker),
            equipment=EQUIPMENT_ITEMS,
            equipment_title=t("fields.equipment.label"),
            buttons=_buttons(t),
            data=data,
        )

    def _rules_context(self, answers: dict[str, Any], t: Texts) -> dict[str, Any]:
        return {
            "rules": view.rule_view(evaluate(answers), t),
            "labels": {
                key: t(f"review.{key}")
                for key in ("actions_title", "info_title", "no_rules", "edit_label", "edit_error")
            },
        }

    def review(self, dialogue: Dialogue, t: Texts) -> dict[str, Any]:
        return self.renderer.render(
            "review",
            title=t("steps.review.title"),
            intro=t("steps.review.intro"),
            progress=view.progress(dialogue, t),
            employee_line=t("review.employee_line", employee=employee_display(dialogue, t)),
            sections=view.sections(dialogue.answers, t),
            edit_choices=view.editable_steps(dialogue, t),
            buttons=_buttons(t),
            data={
                "edit": view.envelope("edit", dialogue),
                "conclude": view.envelope("conclude", dialogue),
                "later": view.envelope("later", dialogue),
                "cancel": view.envelope("cancel", dialogue),
            },
            **self._rules_context(dialogue.answers, t),
        )

    def answered(
        self, title: str, note: str, answers: list[dict[str, str]] | None = None
    ) -> dict[str, Any]:
        return self.renderer.render("answered", title=title, note=note, answers=answers or [])

    def answered_step(self, dialogue: Dialogue, step_id: str, t: Texts) -> dict[str, Any]:
        step = STEPS_BY_ID[step_id]
        return self.answered(
            t(f"steps.{step_id}.title"),
            t("common.answered"),
            view.facts(step, dialogue.answers.get(step_id, {}), t),
        )

    def agreement(self, record: dict[str, Any], t: Texts) -> dict[str, Any]:
        outcome = STEPS_BY_ID["outcome"]
        header = [
            {
                "title": t("agreement.employee"),
                "value": record["employee"]["name"] or t("fields.employee.picked"),
            },
            {"title": t("agreement.manager"), "value": record["manager"]["name"]},
            {"title": t("agreement.unit"), "value": record["unit"] or t("common.not_answered")},
            {
                "title": t("agreement.decision"),
                "value": view.display(outcome.field("decision"), record["decision"], t),
            },
            {
                "title": t("agreement.follow_up"),
                "value": view.display(outcome.field("follow_up_date"), record["follow_up_date"], t),
            },
        ]
        return self.renderer.render(
            "agreement",
            title=t("agreement.title"),
            header=header,
            sections=view.sections(record["answers"], t),
            stored_note=t("notices.storage_place"),
            **self._rules_context(record["answers"], t),
        )

    def status(
        self,
        t: Texts,
        open_dialogues: list[Dialogue],
        agreements: list[dict[str, Any]],
        continue_data: dict[str, Any] | None,
    ) -> dict[str, Any]:
        outcome = STEPS_BY_ID["outcome"]
        in_progress = [
            {"title": employee_display(d, t), "value": t(f"steps.{d.step}.title")}
            for d in open_dialogues
        ]
        done = [
            {
                "title": a["employee"]["name"] or t("fields.employee.picked"),
                "value": t(
                    "status.agreement_value",
                    decision=view.display(outcome.field("decision"), a["decision"], t),
                    follow_up=view.display(outcome.field("follow_up_date"), a["follow_up_date"], t),
                    state=t(f"states.{a['state']}"),
                ),
            }
            for a in agreements
        ]
        return self.renderer.render(
            "status",
            title=t("status.title"),
            empty=t("status.none"),
            in_progress_title=t("status.in_progress_title"),
            agreements_title=t("status.agreements_title"),
            in_progress=in_progress,
            agreements=done,
            buttons=_buttons(t),
            continue_data=continue_data,
        )
