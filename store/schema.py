"""Every table of the store, declared once, for SQLite and PostgreSQL alike.

The queries in store/ are built from these objects; the Alembic revisions in
store/migrations/ create and change them (a revision is frozen in time, so it spells out its
own columns instead of importing this module). ``tests/test_store_migrations.py`` checks
that a database migrated from scratch matches what is declared here, on both engines.

Moments are ISO 8601 text in UTC with microseconds (``store.database.utc_now``), as the
first release stored them: they sort as text, and a file of that release reads as it is.
Booleans are integers 0/1 for the same reason.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    or_,
    text,
)

metadata = MetaData()

#: Dialogues and their answers (one JSON document per dialogue, by step).
dialogues = Table(
    "dialogues",
    metadata,
    Column("id", Text, primary_key=True),
    Column("manager_id", Text, nullable=False),
    Column("manager_name", Text, nullable=False),
    Column("employee_id", Text),
    Column("employee_name", Text),
    Column("state", Text, nullable=False),
    Column("step", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("editing", Integer, nullable=False, server_default="0"),
    Column("answers", Text, nullable=False),
    Column("locale", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Column("agreement_version", Integer, nullable=False, server_default="0"),
    # The confirmed version in force while a newer one is worked on (revision 0005).
    Column("in_force_version", Integer, nullable=False, server_default="0"),
    Column("reopen_reason", Text),
    # The employee's department when they were chosen: casefolded, and as spelled (0006).
    Column("unit", Text),
    Column("unit_name", Text),
    Index("dialogues_by_manager", "manager_id", "state"),
    Index("dialogues_by_unit", "unit"),
    Index("dialogues_by_employee", "employee_id", "state"),
    # At most one untouched dialogue (in progress, nothing answered: version 1) per manager:
    # two "Start" presses that arrive together make one dialogue (revision 0003).
    Index(
        "one_untouched_dialogue_per_manager",
        "manager_id",
        unique=True,
        sqlite_where=text("state = 'in_progress' AND version = 1"),
        postgresql_where=text("state = 'in_progress' AND version = 1"),
    ),
)

#: Agreements: one row per version of a dialogue's outcome.
agreements = Table(
    "agreements",
    metadata,
    Column("dialogue_id", Text, ForeignKey("dialogues.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("state", Text, nullable=False),
    Column("manager_id", Text, nullable=False),
    Column("employee_id", Text),
    Column("employee_name", Text),
    Column("decision", Text, nullable=False),
    # A copy of the record's follow-up date, NOT NULL since the first release: an agreement
    # that does not approve home working may have no date for a new assessment, stored as
    # "" (the record holds null). Rebuilding the table on SQLite to change it would cascade
    # into the SharePoint outbox.
    Column("follow_up_date", Text, nullable=False),
    Column("record", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("employee_comment", Text),
    Column("answered_at", Text),
    PrimaryKeyConstraint("dialogue_id", "version"),
    Index("agreements_by_manager", "manager_id"),
    Index("agreements_by_employee", "employee_id"),
)

#: Where to reach a user proactively later (reminders, invitations).
conversation_refs = Table(
    "conversation_refs",
    metadata,
    Column("user_id", Text, nullable=False),
    Column("conversation_id", Text, nullable=False),
    Column("tenant_id", Text),
    Column("service_url", Text, nullable=False),
    Column("reference", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Column("user_name", Text),
    PrimaryKeyConstraint("user_id", "conversation_id"),
)

#: botbuilder's conversation and user state, eTag-checked.
bot_state = Table(
    "bot_state",
    metadata,
    Column("key", Text, primary_key=True),
    Column("etag", Text, nullable=False),
    Column("data", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)

#: The employees' self-checks.
self_checks = Table(
    "self_checks",
    metadata,
    Column("id", Text, primary_key=True),
    Column("employee_id", Text, nullable=False),
    Column("employee_name", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("step", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("answers", Text, nullable=False),
    Column("locale", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Index("self_checks_by_employee", "employee_id", "state"),
    # At most one self-check in progress per employee (revision 0003).
    Index(
        "one_open_self_check_per_employee",
        "employee_id",
        unique=True,
        sqlite_where=text("state = 'in_progress'"),
        postgresql_where=text("state = 'in_progress'"),
    ),
)

#: An employee's requests: a new conversation about an agreement ("follow_up") or a first
#: conversation with the manager they named ("conversation"), until the manager starts it.
conversation_requests = Table(
    "conversation_requests",
    metadata,
    Column("id", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("employee_id", Text, nullable=False),
    Column("employee_name", Text),
    Column("manager_id", Text, nullable=False),
    Column("manager_name", Text),
    Column("dialogue_id", Text),
    Column("comment", Text),
    Column("self_check_id", Text),
    Column("state", Text, nullable=False),
    Column("locale", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("handled_at", Text),
    Index("conversation_requests_by_manager", "manager_id", "state"),
    Index("conversation_requests_by_employee", "employee_id"),
    # Two copies of one request that arrive together make one (revision 0005).
    Index(
        "one_open_request_per_pair",
        "employee_id",
        "manager_id",
        "kind",
        unique=True,
        sqlite_where=text("state = 'open'"),
        postgresql_where=text("state = 'open'"),
    ),
)

#: The SharePoint outbox: one row per agreement version, written in the same transaction as
#: the agreement. ``revision`` counts its local changes, ``item_revision``, ``doc_revision``
#: and ``actions_revision`` what SharePoint has (the list item, the summary document, the
#: version's action items). ``item_claim``/``doc_claim``/``actions_claim`` name the syncer
#: that is sending that part until ``*_claimed_until``.
sharepoint_outbox = Table(
    "sharepoint_outbox",
    metadata,
    Column("dialogue_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("revision", Integer, nullable=False, server_default="1"),
    Column("item_revision", Integer, nullable=False, server_default="0"),
    Column("doc_revision", Integer, nullable=False, server_default="0"),
    Column("item_id", Text),
    Column("etag", Text),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", Text, nullable=False),
    Column("last_error", Text),
    Column("synced_at", Text),
    Column("updated_at", Text, nullable=False),
    Column("item_claim", Text),
    Column("item_claimed_until", Text),
    Column("doc_claim", Text),
    Column("doc_claimed_until", Text),
    # The version's action items in SharePoint's second list (revision 0004).
    Column("actions_revision", Integer, nullable=False, server_default="0"),
    Column("actions_claim", Text),
    Column("actions_claimed_until", Text),
    PrimaryKeyConstraint("dialogue_id", "version"),
    ForeignKeyConstraint(
        ["dialogue_id", "version"],
        ["agreements.dialogue_id", "agreements.version"],
        ondelete="CASCADE",
    ),
)
_outbox_behind = or_(
    sharepoint_outbox.c.item_revision < sharepoint_outbox.c.revision,
    sharepoint_outbox.c.doc_revision < sharepoint_outbox.c.revision,
    sharepoint_outbox.c.actions_revision < sharepoint_outbox.c.revision,
)
Index(
    "sharepoint_outbox_due",
    sharepoint_outbox.c.next_attempt_at,
    sqlite_where=_outbox_behind,
    postgresql_where=_outbox_behind,
)

#: The follow-up actions of confirmed agreement versions: one row per dialogue, version and
#: action key (revision 0004). ``owner_role`` says who does it; the status (open, done,
#: not_needed) says who changed it and when. ``sp_item_id``/``sp_etag`` are the item in
#: SharePoint's second list, sent through the outbox row of its agreement version;
#: ``revision`` counts the item's local changes, ``sp_revision`` the one SharePoint has.
action_items = Table(
    "action_items",
    metadata,
    Column("dialogue_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("item_key", Text, nullable=False),
    Column("rule", Text, nullable=False),
    Column("owner_role", Text, nullable=False),
    Column("manager_id", Text, nullable=False),
    Column("employee_id", Text),
    Column("due_date", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("status_by", Text),
    Column("status_at", Text),
    Column("created_at", Text, nullable=False),
    Column("sp_item_id", Text),
    Column("sp_etag", Text),
    Column("revision", Integer, nullable=False, server_default="1"),
    Column("sp_revision", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint("dialogue_id", "version", "item_key"),
    ForeignKeyConstraint(
        ["dialogue_id", "version"],
        ["agreements.dialogue_id", "agreements.version"],
        ondelete="CASCADE",
    ),
    Index("action_items_by_manager", "manager_id", "status"),
    Index("action_items_by_employee", "employee_id", "status"),
)

#: The reminders' send ledger: one row per recipient, kind and ISO week. ``claimed_by``
#: names the sender that took the row until ``claimed_until``.
reminder_ledger = Table(
    "reminder_ledger",
    metadata,
    Column("recipient_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("week", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("not_before", Text, nullable=False),
    Column("last_status", Integer),
    Column("updated_at", Text, nullable=False),
    Column("claimed_by", Text),
    Column("claimed_until", Text),
    PrimaryKeyConstraint("recipient_id", "kind", "week"),
    Index("reminder_ledger_by_week", "week", "state", "not_before"),
)

reminder_weeks = Table(
    "reminder_weeks",
    metadata,
    Column("week", Text, primary_key=True),
    Column("planned_at", Text, nullable=False),
)

reminder_preferences = Table(
    "reminder_preferences",
    metadata,
    Column("user_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("stopped", Integer, nullable=False, server_default="0"),
    Column("snoozed_week", Text),
    Column("updated_at", Text, nullable=False),
    PrimaryKeyConstraint("user_id", "kind"),
)

pulse_answers = Table(
    "pulse_answers",
    metadata,
    Column("employee_id", Text, nullable=False),
    Column("week", Text, nullable=False),
    Column("answers", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    # For the anonymous overview (revision 0006): the employee's unit when they answered
    # (as dialogues.unit) and the topics marked a problem (core.reminders.problem_mask).
    Column("unit", Text),
    Column("problems", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint("employee_id", "week"),
    Index("pulse_answers_by_week", "week", "unit", "problems"),
)

#: The pulse answers counted per (ISO week, unit) as they are saved (revision 0007), so the
#: anonymous overview reads a few rows per week instead of every answer: ``n`` answers, and
#: per pulse topic how many of them marked it a problem (store/pulse_counts.py keeps them
#: equal to what a scan of pulse_answers gives). ``unit`` is "" for "unit not given".
pulse_counts = Table(
    "pulse_counts",
    metadata,
    Column("week", Text, nullable=False),
    Column("unit", Text, nullable=False),
    Column("n", Integer, nullable=False),
    Column("breaks", Integer, nullable=False),
    Column("workstation", Integer, nullable=False),
    Column("colleagues", Integer, nullable=False),
    Column("work_life", Integer, nullable=False),
    Column("rest", Integer, nullable=False),
    PrimaryKeyConstraint("week", "unit"),
)

#: Named leases (the reminders' sender): who holds it until when.
leases = Table(
    "leases",
    metadata,
    Column("name", Text, primary_key=True),
    Column("holder", Text, nullable=False),
    Column("until", Text, nullable=False),
)
