"""The employee's unit on the dialogue, for the anonymous overview.

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


def upgrade() -> None:
    op.add_column("dialogues", sa.Column("unit", sa.Text()))
    op.add_column("dialogues", sa.Column("unit_name", sa.Text()))
    op.create_index("dialogues_by_unit", "dialogues", ["unit"])


def downgrade() -> None:
    op.drop_index("dialogues_by_unit", table_name="dialogues")
    op.drop_column("dialogues", "unit_name")
    op.drop_column("dialogues", "unit")
