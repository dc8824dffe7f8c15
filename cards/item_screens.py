"""The cards of the action items: a person's open items with their buttons, and the lines
the digest, the pulse and ``status`` show about them."""

from __future__ import annotations

from datetime import date
from typing import Any

from cards import view
from cards.renderer import CardRenderer
from core.action_items import DONE, GROUP, NOT_NEEDED, ActionItem
from core.texts import Texts

#: The most items one card shows (two buttons each); the rest show when some are marked.
ITEMS_SHOWN = 10


def title(item: ActionItem, t: Texts) -> str:
    return t(f"items.kinds.{item.key}")


def _employee(item: ActionItem, t: Texts) -> str:
    return item.employee_name or t("fields.employee.picked")


def _line(item: ActionItem, viewer_id: str, t: Texts) -> str:
    day = view.day(item.due, t)
    if item.employee_id == viewer_id and item.owner_role == "employee":
        return t("items.from_manager", manager=item.manager_name or "", date=day)
    if item.owner_role == GROUP:
        return t("items.for_group", employee=_employee(item, t), date=day)
    return t("items.for_employee", employee=_employee(item, t), date=day)


def _data(item: ActionItem, status: str) -> dict[str, Any]:
    return {
        "verb": "item_status",
        "dialogue_id": item.dialogue_id,
        "version": item.version,
        "item": item.key,
        "status": status,
    }


class ItemScreens:
    def __init__(self, renderer: CardRenderer) -> None:
        self.renderer = renderer

    def items(
        self, t: Texts, items: list[ActionItem], viewer_id: str, today: date
    ) -> dict[str, Any]:
        shown = items[:ITEMS_SHOWN]
        left = len(items) - len(shown)
        return self.renderer.render(
            "items",
            title=t("items.title"),
            intro=t("items.intro") if items else t("items.none"),
            items=[
                {
                    "title": title(item, t),
                    "line": _line(item, viewer_id, t),
                    "overdue": t("items.overdue") if item.overdue(today) else None,
                    "done_title": t("items.done_button", action=title(item, t)),
                    "not_needed_title": t("items.not_needed_button", action=title(item, t)),
                    "done": _data(item, DONE),
                    "not_needed": _data(item, NOT_NEEDED),
                }
                for item in shown
            ],
            more=t("items.more", count=left) if left else None,
        )

    @staticmethod
    def overdue_line(item: ActionItem, t: Texts) -> str:
        """One line of the manager's digest."""
        return t(
            "digest.overdue_line",
            employee=_employee(item, t),
            action=title(item, t),
            date=view.day(item.due, t),
            owner=t(f"owners.{item.owner_role}"),
        )

    @staticmethod
    def pulse_line(items: list[ActionItem], t: Texts) -> str | None:
        """The employee's weekly card: their own open items, by name."""
        if not items:
            return None
        names = ", ".join(f"{title(i, t)} ({view.day(i.due, t)})" for i in items[:ITEMS_SHOWN])
        return t("pulse.items_line", actions=names)
