"""Follow-up actions with an owner, a deadline and a status, and their SharePoint list.

A new table ``action_items`` (one row per dialogue, agreement version and action key), and
three columns on the SharePoint outbox for the version's items in the second list
(``actions_revision`` and its claim). Agreements confirmed before this revision have no
items: their outbox rows are marked as having sent them, so nothing is pending because of
this change.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OLD_BEHIND = "item_revision < revision OR doc_revision < revision"
BEHIND = OLD_BEHIND + " OR actions_revision < revision"


def _due_index(where: str) -> None:
    op.create_index(
        "sharepoint_outbox_due",
        "sharepoint_outbox",
        ["next_attempt_at"],
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    op.create_table(
        "action_items",
        sa.Column("dialogue_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("item_key", sa.Text(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("owner_role", sa.Text(), nullable=False),
        sa.Column("manager_id", sa.Text(), nullable=False),
        sa.Column("employee_id", sa.Text()),
        sa.Column("due_date", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("status_by", sa.Text()),
        sa.Column("status_at", sa.Text()),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("sp_item_id", sa.Text()),
        sa.Column("sp_etag", sa.Text()),
        sa.Column("revision", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("sp_revision", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("dialogue_id", "version", "item_key"),
        sa.ForeignKeyConstraint(
            ["dialogue_id", "version"],
            ["agreements.dialogue_id", "agreements.version"],
            ondelete="CASCADE",
        ),
    )
    op.create_index("action_items_by_manager", "action_items", ["manager_id", "status"])
    op.create_index("action_items_by_employee", "action_items", ["employee_id", "status"])
    op.add_column(
        "sharepoint_outbox",
        sa.Column("actions_revision", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column("sharepoint_outbox", sa.Column("actions_claim", sa.Text()))
    op.add_column("sharepoint_outbox", sa.Column("actions_claimed_until", sa.Text()))
    op.execute("UPDATE sharepoint_outbox SET actions_revision = revision")
    op.drop_index("sharepoint_outbox_due", table_name="sharepoint_outbox")
    _due_index(BEHIND)


def downgrade() -> None:
    op.drop_index("sharepoint_outbox_due", table_name="sharepoint_outbox")
    _due_index(OLD_BEHIND)
    for column in ("actions_claimed_until", "actions_claim", "actions_revision"):
        op.drop_column("sharepoint_outbox", column)
    op.drop_index("action_items_by_employee", table_name="action_items")
    op.drop_index("action_items_by_manager", table_name="action_items")
    op.drop_table("action_items")
