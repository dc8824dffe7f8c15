-- The employee's side: agreement versions and their confirmation, the self-check, names for
-- finding a colleague's chat.
ALTER TABLE dialogues ADD COLUMN agreement_version INTEGER NOT NULL DEFAULT 0;
UPDATE dialogues SET agreement_version = 1, state = 'awaiting_employee' WHERE state = 'concluded';
ALTER TABLE agreements ADD COLUMN employee_comment TEXT;
ALTER TABLE agreements ADD COLUMN answered_at TEXT;
UPDATE agreements SET state = 'awaiting_employee' WHERE state = 'concluded';
CREATE INDEX dialogues_by_employee ON dialogues (employee_id, state);
ALTER TABLE conversation_refs ADD COLUMN user_name TEXT;

CREATE TABLE self_checks (
    id            TEXT PRIMARY KEY,
    employee_id   TEXT NOT NULL,
    employee_name TEXT NOT NULL,
    state         TEXT NOT NULL,
    step          TEXT NOT NULL,
    version       INTEGER NOT NULL,
    answers       TEXT NOT NULL,
    locale        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX self_checks_by_employee ON self_checks (employee_id, state);
