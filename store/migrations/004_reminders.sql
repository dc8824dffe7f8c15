-- Weekly reminders: the send ledger (one row per recipient, kind and ISO week: each reminder
-- goes out once), the weeks already planned, who stopped or snoozed what, the pulse answers,
-- and a lease so that only one bot process sends at a time.
CREATE TABLE reminder_ledger (
    recipient_id TEXT NOT NULL,
    kind         TEXT NOT NULL,
    week         TEXT NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    not_before   TEXT NOT NULL,
    last_status  INTEGER,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (recipient_id, kind, week)
);
CREATE INDEX reminder_ledger_by_week ON reminder_ledger (week, state, not_before);

CREATE TABLE reminder_weeks (
    week       TEXT PRIMARY KEY,
    planned_at TEXT NOT NULL
);

CREATE TABLE reminder_preferences (
    user_id        TEXT NOT NULL,
    kind           TEXT NOT NULL,
    stopped        INTEGER NOT NULL DEFAULT 0,
    snoozed_week   TEXT,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (user_id, kind)
);

CREATE TABLE pulse_answers (
    employee_id TEXT NOT NULL,
    week        TEXT NOT NULL,
    answers     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (employee_id, week)
);

CREATE TABLE leases (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until  TEXT NOT NULL
);
