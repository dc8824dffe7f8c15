"""Turn dialogue data into what the card templates show: labels, choices, values, facts.

The templates decide layout; this module only looks texts up and formats values, so that
wording stays in the content files and layout stays in the templates.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from core import policy as policies
from core.answers import DialogueAnswers
from core.dialogue import Dialogue
from core.fields import (
    FORM_STEPS,
    SELF_CHECK_BY_ID,
    SELF_CHECK_STEPS,
    STEPS_BY_ID,
    Field,
    Step,
)
from core.form import StepForm
from core.rules import RuleHit
from core.self_check import SelfCheck, flags
from core.texts import Texts
from core.validation import FieldError


def envelope(verb: str, dialogue: Dialogue, **extra: Any) -> dict[str, Any]:
    """The hidden data every dialogue button carries: which dialogue, step and version."""
    return {
        "verb": verb,
        "dialogue_id": dialogue.id,
        "step": dialogue.step,
        "version": dialogue.version,
        **extra,
    }


def self_check_envelope(verb: str, check: SelfCheck) -> dict[str, Any]:
    """The hidden data of the self-check's buttons."""
    return {"verb": verb, "check_id": check.id, "step": check.step, "version": check.version}


def self_check_view(
    check: SelfCheck | None, t: Texts, step_ids: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """The employee's self-check as the manager sees it: the answers and flags of the given
    self-check steps (all when None), or a note that it is not done yet."""
    if check is None:
        return {
            "title": t("self_check.manager_title"),
            "facts": [],
            "flags": [],
            "note": t("self_check.missing"),
        }
    steps = [SELF_CHECK_BY_ID[s] for s in step_ids] if step_ids else list(SELF_CHECK_STEPS)
    shown = {s.id for s in steps}
    return {
        "title": t("self_check.manager_title"),
        "facts": [fact for s in steps for fact in facts(s, check.answers.values(s.id), t)],
        "flags": [t(f"flags.{f.key}.manager") for f in flags(check.answers) if f.step in shown],
        "note": None,
    }


def _card_value(f: Field, value: Any) -> Any:
    """A stored answer in the form the card input expects as its initial value."""
    if value is None:
        return None
    if f.kind == "multi":
        return ",".join(value)
    if f.kind == "toggle":
        return "true" if value else "false"
    if f.kind == "choice":
        return str(value)
    if f.kind == "number":
        return int(value) if float(value).is_integer() else value
    return value


def input_label(label: str, required: bool, t: Texts) -> str:
    """An input's label as the card shows it: a required input says so in words (read out by
    a screen reader, unlike the renderer's red asterisk)."""
    return f"{label} {t('common.required_suffix')}" if required else label


def input_view(
    f: Field, t: Texts, value: Any = None, *, people_picker: bool = False
) -> dict[str, Any]:
    key = f"fields.{f.id}"
    view: dict[str, Any] = {
        "id": f.id,
        "kind": f.kind,
        "label": input_label(t(f"{key}.label"), f.required, t),
        "required": f.required,
        "error": t("errors.required", label=t(f"{key}.label")),
        "value": _card_value(f, value),
        "placeholder": t(f"{key}.placeholder") if t.has(f"{key}.placeholder") else None,
        "max_len": f.max_len or None,
        "multiline": f.multiline,
        "min": f.minimum,
        "max": f.maximum,
        "people_picker": people_picker and f.kind == "person",
    }
    if f.kind in ("choice", "multi"):
        view["choices"] = [{"title": t(f"{f.choices_text_key}.{c}"), "value": c} for c in f.choices]
    if view["people_picker"]:
        view["placeholder"] = t(f"{key}.picker_placeholder")
    return view


def form_view(
    step: Step,
    t: Texts,
    values: dict[str, Any],
    *,
    people_picker: bool = False,
) -> dict[str, dict[str, Any]]:
    """{field id: input view} for every input of ``step``, prefilled with ``values``."""
    return {
        f.id: input_view(f, t, values.get(f.id), people_picker=people_picker) for f in step.fields
    }


def display(f: Field, value: Any, t: Texts) -> str:
    """An answer as a person reads it on a summary."""
    if value is None or value == [] or value == "":
        return t("common.not_answered")
    if f.kind == "choice":
        return t(f"{f.choices_text_key}.{value}")
    if f.kind == "multi":
        return ", ".join(t(f"{f.choices_text_key}.{v}") for v in value)
    if f.kind == "toggle":
        return t("common.yes") if value else t("common.no")
    if f.kind == "number":
        number = f"{float(value):g}"
        return number.replace(".", ",") if t.locale == "da-DK" else number
    if f.kind == "date":
        return day(value, t)
    return str(value)


def day(value: date | str, t: Texts) -> str:
    """A date as every card shows it: dd-mm-yyyy in Danish, ISO yyyy-mm-dd in English.
    Takes a date or an ISO date or timestamp (only its date part is shown)."""
    iso = (value.isoformat() if isinstance(value, date) else value)[:10]
    if t.locale != "da-DK":
        return iso
    y, m, d = iso.split("-")
    return f"{d}-{m}-{y}"


def error_lines(step: Step, errors: list[FieldError], t: Texts) -> list[str]:
    lines = []
    for e in errors:
        f = step.field(e.field)
        upper = f"{f.maximum:g}" if f.maximum is not None else f.max_len
        lower = f"{f.minimum:g}" if f.minimum is not None else ""
        lines.append(t(f"errors.{e.error}", label=t(f"fields.{f.id}.label"), max=upper, min=lower))
    return lines


def facts(step: Step, answers: dict[str, Any], t: Texts) -> list[dict[str, str]]:
    return [
        {"title": t(f"fields.{f.id}.label"), "value": display(f, answers.get(f.id), t)}
        for f in step.fields
        if not (f.kind == "toggle" and not answers.get(f.id)) and f.id in answers
    ]


def sections(answers: DialogueAnswers, t: Texts) -> list[dict[str, Any]]:
    """One titled block of facts per answered step, in dialogue order."""
    return [
        {
            "step": s.id,
            "title": t(f"steps.{s.id}.title"),
            "facts": facts(s, answers.values(s.id), t),
        }
        for s in FORM_STEPS
        if answers.answered(s.id)
    ]


def rule_view(
    hits: list[RuleHit], t: Texts, due: Mapping[str, date] | None = None
) -> dict[str, list[dict[str, str]]]:
    """Each follow-up with its plain title, who does it (and by when, when ``due`` gives the
    deadlines an agreement concluded), what it means and where to read more (from the policy
    file)."""
    policy = policies.active()
    due = due or {}

    def owner(h: RuleHit, who: str) -> str:
        if h.key not in due:
            return t(f"owners.{who}")
        return t("agreement.owner_due", owner=t(f"owners.{who}"), date=day(due[h.key], t))

    def line(h: RuleHit) -> dict[str, str]:
        action = policy.action(h.key)
        return {
            "title": t(f"rules.{h.rule}"),
            "owner": owner(h, action.owner),
            "text": t(f"actions.{h.key}"),
            "source_title": t(f"sources.{action.source}.title"),
            "source_url": t(f"sources.{action.source}.url"),
        }

    return {
        "actions": [line(h) for h in hits if h.kind == "action"],
        "infos": [line(h) for h in hits if h.kind == "info"],
    }


def progress(form: StepForm, t: Texts) -> str:
    return t("common.step_of", number=form.step_number(), total=len(form.SEQUENCE.ids))


def editable_steps(dialogue: Dialogue, t: Texts) -> list[dict[str, str]]:
    return [
        {"title": t(f"steps.{sid}.title"), "value": sid}
        for sid in STEPS_BY_ID
        if dialogue.can_edit(sid)
    ]


def changes(before: DialogueAnswers, after: DialogueAnswers, t: Texts) -> list[str]:
    """What changed between two versions of the answers, one line per answer that differs:
    "Topic – question: old → new"."""
    lines = []
    for s in FORM_STEPS:
        old, new = before.values(s.id), after.values(s.id)
        for f in s.fields:
            if old.get(f.id) in (None, "", []) and new.get(f.id) in (None, "", []):
                continue
            if old.get(f.id) == new.get(f.id):
                continue
            lines.append(
                t(
                    "follow_up.change_line",
                    step=t(f"steps.{s.id}.title"),
                    label=t(f"fields.{f.id}.label"),
                    old=display(f, old.get(f.id), t),
                    new=display(f, new.get(f.id), t),
                )
            )
    return lines
