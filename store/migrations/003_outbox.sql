-- The SharePoint outbox: one row per agreement version, written in the same transaction as
-- the agreement. revision counts its local changes, item_revision and doc_revision what
-- SharePoint has (no semicolons in comments: the migrator splits statements on them).
CREATE TABLE sharepoint_outbox (
    dialogue_id    TEXT NOT NULL,
    version        INTEGER NOT NULL,
    revision       INTEGER NOT NULL DEFAULT 1,
    item_revision  INTEGER NOT NULL DEFAULT 0,
    doc_revision   INTEGER NOT NULL DEFAULT 0,
    item_id        TEXT,
    etag           TEXT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error     TEXT,
    synced_at      TEXT,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (dialogue_id, version),
    FOREIGN KEY (dialogue_id, version) REFERENCES agreements (dialogue_id, version) ON DELETE CASCADE
);
CREATE INDEX sharepoint_outbox_due ON sharepoint_outbox (next_attempt_at)
    WHERE item_revision < revision OR doc_revision < revision;
-- Agreements stored before the outbox existed go to SharePoint too.
INSERT INTO sharepoint_outbox (dialogue_id, version, next_attempt_at, updated_at)
    SELECT dialogue_id, version, created_at, created_at FROM agreements
