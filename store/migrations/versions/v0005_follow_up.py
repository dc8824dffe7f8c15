"""Follow-up and renewal, and the employee's own request for a conversation.

A confirmed agreement can be followed up or reopened: the dialogue gets a new version while
``in_force_version`` keeps naming the confirmed version that still applies (set here for the
dialogues already confirmed), and ``reopen_reason`` says why the manager reopened it.
``conversation_requests`` holds an employee's requests: a new conversation about an agreement
("follow_up") or a first conversation with a named manager ("conversation"). At most one
request of a kind is open per employee and manager, so two copies of one press make one.

Revision ID: 0005
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OPEN = "state = 'open'"


def upgrade() -> None:
    op.add_column(
        "dialogues",
        sa.Column("in_force_version", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column("dialogues", sa.Column("reopen_reason", sa.Text()))
    op.execute(
        "UPDATE dialogues SET in_force_version = agreement_version WHERE state = 'confirmed'"
    )
    op.create_table(
        "conversation_requests",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("employee_id", sa.Text(), nullable=False),
        sa.Column("employee_name", sa.Text()),
        sa.Column("manager_id", sa.Text(), nullable=False),
        sa.Column("manager_name", sa.Text()),
        sa.Column("dialogue_id", sa.Text()),
        sa.Column("comment", sa.Text()),
        sa.Column("self_check_id", sa.Text()),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("locale", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("handled_at", sa.Text()),
    )
    op.create_index(
        "conversation_requests_by_manager", "conversation_requests", ["manager_id", "state"]
    )
    op.create_index("conversation_requests_by_employee", "conversation_requests", ["employee_id"])
    op.create_index(
        "one_open_request_per_pair",
        "conversation_requests",
        ["employee_id", "manager_id", "kind"],
        unique=True,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )


def downgrade() -> None:
    op.drop_table("conversation_requests")
    op.drop_column("dialogues", "reopen_reason")
    op.drop_column("dialogues", "in_force_version")
