//! [`EventStore`] on SQLite. Writers are serialised by SQLite itself, so a claim (an `UPDATE …
//! RETURNING`) is atomic without row locks; the lease keeps a slow relay's rows to itself.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Row};
use uuid::Uuid;

use super::sql::{Dialect, READ_COLUMNS, RawTask, TASK_COLUMNS};
use super::sqlite::{SqliteTaskStore, bind_raw, decode, insert_events};
use crate::domain::event::IncomingEvent;
use crate::domain::time::{from_sortable_text, to_sortable_text};
use crate::domain::{DomainEvent, OwnerId, Task, TaskId};
use crate::ports::{ActivityQuery, AuditEntry, EventStore, Notification, OutboxRow, StoreError};

fn uuid(row: &SqliteRow, col: &str) -> Result<Uuid, StoreError> {
    let s: String = row.try_get(col)?;
    Uuid::parse_str(&s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

fn time(row: &SqliteRow, col: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    let s: Option<String> = row.try_get(col)?;
    s.map(|s| from_sortable_text(&s).map_err(StoreError::Corrupt))
        .transpose()
}

fn req_time(row: &SqliteRow, col: &str) -> Result<DateTime<Utc>, StoreError> {
    time(row, col)?.ok_or_else(|| StoreError::Corrupt(format!("{col} is null")))
}

fn json(row: &SqliteRow, col: &str) -> Result<serde_json::Value, StoreError> {
    let s: String = row.try_get(col)?;
    serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

fn audit(row: &SqliteRow) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        event_id: uuid(row, "event_id")?,
        task_id: TaskId(uuid(row, "task_id")?),
        event_type: row.try_get("event_type")?,
        source: row.try_get("source")?,
        occurred_at: req_time(row, "occurred_at")?,
        recorded_at: req_time(row, "recorded_at")?,
        payload: json(row, "payload")?,
    })
}

fn notification(row: &SqliteRow) -> Result<Notification, StoreError> {
    Ok(Notification {
        id: uuid(row, "id")?,
        event_id: uuid(row, "event_id")?,
        owner: row.try_get("owner_id")?,
        task_id: TaskId(uuid(row, "task_id")?),
        title: row.try_get("title")?,
        message: row.try_get("message")?,
        due_at: time(row, "due_at")?,
        created_at: req_time(row, "created_at")?,
        read_at: time(row, "read_at")?,
        delivered_at: time(row, "delivered_at")?,
    })
}

const AUDIT_COLUMNS: &str =
    "event_id, task_id, event_type, source, occurred_at, recorded_at, payload";
const NOTIFICATION_COLUMNS: &str =
    "id, event_id, owner_id, task_id, title, message, due_at, created_at, read_at, delivered_at";

fn count(row: &SqliteRow) -> Result<u64, StoreError> {
    let n: i64 = row.try_get(0)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

fn off(offset: u64) -> i64 {
    i64::try_from(offset).unwrap_or(i64::MAX)
}

/// Audit rows per multi-row INSERT (8 parameters each, far below SQLite's limit of 32,766).
const AUDIT_ROWS_PER_INSERT: usize = 100;

/// Appends events to the audit log, many rows per statement (each statement is a round trip to
/// the connection's thread); events already recorded (by id) are skipped. Returns how many were
/// new.
async fn insert_audit(
    conn: &mut sqlx::SqliteConnection,
    evs: &[IncomingEvent],
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let mut inserted = 0;
    for chunk in evs.chunks(AUDIT_ROWS_PER_INSERT) {
        let rows = vec!["(?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
        let sql = format!(
            "INSERT INTO audit_log (event_id, owner_id, task_id, event_type, source, occurred_at, recorded_at, payload) \
             VALUES {rows} ON CONFLICT (event_id) DO NOTHING"
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for ev in chunk {
            q = q
                .bind(ev.id.to_string())
                .bind(ev.owner.clone())
                .bind(ev.task_id.to_string())
                .bind(ev.event_type.as_str())
                .bind(ev.source.clone())
                .bind(to_sortable_text(&ev.time))
                .bind(to_sortable_text(&now))
                .bind(ev.payload.to_string());
        }
        inserted += q.execute(&mut *conn).await?.rows_affected();
    }
    Ok(inserted)
}

#[async_trait]
impl EventStore for SqliteTaskStore {
    async fn tidy_indexes(&self) -> Result<(), StoreError> {
        self.refresh_statistics_now_and_then().await
    }

    async fn prune_outbox(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let cut = to_sortable_text(&before);
        let bound: Option<i64> = sqlx::query_scalar(super::sqlite::PRUNE_BOUND_SQL)
            .bind(&cut)
            .fetch_optional(self.writer())
            .await?;
        let done = sqlx::query(super::sqlite::PRUNE_OUTBOX_SQL)
            .bind(bound.unwrap_or(i64::MAX))
            .bind(&cut)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected())
    }

    async fn outbox_published_many(
        &self,
        ids: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "UPDATE outbox SET published_at = ? WHERE id IN ({})",
            vec!["?"; ids.len()].join(", ")
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(to_sortable_text(&now));
        for id in ids {
            q = q.bind(id.to_string());
        }
        q.execute(self.writer()).await?;
        Ok(())
    }

    async fn record_audit_many(
        &self,
        evs: &[IncomingEvent],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        insert_audit(&mut tx, evs, now).await?;
        tx.commit().await?;
        Ok(())
    }

    // Oldest first (the partial index on unpublished `seq`), and only the oldest unpublished
    // event of each task, so a task's events leave in order: SQLite runs the correlated
    // `NOT EXISTS` as one probe of the (task_id, seq) index per candidate. `attempts >= 0` (always
    // true) is what lets the outer walk use the unpublished-by-seq index (migration 4).
    async fn claim_outbox(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease_secs: i64,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let rows = sqlx::query(
            "UPDATE outbox SET next_attempt_at = ?3 WHERE seq IN ( \
               SELECT o.seq FROM outbox o WHERE o.published_at IS NULL AND o.attempts >= 0 AND o.next_attempt_at <= ?1 \
               AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.task_id = o.task_id AND p.published_at IS NULL AND p.seq < o.seq) \
               ORDER BY o.seq LIMIT ?2) \
             RETURNING seq, id, task_id, cloudevent, attempts",
        )
        .bind(to_sortable_text(&now))
        .bind(i64::from(limit))
        .bind(to_sortable_text(&(now + Duration::seconds(lease_secs))))
        .fetch_all(self.writer())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let seq: i64 = r.try_get("seq")?;
            out.push((
                seq,
                OutboxRow {
                    id: uuid(r, "id")?,
                    task_id: TaskId(uuid(r, "task_id")?),
                    cloudevent: json(r, "cloudevent")?,
                    attempts: r.try_get("attempts")?,
                },
            ));
        }
        out.sort_by_key(|(seq, _)| *seq);
        Ok(out.into_iter().map(|(_, r)| r).collect())
    }

    async fn outbox_published(&self, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("UPDATE outbox SET published_at = ? WHERE id = ?")
            .bind(to_sortable_text(&now))
            .bind(id.to_string())
            .execute(self.writer())
            .await?;
        Ok(())
    }

    async fn outbox_failed(
        &self,
        id: Uuid,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?")
            .bind(error.chars().take(1000).collect::<String>())
            .bind(to_sortable_text(&retry_at))
            .bind(id.to_string())
            .execute(self.writer())
            .await?;
        Ok(())
    }

    async fn outbox_pending(&self) -> Result<u64, StoreError> {
        count(
            &sqlx::query("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")
                .fetch_one(self.pool())
                .await?,
        )
    }

    async fn record_audit(
        &self,
        ev: &IncomingEvent,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.writer().acquire().await?;
        Ok(insert_audit(&mut conn, std::slice::from_ref(ev), now).await? == 1)
    }

    async fn spawn_next(
        &self,
        from: TaskId,
        next: &Task,
        event_id: Uuid,
        events: &[DomainEvent],
    ) -> Result<bool, StoreError> {
        let mut tx = self.writer().begin().await?;
        let link = sqlx::query(
            "INSERT INTO recurrence_links (task_id, next_task_id, event_id, created_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (task_id) DO NOTHING",
        )
        .bind(from.to_string())
        .bind(next.id.to_string())
        .bind(event_id.to_string())
        .bind(to_sortable_text(&next.created_at))
        .execute(&mut *tx)
        .await?;
        if link.rows_affected() == 0 {
            return Ok(false);
        }
        let sql = format!(
            "INSERT INTO tasks ({TASK_COLUMNS}) VALUES ({})",
            Dialect::Sqlite.placeholders(1, 21)
        );
        bind_raw(sqlx::query(AssertSqlSafe(sql)), &RawTask::from_task(next))
            .execute(&mut *tx)
            .await?;
        insert_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn record_notification(
        &self,
        n: &Notification,
        deliver: bool,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO notifications (id, event_id, owner_id, task_id, title, message, due_at, created_at, next_delivery_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(n.id.to_string())
        .bind(n.event_id.to_string())
        .bind(&n.owner)
        .bind(n.task_id.to_string())
        .bind(&n.title)
        .bind(&n.message)
        .bind(n.due_at.as_ref().map(to_sortable_text))
        .bind(to_sortable_text(&n.created_at))
        .bind(deliver.then(|| to_sortable_text(&n.created_at)))
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn fire_due_reminders(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        source: &str,
    ) -> Result<Vec<Task>, StoreError> {
        let mut tx = self.writer().begin().await?;
        let sql = format!(
            "UPDATE tasks SET reminder_fired_at = ?1 WHERE id IN ( \
               SELECT id FROM tasks WHERE reminder_at <= ?1 AND reminder_fired_at IS NULL AND completed_at IS NULL \
               ORDER BY reminder_at LIMIT ?2) RETURNING {READ_COLUMNS}"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(to_sortable_text(&now))
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
        let tasks = rows.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
        let events: Vec<DomainEvent> = tasks
            .iter()
            .map(|t| DomainEvent::reminder_due(t, source, now))
            .collect();
        insert_events(&mut tx, &events).await?;
        tx.commit().await?;
        Ok(tasks)
    }

    async fn history(
        &self,
        owner: &OwnerId,
        task: TaskId,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<AuditEntry>, u64), StoreError> {
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE task_id = ? AND owner_id = ? ORDER BY occurred_at, seq LIMIT ? OFFSET ?"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(task.to_string())
            .bind(owner.as_str())
            .bind(i64::from(limit))
            .bind(off(offset))
            .fetch_all(self.pool())
            .await?;
        let total = count(
            &sqlx::query("SELECT COUNT(*) FROM audit_log WHERE task_id = ? AND owner_id = ?")
                .bind(task.to_string())
                .bind(owner.as_str())
                .fetch_one(self.pool())
                .await?,
        )?;
        Ok((rows.iter().map(audit).collect::<Result<_, _>>()?, total))
    }

    async fn activity(
        &self,
        owner: &OwnerId,
        q: &ActivityQuery,
    ) -> Result<(Vec<AuditEntry>, u64), StoreError> {
        let filter =
            "owner_id = ?1 AND (?2 IS NULL OR event_type = ?2) AND (?3 IS NULL OR task_id = ?3)";
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE {filter} ORDER BY seq DESC LIMIT ?4 OFFSET ?5"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(owner.as_str())
            .bind(q.event_type.as_deref())
            .bind(q.task_id.map(|t| t.to_string()))
            .bind(i64::from(q.limit))
            .bind(off(q.offset))
            .fetch_all(self.pool())
            .await?;
        let total = count(
            &sqlx::query(AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM audit_log WHERE {filter}"
            )))
            .bind(owner.as_str())
            .bind(q.event_type.as_deref())
            .bind(q.task_id.map(|t| t.to_string()))
            .fetch_one(self.pool())
            .await?,
        )?;
        Ok((rows.iter().map(audit).collect::<Result<_, _>>()?, total))
    }

    async fn notifications(
        &self,
        owner: &OwnerId,
        unread_only: bool,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<Notification>, u64), StoreError> {
        let filter = "owner_id = ?1 AND (NOT ?2 OR read_at IS NULL)";
        let sql = format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE {filter} ORDER BY created_at DESC, id DESC LIMIT ?3 OFFSET ?4"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(owner.as_str())
            .bind(unread_only)
            .bind(i64::from(limit))
            .bind(off(offset))
            .fetch_all(self.pool())
            .await?;
        let total = count(
            &sqlx::query(AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM notifications WHERE {filter}"
            )))
            .bind(owner.as_str())
            .bind(unread_only)
            .fetch_one(self.pool())
            .await?,
        )?;
        Ok((
            rows.iter().map(notification).collect::<Result<_, _>>()?,
            total,
        ))
    }

    async fn mark_notification_read(
        &self,
        owner: &OwnerId,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE notifications SET read_at = COALESCE(read_at, ?) WHERE id = ? AND owner_id = ?",
        )
        .bind(to_sortable_text(&now))
        .bind(id.to_string())
        .bind(owner.as_str())
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease_secs: i64,
    ) -> Result<Vec<Notification>, StoreError> {
        let sql = format!(
            "UPDATE notifications SET next_delivery_at = ?3 WHERE id IN ( \
               SELECT id FROM notifications WHERE delivered_at IS NULL AND next_delivery_at <= ?1 \
               ORDER BY next_delivery_at LIMIT ?2) RETURNING {NOTIFICATION_COLUMNS}"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(to_sortable_text(&now))
            .bind(i64::from(limit))
            .bind(to_sortable_text(&(now + Duration::seconds(lease_secs))))
            .fetch_all(self.writer())
            .await?;
        rows.iter().map(notification).collect()
    }

    async fn delivery_result(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        error: Option<&str>,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        match error {
            None => sqlx::query("UPDATE notifications SET delivered_at = ?, next_delivery_at = NULL WHERE id = ?")
                .bind(to_sortable_text(&now))
                .bind(id.to_string())
                .execute(self.writer())
                .await?,
            Some(e) => sqlx::query(
                "UPDATE notifications SET delivery_attempts = delivery_attempts + 1, last_error = ?, next_delivery_at = ? WHERE id = ?",
            )
            .bind(e.chars().take(1000).collect::<String>())
            .bind(to_sortable_text(&retry_at))
            .bind(id.to_string())
            .execute(self.writer())
            .await?,
        };
        Ok(())
    }
}
