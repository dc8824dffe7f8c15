"""The two lists in SharePoint: the agreements (one item per agreement version) and the
action items (one item per dialogue, version and action), their typed columns, and a record
as list item fields.

The columns hold the agreement record's fields that HR may see (dialogs/data_requests.py,
HR_FIELDS), never the dialogue's answers, the self-check or comments. ``AgreementKey``
("<dialogue id>:<version>") is indexed and unique, so a create that is retried after a lost
answer fails with 409 instead of making a second item. Columns the bot filters on, and those
HR sorts and filters large lists by, are indexed (SharePoint filters only on indexed columns
beyond 5,000 items).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.action_items import OWNERS, STATUSES, ActionItem
from core.answers import AgreementRecord
from core.texts import texts_for

KEY = "AgreementKey"
#: The action items list's unique key: "<dialogue id>:<version>:<action key>".
ACTION_KEY = "ActionKey"

STATES = ("awaiting_employee", "confirmed", "disputed", "superseded")
DECISIONS = ("approved", "approved_with_conditions", "not_approved")
INITIATORS = ("employee", "employer")


def _text(name: str, title: str, *, indexed: bool = False, unique: bool = False) -> dict[str, Any]:
    column: dict[str, Any] = {"name": name, "displayName": title, "text": {}}
    if indexed or unique:
        column["indexed"] = True
    if unique:
        column["enforceUniqueValues"] = True
    return column


def _lines(name: str, title: str) -> dict[str, Any]:
    return {
        "name": name,
        "displayName": title,
        "text": {"allowMultipleLines": True, "linesForEditing": 6, "textType": "plain"},
    }


def _number(name: str, title: str, *, indexed: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "displayName": title,
        "number": {"decimalPlaces": "none"},
        **({"indexed": True} if indexed else {}),
    }


def _date(name: str, title: str, *, date_only: bool, indexed: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "displayName": title,
        "dateTime": {"format": "dateOnly" if date_only else "dateTime"},
        **({"indexed": True} if indexed else {}),
    }


def _choice(name: str, title: str, choices: list[str], *, indexed: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "displayName": title,
        "choice": {"allowTextEntry": True, "choices": choices, "displayAs": "dropDownMenu"},
        **({"indexed": True} if indexed else {}),
    }


def columns() -> list[dict[str, Any]]:
    """The column definitions (Graph columnDefinition) the list must have."""
    t = texts_for("da-DK")
    return [
        _text(KEY, t("sharepoint.columns.key"), unique=True),
        _text("DialogueId", t("sharepoint.columns.dialogue_id"), indexed=True),
        _number("AgreementVersion", t("sharepoint.columns.version")),
        _text("EmployeeName", t("sharepoint.columns.employee")),
        _text("EmployeeId", t("sharepoint.columns.employee_id"), indexed=True),
        _text("ManagerName", t("sharepoint.columns.manager")),
        _text("ManagerId", t("sharepoint.columns.manager_id"), indexed=True),
        _text("Unit", t("sharepoint.columns.unit"), indexed=True),
        _choice(
            "InitiatedBy",
            t("sharepoint.columns.initiated_by"),
            [t(f"fields.initiated_by.choices.{c}") for c in INITIATORS],
        ),
        _number("DaysPerWeek", t("sharepoint.columns.days_per_week")),
        _choice(
            "Decision",
            t("sharepoint.columns.decision"),
            [t(f"fields.decision.choices.{c}") for c in DECISIONS],
            indexed=True,
        ),
        _choice(
            "AgreementState",
            t("sharepoint.columns.state"),
            [t(f"states.{s}") for s in STATES],
            indexed=True,
        ),
        _lines("RulesTriggered", t("sharepoint.columns.rules")),
        _lines("FollowUpActions", t("sharepoint.columns.actions")),
        _date("FollowUpDate", t("sharepoint.columns.follow_up"), date_only=True, indexed=True),
        _date("ConcludedAt", t("sharepoint.columns.concluded_at"), date_only=False),
        _date("ConfirmedAt", t("sharepoint.columns.confirmed_at"), date_only=False),
        _text("SummaryUrl", t("sharepoint.columns.summary")),
    ]


def document_name(dialogue_id: str, version: int) -> str:
    return f"{dialogue_id}-v{version}.html"


def _iso_date(day: str | None) -> str | None:
    return f"{day}T00:00:00Z" if day else None


def _iso_time(moment: str | None) -> str | None:
    """A stored UTC timestamp as Graph writes dateTime values: whole seconds, with Z."""
    if not moment:
        return None
    return datetime.fromisoformat(moment).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fields(record: AgreementRecord, summary_url: str) -> dict[str, Any]:
    """One agreement version as list item fields, in Danish for HR."""
    t = texts_for("da-DK")
    state, decision, initiated = record.state, record.decision, record.initiated_by
    actions = [a for a in record.actions if a.kind == "action"]
    employee = record.employee.name or t("fields.employee.picked")
    follow_up = record.follow_up_date.isoformat() if record.follow_up_date else None
    return {
        "Title": t("sharepoint.item_title", employee=employee, version=record.version),
        KEY: f"{record.dialogue_id}:{record.version}",
        "DialogueId": record.dialogue_id,
        "AgreementVersion": record.version,
        "EmployeeName": record.employee.name,
        "EmployeeId": record.employee.id,
        "ManagerName": record.manager.name,
        "ManagerId": record.manager.id,
        "Unit": record.unit,
        "InitiatedBy": t(f"fields.initiated_by.choices.{initiated}") if initiated else None,
        "DaysPerWeek": record.days_per_week,
        "Decision": t(f"fields.decision.choices.{decision}") if decision else None,
        "AgreementState": t(f"states.{state}"),
        "RulesTriggered": "\n".join(f"{r} {t(f'rules.{r}')}" for r in record.rules),
        "FollowUpActions": "\n".join(t(f"actions.{a.key}") for a in actions),
        "FollowUpDate": _iso_date(follow_up),
        "ConcludedAt": _iso_time(record.concluded_at),
        "ConfirmedAt": _iso_time(record.answered_at) if state == "confirmed" else None,
        "SummaryUrl": summary_url,
    }


def action_columns() -> list[dict[str, Any]]:
    """The columns of the action items list."""
    t = texts_for("da-DK")

    def title(name: str) -> str:
        return t(f"sharepoint.action_columns.{name}")

    return [
        _text(ACTION_KEY, title("key"), unique=True),
        _text("AgreementKey", title("agreement_key"), indexed=True),
        _text("DialogueId", title("dialogue_id"), indexed=True),
        _number("AgreementVersion", title("version")),
        _text("Action", title("action")),
        _choice("Owner", title("owner"), [t(f"owners.{o}") for o in OWNERS], indexed=True),
        _text("EmployeeName", title("employee")),
        _text("EmployeeId", title("employee_id"), indexed=True),
        _text("ManagerName", title("manager")),
        _text("ManagerId", title("manager_id"), indexed=True),
        _date("DueDate", title("due"), date_only=True, indexed=True),
        _choice(
            "ActionStatus",
            title("status"),
            [t(f"items.statuses.{s}") for s in STATUSES],
            indexed=True,
        ),
        _date("StatusChangedAt", title("status_at"), date_only=False),
    ]


def action_key(item: ActionItem) -> str:
    return f"{item.dialogue_id}:{item.version}:{item.key}"


def action_fields(item: ActionItem) -> dict[str, Any]:
    """One action item as list item fields, in Danish for HR."""
    t = texts_for("da-DK")
    employee = item.employee_name or t("fields.employee.picked")
    action = t(f"items.kinds.{item.key}") if t.has(f"items.kinds.{item.key}") else item.key
    return {
        "Title": t(
            "sharepoint.action_title", action=action, employee=employee, version=item.version
        ),
        ACTION_KEY: action_key(item),
        "AgreementKey": f"{item.dialogue_id}:{item.version}",
        "DialogueId": item.dialogue_id,
        "AgreementVersion": item.version,
        "Action": action,
        "Owner": t(f"owners.{item.owner_role}"),
        "EmployeeName": item.employee_name,
        "EmployeeId": item.employee_id,
        "ManagerName": item.manager_name,
        "ManagerId": item.manager_id,
        "DueDate": _iso_date(item.due.isoformat()),
        "ActionStatus": t(f"items.statuses.{item.status}"),
        "StatusChangedAt": _iso_time(item.status_at),
    }
