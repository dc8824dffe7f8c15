"""The employees' self-checks (compare-and-set on the version, like dialogues)."""

from __future__ import annotations

import json

from sqlalchemy import RowMapping, bindparam, select, update

from core.answers import SelfCheckAnswers
from core.self_check import DONE, IN_PROGRESS, SelfCheck
from store.database import Database, utc_now
from store.schema import self_checks

c = self_checks.c
#: Built once: the manager's card shows the employee's newest self-check on every step.
_LATEST = (
    select(self_checks)
    .where(c.employee_id == bindparam("employee"), c.state == bindparam("state"))
    .order_by(c.updated_at.desc(), c.id.desc())
    .limit(1)
)


def _self_check(row: RowMapping) -> SelfCheck:
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
        """Store a new self-check. When the employee already has one in progress (two
        presses that arrived together), that one is returned and nothing is added."""
        check.created_at = check.updated_at = utc_now()
        async with self.db.transaction() as conn:
            added = await conn.execute(
                self.db.insert(self_checks)
                .values(
                    id=check.id,
                    employee_id=check.employee_id,
                    employee_name=check.employee_name,
                    state=check.state,
                    step=check.step,
                    version=check.version,
                    answers=json.dumps(check.answers.to_json()),
                    locale=check.locale,
                    created_at=check.created_at,
                    updated_at=check.updated_at,
                )
                .on_conflict_do_nothing()
            )
        if added.rowcount:
            return check
        existing = await self.open_for(check.employee_id)
        assert existing is not None, "the open self-check won"
        return existing

    async def get(self, check_id: str) -> SelfCheck | None:
        row = await self.db.fetchone(select(self_checks).where(c.id == check_id))
        return _self_check(row) if row else None

    async def _latest(self, employee_id: str, state: str) -> SelfCheck | None:
        row = await self.db.fetchone(_LATEST, {"employee": employee_id, "state": state})
        return _self_check(row) if row else None

    async def open_for(self, employee_id: str) -> SelfCheck | None:
        return await self._latest(employee_id, IN_PROGRESS)

    async def latest_done(self, employee_id: str | None) -> SelfCheck | None:
        return await self._latest(employee_id, DONE) if employee_id else None

    async def save(self, check: SelfCheck, expected_version: int) -> bool:
        check.updated_at = utc_now()
        async with self.db.transaction() as conn:
            result = await conn.execute(
                update(self_checks)
                .where(c.id == check.id, c.version == expected_version)
                .values(
                    state=check.state,
                    step=check.step,
                    version=check.version,
                    answers=json.dumps(check.answers.to_json()),
                    updated_at=check.updated_at,
                )
            )
            return result.rowcount == 1
