-- Dialogues in progress and their answers (one JSON document per dialogue, by step).
CREATE TABLE dialogues (
    id            TEXT PRIMARY KEY,
    manager_id    TEXT NOT NULL,
    manager_name  TEXT NOT NULL,
    employee_id   TEXT,
    employee_name TEXT,
    state         TEXT NOT NULL,
    step          TEXT NOT NULL,
    version       INTEGER NOT NULL,
    editing       INTEGER NOT NULL DEFAULT 0,
    answers       TEXT NOT NULL,
    locale        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX dialogues_by_manager ON dialogues (manager_id, state);

-- Agreements: one row per version of a dialogue's outcome.
CREATE TABLE agreements (
    dialogue_id    TEXT NOT NULL REFERENCES dialogues (id),
    version        INTEGER NOT NULL,
    state          TEXT NOT NULL,
    manager_id     TEXT NOT NULL,
    employee_id    TEXT,
    employee_name  TEXT,
    decision       TEXT NOT NULL,
    follow_up_date TEXT NOT NULL,
    record         TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (dialogue_id, version)
);
CREATE INDEX agreements_by_manager ON agreements (manager_id);
CREATE INDEX agreements_by_employee ON agreements (employee_id);

-- Where to reach a user proactively later (reminders, invitations).
CREATE TABLE conversation_refs (
    user_id         TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    tenant_id       TEXT,
    service_url     TEXT NOT NULL,
    reference       TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (user_id, conversation_id)
);

-- botbuilder's conversation/user state, eTag-checked.
CREATE TABLE bot_state (
    key        TEXT PRIMARY KEY,
    etag       TEXT NOT NULL,
    data       TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
