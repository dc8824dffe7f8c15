"""The follow-up actions of confirmed agreements (core/action_items.py): who does what by
when, and whether it is done.

Items are added in the transaction that confirms their agreement version (``add`` takes the
open connection), once per dialogue, version and action key. A status changes only from
open, as a conditional update: of two presses that arrive together one wins, the other finds
the item closed. Every change also marks the version's outbox row, in the same transaction,
so SharePoint's second list gets it.

An owner's list shows the items of the newest version of each dialogue that has items: a
version confirmed later brings its own set, and the earlier set is no longer listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, Select, and_, func, or_, select, update
from sqlalchemy.orm import aliased

from core.action_items import EMPLOYEE, OPEN, ActionItem
from store import outbox
from store.connections import StoreConnection
from store.database import Database, insert_for, utc_now
from store.schema import action_items, dialogues

i, d = action_items.c, dialogues.c
_newer = aliased(action_items)

#: Items of the newest version of their dialogue that has items.
CURRENT: ColumnElement[bool] = i.version == (
    select(func.max(_newer.c.version))
    .where(_newer.c.dialogue_id == i.dialogue_id)
    .scalar_subquery()
)

_SELECT: Select[Any] = select(
    action_items, d.employee_name.label("employee_name"), d.manager_name.label("manager_name")
).join(dialogues, d.id == i.dialogue_id)
_ORDER = (i.due_date, i.dialogue_id, i.version, i.item_key)


def _item(row: RowMapping) -> ActionItem:
    return ActionItem(
        dialogue_id=row["dialogue_id"],
        version=row["version"],
        key=row["item_key"],
        rule=row["rule"],
        owner_role=row["owner_role"],
        manager_id=row["manager_id"],
        employee_id=row["employee_id"],
        employee_name=row["employee_name"],
        manager_name=row["manager_name"],
        due=date.fromisoformat(row["due_date"]),
        status=row["status"],
        status_by=row["status_by"],
        status_at=row["status_at"],
    )


def _owned_by(user_id: str) -> ColumnElement[bool]:
    """The items ``user_id`` marks: the employee's own, and the manager's and the group's."""
    return or_(
        and_(i.owner_role == EMPLOYEE, i.employee_id == user_id),
        and_(i.owner_role != EMPLOYEE, i.manager_id == user_id),
    )


async def add(conn: StoreConnection, items: Iterable[ActionItem]) -> int:
    """Inside the caller's transaction: store the items of a confirmed version, each once."""
    rows = [
        {
            "dialogue_id": item.dialogue_id,
            "version": item.version,
            "item_key": item.key,
            "rule": item.rule,
            "owner_role": item.owner_role,
            "manager_id": item.manager_id,
            "employee_id": item.employee_id,
            "due_date": item.due.isoformat(),
            "status": item.status,
            "created_at": utc_now(),
        }
        for item in items
    ]
    if not rows:
        return 0
    statement = insert_for(conn.dialect.name, action_items).values(rows).on_conflict_do_nothing()
    return (await conn.execute(statement)).rowcount


@dataclass(frozen=True)
class SyncedItem:
    """An item with its place in SharePoint's second list (None: not created yet), its local
    revision and the one SharePoint has."""

    item: ActionItem
    sp_item_id: str | None
    sp_etag: str | None
    revision: int = 1
    sp_revision: int = 0

    @property
    def behind(self) -> bool:
        return self.sp_item_id is None or self.sp_revision < self.revision


class ActionItemStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _items(self, query: Select[Any]) -> list[ActionItem]:
        return [_item(r) for r in await self.db.fetchall(query)]

    async def get(self, dialogue_id: str, version: int, key: str) -> ActionItem | None:
        row = await self.db.fetchone(
            _SELECT.where(i.dialogue_id == dialogue_id, i.version == version, i.item_key == key)
        )
        return _item(row) if row else None

    async def current_version(self, dialogue_id: str) -> int | None:
        """The newest agreement version of the dialogue that has items."""
        row = await self.db.fetchone(
            select(func.max(i.version).label("v")).where(i.dialogue_id == dialogue_id)
        )
        return row["v"] if row else None

    async def open_for(self, user_id: str) -> list[ActionItem]:
        """The open items ``user_id`` is to mark, soonest deadline first."""
        return await self._items(
            _SELECT.where(_owned_by(user_id), i.status == OPEN, CURRENT).order_by(*_ORDER)
        )

    async def overdue_for_manager(self, manager_id: str, today: date) -> list[ActionItem]:
        """Every open item of the manager's agreements whose deadline has passed, whoever
        owns it (the manager's digest)."""
        return await self._items(
            _SELECT.where(
                i.manager_id == manager_id,
                i.status == OPEN,
                i.due_date < today.isoformat(),
                CURRENT,
            ).order_by(*_ORDER)
        )

    async def open_for_employee(self, employee_id: str) -> list[ActionItem]:
        """The employee's own open items (their weekly card mentions them)."""
        return await self._items(
            _SELECT.where(
                i.owner_role == EMPLOYEE, i.employee_id == employee_id, i.status == OPEN, CURRENT
            ).order_by(*_ORDER)
        )

    async def close(self, item: ActionItem, status: str, by: str) -> ActionItem | None:
        """Set an open item to ``status`` (done or not needed) by ``by``: the changed item,
        or None when it was not open any more (a second press, a replayed card)."""
        now = utc_now()
        async with self.db.transaction() as conn:
            result = await conn.execute(
                update(action_items)
                .where(
                    i.dialogue_id == item.dialogue_id,
                    i.version == item.version,
                    i.item_key == item.key,
                    i.status == OPEN,
                )
                .values(status=status, status_by=by, status_at=now, revision=i.revision + 1)
            )
            if result.rowcount != 1:
                return None
            await outbox.enqueue_actions(conn, item.dialogue_id, item.version)
        return item.closed(status, by, now)

    async def for_version(self, dialogue_id: str, version: int) -> list[SyncedItem]:
        """A version's items with their SharePoint ids, for the syncer."""
        rows = await self.db.fetchall(
            _SELECT.where(i.dialogue_id == dialogue_id, i.version == version).order_by(i.item_key)
        )
        return [
            SyncedItem(_item(r), r["sp_item_id"], r["sp_etag"], r["revision"], r["sp_revision"])
            for r in rows
        ]
