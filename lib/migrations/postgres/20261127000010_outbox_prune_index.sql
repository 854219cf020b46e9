-- The relay deletes events published over an hour ago, once a minute. Without an index that was
-- a scan of the whole table (an hour of events: 114 ms at 94,000 rows, 1.9 s on a busy machine,
-- growing with the rate), run inline in the relay loop. Rows are written in time order and keep
-- their place, so a BRIN index on `created_at` (a few pages, next to nothing to maintain) finds
-- the old ones: the prune asks for rows created and published before the cut-off. The prune
-- summarises the pages written since the last one first (`autosummarize` would instead queue a
-- request for autovacuum per filled range, and under a stream of writes the queue overflows
-- with a log line per request).
CREATE INDEX outbox_created_brin ON outbox USING brin (created_at) WITH (pages_per_range = 16);
