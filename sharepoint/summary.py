"""The summary document of one agreement version: HTML that prints well on A4, in Danish.

It holds what the list item holds (the fields HR may see), laid out for reading and
printing; never the dialogue's answers, the self-check or the employee's comment. Every
value is escaped by Jinja2's autoescape; every text comes from content/da-DK.toml.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from core import policy as policies
from core.answers import AgreementRecord, RecordedAction
from core.texts import Texts, texts_for

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=select_autoescape(["html", "j2"], default=True),
    undefined=StrictUndefined,
    trim_blocks=False,
)


def _day(value: str | None, missing: str) -> str:
    if not value:
        return missing
    y, m, d = value[:10].split("-")
    return f"{d}-{m}-{y}"


def _who(action: RecordedAction, t: Texts) -> str | None:
    """Who does an action and by when, as the agreement concluded it (None: not recorded)."""
    try:
        owner = policies.active().action(action.key).owner
    except KeyError:  # an action of an older policy file
        return None
    if action.due is None:
        return t(f"owners.{owner}")
    return t("summary.owner_due", owner=t(f"owners.{owner}"), date=_day(action.due.isoformat(), ""))


def render(record: AgreementRecord) -> str:
    t = texts_for("da-DK")
    missing = t("common.not_answered")
    state, decision, initiated = record.state, record.decision, record.initiated_by
    follow_up = record.follow_up_date.isoformat() if record.follow_up_date else None
    facts = [
        (t("agreement.employee"), record.employee.name or t("fields.employee.picked")),
        (t("agreement.manager"), record.manager.name or missing),
        (t("agreement.unit"), record.unit or missing),
        (
            t("sharepoint.columns.initiated_by"),
            t(f"fields.initiated_by.choices.{initiated}") if initiated else missing,
        ),
        (t("sharepoint.columns.days_per_week"), str(record.days_per_week)),
        (
            t("agreement.decision"),
            t(f"fields.decision.choices.{decision}") if decision else missing,
        ),
        (t("agreement.follow_up"), _day(follow_up, missing)),
        (t("sharepoint.columns.concluded_at"), _day(record.concluded_at, missing)),
        (t("agreement.version"), str(record.version)),
        (t("agreement.state"), t(f"states.{state}")),
    ]
    if state == "confirmed":
        facts.append((t("sharepoint.columns.confirmed_at"), _day(record.answered_at, missing)))
    return _ENV.get_template("summary.html.j2").render(
        title=t("summary.title", version=record.version),
        lead=t("summary.lead"),
        facts=[{"title": k, "value": v} for k, v in facts],
        rules_title=t("summary.rules"),
        rules=[t(f"rules.{r}") for r in record.rules],
        actions_title=t("summary.actions"),
        actions=[
            {"rule": t(f"rules.{h.rule}"), "text": t(f"actions.{h.key}"), "who": _who(h, t)}
            for h in record.actions
            if h.kind == "action"
        ],
        none=t("summary.none"),
        footer=t("summary.footer", dialogue_id=record.dialogue_id, version=record.version),
    )
