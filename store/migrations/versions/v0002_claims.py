"""Claims: several instances drain the SharePoint outbox and the reminder ledger together.

A syncer or sender claims a row for a while (who, until when) inside a short transaction
that locks the rows it picks (FOR UPDATE SKIP LOCKED on PostgreSQL), so two instances never
pick the same row; an instance that dies leaves its claims to expire.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = {
    "sharepoint_outbox": ("item_claim", "item_claimed_until", "doc_claim", "doc_claimed_until"),
    "reminder_ledger": ("claimed_by", "claimed_until"),
}


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        for column in columns:
            op.add_column(table, sa.Column(column, sa.Text()))


def downgrade() -> None:
    for table, columns in COLUMNS.items():
        for column in columns:
            op.drop_column(table, column)
