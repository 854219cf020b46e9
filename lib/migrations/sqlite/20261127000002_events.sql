-- The consumers' tables: audit log, recurrence links, notifications (see the PostgreSQL twin).
CREATE INDEX outbox_task_pending_idx ON outbox (task_id, seq) WHERE published_at IS NULL;

CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    TEXT NOT NULL UNIQUE,
    owner_id    TEXT NOT NULL,
    task_id     TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    source      TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    payload     TEXT NOT NULL
);
CREATE INDEX audit_log_task_idx  ON audit_log (task_id, occurred_at, seq);
CREATE INDEX audit_log_owner_idx ON audit_log (owner_id, seq);

CREATE TABLE recurrence_links (
    task_id      TEXT PRIMARY KEY NOT NULL,
    next_task_id TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

CREATE TABLE notifications (
    id                TEXT PRIMARY KEY NOT NULL,
    event_id          TEXT NOT NULL UNIQUE,
    owner_id          TEXT NOT NULL,
    task_id           TEXT NOT NULL,
    title             TEXT NOT NULL,
    message           TEXT NOT NULL,
    due_at            TEXT,
    created_at        TEXT NOT NULL,
    read_at           TEXT,
    delivered_at      TEXT,
    delivery_attempts INTEGER NOT NULL DEFAULT 0,
    next_delivery_at  TEXT,
    last_error        TEXT
);
CREATE INDEX notifications_owner_idx    ON notifications (owner_id, created_at);
CREATE INDEX notifications_delivery_idx ON notifications (next_delivery_at) WHERE delivered_at IS NULL AND next_delivery_at IS NOT NULL;
