-- Tasks and the transactional outbox. UUIDs and timestamps are text (timestamps in a fixed-width
-- UTC form that sorts chronologically); tags are a JSON array.
CREATE TABLE tasks (
    id                TEXT PRIMARY KEY NOT NULL,
    owner_id          TEXT NOT NULL,
    title             TEXT NOT NULL,
    title_key         TEXT NOT NULL,
    description       TEXT,
    search_text       TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('pending', 'in_progress', 'completed')),
    priority          INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 3),
    tags              TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
    due_date          TEXT,
    reminder_at       TEXT,
    recurrence_rule   TEXT,
    recurrence_anchor TEXT NOT NULL DEFAULT 'schedule' CHECK (recurrence_anchor IN ('schedule', 'completion')),
    timezone          TEXT NOT NULL DEFAULT 'UTC',
    series_id         TEXT,
    series_start      TEXT,
    occurrence        INTEGER NOT NULL DEFAULT 1,
    reminder_fired_at TEXT,
    completed_at      TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    version           INTEGER NOT NULL,
    CONSTRAINT tasks_completed_at_matches_status CHECK ((status = 'completed') = (completed_at IS NOT NULL))
);

CREATE INDEX tasks_owner_created_idx  ON tasks (owner_id, created_at, id);
CREATE INDEX tasks_owner_due_idx      ON tasks (owner_id, due_date, id);
CREATE INDEX tasks_owner_priority_idx ON tasks (owner_id, priority, id);
CREATE INDEX tasks_owner_title_idx    ON tasks (owner_id, title_key, id);
CREATE INDEX tasks_owner_status_idx   ON tasks (owner_id, status);
CREATE INDEX tasks_series_idx         ON tasks (series_id) WHERE series_id IS NOT NULL;
CREATE INDEX tasks_reminder_due_idx   ON tasks (reminder_at) WHERE reminder_fired_at IS NULL AND completed_at IS NULL;

CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    task_id         TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    topic           TEXT NOT NULL,
    cloudevent      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    published_at    TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT
);

CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at, seq) WHERE published_at IS NULL;
