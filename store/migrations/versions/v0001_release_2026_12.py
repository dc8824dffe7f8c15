"""The schema of the first release (2026-12), which its own migrations 001-004 made.

A SQLite file of that release is stamped at this revision instead of running it
(``store.migrate``); a new database gets the same tables from here.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TEXT, INT = sa.Text(), sa.Integer()


def upgrade() -> None:
    op.create_table(
        "dialogues",
        sa.Column("id", TEXT, primary_key=True),
        sa.Column("manager_id", TEXT, nullable=False),
        sa.Column("manager_name", TEXT, nullable=False),
        sa.Column("employee_id", TEXT),
        sa.Column("employee_name", TEXT),
        sa.Column("state", TEXT, nullable=False),
        sa.Column("step", TEXT, nullable=False),
        sa.Column("version", INT, nullable=False),
        sa.Column("editing", INT, nullable=False, server_default="0"),
        sa.Column("answers", TEXT, nullable=False),
        sa.Column("locale", TEXT, nullable=False),
        sa.Column("created_at", TEXT, nullable=False),
        sa.Column("updated_at", TEXT, nullable=False),
        sa.Column("agreement_version", INT, nullable=False, server_default="0"),
    )
    op.create_index("dialogues_by_manager", "dialogues", ["manager_id", "state"])
    op.create_index("dialogues_by_employee", "dialogues", ["employee_id", "state"])

    op.create_table(
        "agreements",
        sa.Column("dialogue_id", TEXT, sa.ForeignKey("dialogues.id"), nullable=False),
        sa.Column("version", INT, nullable=False),
        sa.Column("state", TEXT, nullable=False),
        sa.Column("manager_id", TEXT, nullable=False),
        sa.Column("employee_id", TEXT),
        sa.Column("employee_name", TEXT),
        sa.Column("decision", TEXT, nullable=False),
        sa.Column("follow_up_date", TEXT, nullable=False),
        sa.Column("record", TEXT, nullable=False),
        sa.Column("created_at", TEXT, nullable=False),
        sa.Column("employee_comment", TEXT),
        sa.Column("answered_at", TEXT),
        sa.PrimaryKeyConstraint("dialogue_id", "version"),
    )
    op.create_index("agreements_by_manager", "agreements", ["manager_id"])
    op.create_index("agreements_by_employee", "agreements", ["employee_id"])

    op.create_table(
        "conversation_refs",
        sa.Column("user_id", TEXT, nullable=False),
        sa.Column("conversation_id", TEXT, nullable=False),
        sa.Column("tenant_id", TEXT),
        sa.Column("service_url", TEXT, nullable=False),
        sa.Column("reference", TEXT, nullable=False),
        sa.Column("updated_at", TEXT, nullable=False),
        sa.Column("user_name", TEXT),
        sa.PrimaryKeyConstraint("user_id", "conversation_id"),
    )

    op.create_table(
        "bot_state",
        sa.Column("key", TEXT, primary_key=True),
        sa.Column("etag", TEXT, nullable=False),
        sa.Column("data", TEXT, nullable=False),
        sa.Column("updated_at", TEXT, nullable=False),
    )

    op.create_table(
        "self_checks",
        sa.Column("id", TEXT, primary_key=True),
        sa.Column("employee_id", TEXT, nullable=False),
        sa.Column("employee_name", TEXT, nullable=False),
        sa.Column("state", TEXT, nullable=False),
        sa.Column("step", TEXT, nullable=False),
        sa.Column("version", INT, nullable=False),
        sa.Column("answers", TEXT, nullable=False),
        sa.Column("locale", TEXT, nullable=False),
        sa.Column("created_at", TEXT, nullable=False),
        sa.Column("updated_at", TEXT, nullable=False),
    )
    op.create_index("self_checks_by_employee", "self_checks", ["employee_id", "state"])

    op.create_table(
        "sharepoint_outbox",
        sa.Column("dialogue_id", TEXT, nullable=False),
        sa.Column("version", INT, nullable=False),
        sa.Column("revision", INT, nullable=False, server_default="1"),
        sa.Column("item_revision", INT, nullable=False, server_default="0"),
        sa.Column("doc_revision", INT, nullable=False, server_default="0"),
        sa.Column("item_id", TEXT),
        sa.Column("etag", TEXT),
        sa.Column("attempts", INT, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", TEXT, nullable=False),
        sa.Column("last_error", TEXT),
        sa.Column("synced_at", TEXT),
        sa.Column("updated_at", TEXT, nullable=False),
        sa.PrimaryKeyConstraint("dialogue_id", "version"),
        sa.ForeignKeyConstraint(
            ["dialogue_id", "version"],
            ["agreements.dialogue_id", "agreements.version"],
            ondelete="CASCADE",
        ),
    )
    behind = sa.text("item_revision < revision OR doc_revision < revision")
    op.create_index(
        "sharepoint_outbox_due",
        "sharepoint_outbox",
        ["next_attempt_at"],
        sqlite_where=behind,
        postgresql_where=behind,
    )

    op.create_table(
        "reminder_ledger",
        sa.Column("recipient_id", TEXT, nullable=False),
        sa.Column("kind", TEXT, nullable=False),
        sa.Column("week", TEXT, nullable=False),
        sa.Column("state", TEXT, nullable=False),
        sa.Column("attempts", INT, nullable=False, server_default="0"),
        sa.Column("not_before", TEXT, nullable=False),
        sa.Column("last_status", INT),
        sa.Column("updated_at", TEXT, nullable=False),
        sa.PrimaryKeyConstraint("recipient_id", "kind", "week"),
    )
    op.create_index("reminder_ledger_by_week", "reminder_ledger", ["week", "state", "not_before"])
    op.create_table(
        "reminder_weeks",
        sa.Column("week", TEXT, primary_key=True),
        sa.Column("planned_at", TEXT, nullable=False),
    )
    op.create_table(
        "reminder_preferences",
        sa.Column("user_id", TEXT, nullable=False),
        sa.Column("kind", TEXT, nullable=False),
        sa.Column("stopped", INT, nullable=False, server_default="0"),
        sa.Column("snoozed_week", TEXT),
        sa.Column("updated_at", TEXT, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "kind"),
    )
    op.create_table(
        "pulse_answers",
        sa.Column("employee_id", TEXT, nullable=False),
        sa.Column("week", TEXT, nullable=False),
        sa.Column("answers", TEXT, nullable=False),
        sa.Column("created_at", TEXT, nullable=False),
        sa.PrimaryKeyConstraint("employee_id", "week"),
    )
    op.create_table(
        "leases",
        sa.Column("name", TEXT, primary_key=True),
        sa.Column("holder", TEXT, nullable=False),
        sa.Column("until", TEXT, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "leases",
        "pulse_answers",
        "reminder_preferences",
        "reminder_weeks",
        "reminder_ledger",
        "sharepoint_outbox",
        "self_checks",
        "bot_state",
        "conversation_refs",
        "agreements",
        "dialogues",
    ):
        op.drop_table(table)
