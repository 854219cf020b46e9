-- The reminder scan's index held every open task, with a NULL key for each task without a
-- reminder, so every create of such a task paid an index insert the scan never reads. It now
-- holds only tasks that have a reminder. The scan's `reminder_at <= ?1` implies
-- `reminder_at IS NOT NULL`, so the planner still uses it.
DROP INDEX tasks_reminder_due_idx;
CREATE INDEX tasks_reminder_due_idx ON tasks (reminder_at)
    WHERE reminder_at IS NOT NULL AND reminder_fired_at IS NULL AND completed_at IS NULL;
