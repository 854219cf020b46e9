-- Idempotency-Key records when there is no Dapr state store: replicas sharing this database
-- (several all-in-one or function processes without sidecars) see each other's keys, so a retry
-- that reaches another replica replays the first response instead of acting again. Expired rows
-- are ignored by every read and deleted in small batches as new keys arrive.
CREATE TABLE idempotency_keys (
    key        text PRIMARY KEY,
    record     text NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at);
