"""The employee's unit on the dialogue and on each pulse answer, for the anonymous overview.

``unit`` is the employee's department in Entra ID when the manager chose the employee,
casefolded as core/access.py compares units; ``unit_name`` is the same department as the
directory spells it, for showing. Both stay NULL when the directory was not asked (local
mode) or named no department, and for the dialogues stored before this revision: the
overview shows those as "unit not given" and counts them in the whole municipality.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


#: The pulse's topics as this revision knows them, in bit order.
TOPICS = ("breaks", "workstation", "colleagues", "work_life", "rest")


def _marked(topic: str) -> str:
    if op.get_bind().dialect.name == "postgresql":
        return f"(answers::jsonb ->> '{topic}') = 'problem'"
    return f"json_extract(answers, '$.{topic}') = 'problem'"


def upgrade() -> None:
    op.add_column("dialogues", sa.Column("unit", sa.Text()))
    op.add_column("dialogues", sa.Column("unit_name", sa.Text()))
    op.create_index("dialogues_by_unit", "dialogues", ["unit"])
    op.add_column("pulse_answers", sa.Column("unit", sa.Text()))
    op.add_column(
        "pulse_answers", sa.Column("problems", sa.Integer(), nullable=False, server_default="0")
    )
    bits = " + ".join(
        f"(CASE WHEN {_marked(t)} THEN {1 << n} ELSE 0 END)" for n, t in enumerate(TOPICS)
    )
    op.execute(f"UPDATE pulse_answers SET problems = {bits}")
    op.create_index("pulse_answers_by_week", "pulse_answers", ["week", "unit", "problems"])


def downgrade() -> None:
    op.drop_index("pulse_answers_by_week", table_name="pulse_answers")
    op.drop_column("pulse_answers", "problems")
    op.drop_column("pulse_answers", "unit")
    op.drop_index("dialogues_by_unit", table_name="dialogues")
    op.drop_column("dialogues", "unit_name")
    op.drop_column("dialogues", "unit")
