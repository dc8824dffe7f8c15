"""The pulse answers counted per (ISO week, unit), for the anonymous overview.

``ReminderStore.save_pulse`` adds to ``pulse_counts`` in the transaction that stores the
answer, and erasure and the retention purge subtract what they delete (store/pulse_counts.py),
so the overview reads a few rows per week instead of every answer. This revision counts the
answers given before it from pulse_answers, as that module's ``grouped`` does; it spells out
its own SQL, because a revision stays as it was when the code around it changes.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


#: The pulse's topics as this revision knows them, in bit order (as revision 0006).
TOPICS = ("breaks", "workstation", "colleagues", "work_life", "rest")


def upgrade() -> None:
    op.create_table(
        "pulse_counts",
        sa.Column("week", sa.Text(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        *(sa.Column(t, sa.Integer(), nullable=False) for t in TOPICS),
        sa.PrimaryKeyConstraint("week", "unit"),
    )
    marked = ", ".join(f"SUM((problems >> {n}) & 1)" for n in range(len(TOPICS)))
    op.execute(
        f"INSERT INTO pulse_counts (week, unit, n, {', '.join(TOPICS)}) "
        f"SELECT week, COALESCE(unit, ''), COUNT(*), {marked} "
        "FROM pulse_answers GROUP BY week, COALESCE(unit, '')"
    )


def downgrade() -> None:
    op.drop_table("pulse_counts")
