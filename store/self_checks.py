"""The employees' self-checks in SQLite (compare-and-set on the version, like dialogues)."""

from __future__ import annotations

import json

import aiosqlite

from core.answers import SelfCheckAnswers
from core.self_check import DONE, IN_PROGRESS, SelfCheck
from store.database import Database, utc_now

_COLUMNS = (
    "id, employee_id, employee_name, state, step, version, answers, locale, created_at, updated_at"
)


def _self_check(row: aiosqlite.Row) -> SelfCheck:
    return SelfCheck(
        id=row["id"],
        employee_id=row["employee_id"],
        employee_name=row["employee_name"],
        state=row["state"],
        step=row["step"],
        version=row["version"],
        answers=SelfCheckAnswers.model_validate_json(row["answers"]),
        locale=row["locale"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class SelfCheckStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, check: SelfCheck) -> SelfCheck:
        check.created_at = check.updated_at = utc_now()
        async with self.db.transaction() as conn:
            await conn.execute(
                f"INSERT INTO self_checks ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    check.id,
                    check.employee_id,
                    check.employee_name,
                    check.state,
                    check.step,
                    check.version,
                    json.dumps(check.answers.to_json()),
                    check.locale,
                    check.created_at,
                    check.updated_at,
                ),
            )
        return check

    async def get(self, check_id: str) -> SelfCheck | None:
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM self_checks WHERE id = ?", (check_id,)
        )
        return _self_check(row) if row else None

    async def _latest(self, employee_id: str, state: str) -> SelfCheck | None:
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM self_checks WHERE employee_id = ? AND state = ?"
            " ORDER BY updated_at DESC, id DESC LIMIT 1",
            (employee_id, state),
        )
        return _self_check(row) if row else None

    async def open_for(self, employee_id: str) -> SelfCheck | None:
        return await self._latest(employee_id, IN_PROGRESS)

    async def latest_done(self, employee_id: str | None) -> SelfCheck | None:
        return await self._latest(employee_id, DONE) if employee_id else None

    async def save(self, check: SelfCheck, expected_version: int) -> bool:
        check.updated_at = utc_now()
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE self_checks SET state = ?, step = ?, version = ?, answers = ?,"
                " updated_at = ? WHERE id = ? AND version = ?",
                (
                    check.state,
                    check.step,
                    check.version,
                    json.dumps(check.answers.to_json()),
                    check.updated_at,
                    check.id,
                    expected_version,
                ),
            )
            return cursor.rowcount == 1
