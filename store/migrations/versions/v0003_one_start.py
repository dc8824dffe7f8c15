"""Two presses of one button that arrive together have one effect: at most one untouched
dialogue per manager (in progress, nothing answered yet: version 1) and at most one
self-check in progress per employee, as unique partial indexes.

A store written before may already hold such doubles (a double click): the extra untouched
dialogues were empty, so all but the newest are cancelled; of an employee's open
self-checks the most recently changed stays open and the others are closed as "abandoned",
their answers kept (they still show in "mine data" and go with the retention rules).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UNTOUCHED = "state = 'in_progress' AND version = 1"
OPEN = "state = 'in_progress'"


def upgrade() -> None:
    op.execute(
        "UPDATE dialogues SET state = 'cancelled' WHERE state = 'in_progress' AND version = 1"
        " AND EXISTS (SELECT 1 FROM dialogues newer WHERE newer.manager_id = dialogues.manager_id"
        " AND newer.state = 'in_progress' AND newer.version = 1"
        " AND (newer.created_at > dialogues.created_at"
        " OR (newer.created_at = dialogues.created_at AND newer.id > dialogues.id)))"
    )
    op.execute(
        "UPDATE self_checks SET state = 'abandoned' WHERE state = 'in_progress'"
        " AND EXISTS (SELECT 1 FROM self_checks newer"
        " WHERE newer.employee_id = self_checks.employee_id AND newer.state = 'in_progress'"
        " AND (newer.updated_at > self_checks.updated_at"
        " OR (newer.updated_at = self_checks.updated_at AND newer.id > self_checks.id)))"
    )
    op.create_index(
        "one_untouched_dialogue_per_manager",
        "dialogues",
        ["manager_id"],
        unique=True,
        sqlite_where=sa.text(UNTOUCHED),
        postgresql_where=sa.text(UNTOUCHED),
    )
    op.create_index(
        "one_open_self_check_per_employee",
        "self_checks",
        ["employee_id"],
        unique=True,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )


def downgrade() -> None:
    op.drop_index("one_open_self_check_per_employee", table_name="self_checks")
    op.drop_index("one_untouched_dialogue_per_manager", table_name="dialogues")
