-- ANALYZE (autovacuum runs it as a table grows) reads a sample of 30,000 rows and sorts each
-- column's values. For the wide columns no query filters, joins or groups on, those statistics
-- are never used, and they were most of the work: on 52,000 rows, `ANALYZE audit_log` took
-- 270-460 ms, 250 ms of it the `payload` column, and `ANALYZE tasks` about 400 ms, 140 ms of
-- it `title` and `description` (search filters `search_text`, which keeps its statistics; sorting
-- by title uses `title_key`). On a small machine that time is taken from the requests.
ALTER TABLE tasks ALTER COLUMN title SET STATISTICS 0, ALTER COLUMN description SET STATISTICS 0;
ALTER TABLE audit_log ALTER COLUMN payload SET STATISTICS 0;
ALTER TABLE outbox ALTER COLUMN cloudevent SET STATISTICS 0;
