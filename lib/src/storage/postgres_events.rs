//! [`EventStore`] on PostgreSQL: outbox claims with `FOR UPDATE SKIP LOCKED` and a lease, so any
//! number of relays and schedulers can run at once without double work.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, Row};
use uuid::Uuid;

use super::postgres::{PgTaskStore, bind_raw, decode, insert_events};
use super::sql::{Dialect, READ_COLUMNS, RawTask, TASK_COLUMNS};
use crate::domain::event::IncomingEvent;
use crate::domain::{DomainEvent, OwnerId, Task, TaskId};
use crate::ports::{ActivityQuery, AuditEntry, EventStore, Notification, OutboxRow, StoreError};

fn audit(row: &PgRow) -> Result<AuditEntry, StoreError> {
    let payload: Json<serde_json::Value> = row.try_get("payload")?;
    Ok(AuditEntry {
        event_id: row.try_get("event_id")?,
        task_id: TaskId(row.try_get("task_id")?),
        event_type: row.try_get("event_type")?,
        source: row.try_get("source")?,
        occurred_at: row.try_get("occurred_at")?,
        recorded_at: row.try_get("recorded_at")?,
        payload: payload.0,
    })
}

fn notification(row: &PgRow) -> Result<Notification, StoreError> {
    Ok(Notification {
        id: row.try_get("id")?,
        event_id: row.try_get("event_id")?,
        owner: row.try_get("owner_id")?,
        task_id: TaskId(row.try_get("task_id")?),
        title: row.try_get("title")?,
        message: row.try_get("message")?,
        due_at: row.try_get("due_at")?,
        created_at: row.try_get("created_at")?,
        read_at: row.try_get("read_at")?,
        delivered_at: row.try_get("delivered_at")?,
    })
}

const AUDIT_COLUMNS: &str =
    "event_id, task_id, event_type, source, occurred_at, recorded_at, payload";
const NOTIFICATION_COLUMNS: &str =
    "id, event_id, owner_id, task_id, title, message, due_at, created_at, read_at, delivered_at";

fn count(row: &PgRow) -> Result<u64, StoreError> {
    let n: i64 = row.try_get(0)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Appends events to the audit log in one statement (the columns as arrays, unnested into
/// rows); events already recorded (by id) are skipped. Returns how many were new.
async fn insert_audit(
    conn: &mut sqlx::PgConnection,
    evs: &[IncomingEvent],
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    if evs.is_empty() {
        return Ok(0);
    }
    let (mut ids, mut owners, mut tasks, mut types, mut sources, mut times, mut payloads) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    for ev in evs {
        ids.push(ev.id);
        owners.push(ev.owner.as_str());
        tasks.push(ev.task_id.0);
        types.push(ev.event_type.as_str());
        sources.push(ev.source.as_str());
        times.push(ev.time);
        payloads.push(Json(&ev.payload));
    }
    let done = sqlx::query(
        "INSERT INTO audit_log (event_id, owner_id, task_id, event_type, source, occurred_at, recorded_at, payload) \
         SELECT e, o, t, ty, s, oc, $7, p \
         FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::timestamptz[], $8::jsonb[]) \
              AS u(e, o, t, ty, s, oc, p) \
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(ids)
    .bind(owners)
    .bind(tasks)
    .bind(types)
    .bind(sources)
    .bind(times)
    .bind(now)
    .bind(payloads)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

#[async_trait]
impl EventStore for PgTaskStore {
    async fn prune_outbox(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        const BATCH: i64 = 1_000;
        let bound: Option<i64> = sqlx::query_scalar(super::postgres::PRUNE_BOUND_SQL)
            .bind(before)
            .fetch_one(self.pool())
            .await?;
        let mut pruned = 0;
        loop {
            let done = sqlx::query(super::postgres::PRUNE_OUTBOX_SQL)
                .bind(bound.unwrap_or(i64::MAX))
                .bind(before)
                .bind(BATCH)
                .execute(self.pool())
                .await?
                .rows_affected();
            pruned += done;
            if done < BATCH as u64 {
                return Ok(pruned);
            }
        }
    }

    async fn tidy_indexes(&self) -> Result<(), StoreError> {
        // Merging is safe alongside inserts (they append to the list's tail meanwhile) and
        // alongside another merge (this call waits for a running one, then finds the list
        // nearly empty). Committing it need not wait for the flush: it is index upkeep, redone
        // by any later merge or vacuum.
        self.relay()
            .execute(sqlx::query(
                "SELECT gin_clean_pending_list('tasks_search_idx'::regclass), \
                        gin_clean_pending_list('tasks_tags_idx'::regclass)",
            ))
            .await?;
        Ok(())
    }

    async fn outbox_published_many(
        &self,
        ids: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.relay()
            .execute(
                sqlx::query("UPDATE outbox SET published_at = $2 WHERE id = ANY($1)")
                    .bind(ids)
                    .bind(now),
            )
            .await?;
        Ok(())
    }

    async fn record_audit_many(
        &self,
        evs: &[IncomingEvent],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        // Only the in-process relay delivers batches (`InProcessPublisher`), between its claim
        // and its published mark, so this goes on the relay's connection, whose commits do not
        // wait for the WAL flush: the mark is written after these rows, and a crash loses the
        // WAL's tail, never its middle, so a mark that survives has its audit rows with it; a
        // lost one sends the events again and the audit skips the ids it has. (`record_audit`,
        // which answers an event delivered by Dapr, commits durably before its 200.)
        let mut kept = self.relay().get().await?;
        let outcome = insert_audit(kept.conn(), evs, now).await;
        kept.done(outcome).map(|_| ())
    }

    // Oldest first, and only the oldest unpublished event of each task (so a task's events leave
    // in order). `OFFSET 0` keeps the "no older unpublished event of its task" test a correlated
    // subplan, one probe of the (task_id, seq) index per candidate: without it PostgreSQL may turn
    // it into an anti-join, which on a young table without statistics it ran as a nested loop
    // over the whole backlog (minutes, on 13,000 unpublished rows). `attempts >= 0` (always true)
    // is what lets the outer walk use the unpublished-by-seq index (migration 4).
    async fn claim_outbox(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease_secs: i64,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let rows = self
            .relay()
            .fetch_all(
                sqlx::query(super::postgres::CLAIM_OUTBOX_SQL)
                    .bind(now)
                    .bind(i64::from(limit))
                    .bind(now + Duration::seconds(lease_secs)),
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let ce: Json<serde_json::Value> = r.try_get("cloudevent")?;
            let seq: i64 = r.try_get("seq")?;
            out.push((
                seq,
                OutboxRow {
                    id: r.try_get("id")?,
                    task_id: TaskId(r.try_get("task_id")?),
                    cloudevent: ce.0,
                    attempts: r.try_get("attempts")?,
                },
            ));
        }
        out.sort_by_key(|(seq, _)| *seq);
        Ok(out.into_iter().map(|(_, r)| r).collect())
    }

    async fn outbox_published(&self, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.relay()
            .execute(
                sqlx::query("UPDATE outbox SET published_at = $2 WHERE id = $1")
                    .bind(id)
                    .bind(now),
            )
            .await?;
        Ok(())
    }

    async fn outbox_failed(
        &self,
        id: Uuid,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.relay()
            .execute(
                sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 WHERE id = $1")
                    .bind(id)
                    .bind(error.chars().take(1000).collect::<String>())
                    .bind(retry_at),
            )
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
        let mut conn = self.pool().acquire().await?;
        Ok(insert_audit(&mut conn, std::slice::from_ref(ev), now).await? == 1)
    }

    async fn spawn_next(
        &self,
        from: TaskId,
        next: &Task,
        event_id: Uuid,
        events: &[DomainEvent],
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        let link = sqlx::query(
            "INSERT INTO recurrence_links (task_id, next_task_id, event_id, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (task_id) DO NOTHING",
        )
        .bind(from.0)
        .bind(next.id.0)
        .bind(event_id)
        .bind(next.created_at)
        .execute(&mut *tx)
        .await?;
        if link.rows_affected() == 0 {
            return Ok(false);
        }
        let sql = format!(
            "INSERT INTO tasks ({TASK_COLUMNS}) VALUES ({})",
            Dialect::Postgres.placeholders(1, 21)
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
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(n.id)
        .bind(n.event_id)
        .bind(&n.owner)
        .bind(n.task_id.0)
        .bind(&n.title)
        .bind(&n.message)
        .bind(n.due_at)
        .bind(n.created_at)
        .bind(deliver.then_some(n.created_at))
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn fire_due_reminders(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        source: &str,
    ) -> Result<Vec<Task>, StoreError> {
        let mut tx = self.pool().begin().await?;
        let sql = format!(
            "UPDATE tasks SET reminder_fired_at = $1 WHERE id IN ( \
               SELECT id FROM tasks WHERE reminder_at <= $1 AND reminder_fired_at IS NULL AND completed_at IS NULL \
               ORDER BY reminder_at LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING {READ_COLUMNS}"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(now)
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
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE task_id = $1 AND owner_id = $2 ORDER BY occurred_at, seq LIMIT $3 OFFSET $4"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(task.0)
            .bind(owner.as_str())
            .bind(i64::from(limit))
            .bind(i64::try_from(offset).unwrap_or(i64::MAX))
            .fetch_all(self.pool())
            .await?;
        let total = count(
            &sqlx::query("SELECT COUNT(*) FROM audit_log WHERE task_id = $1 AND owner_id = $2")
                .bind(task.0)
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
        let filter = "owner_id = $1 AND ($2::text IS NULL OR event_type = $2) AND ($3::uuid IS NULL OR task_id = $3)";
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE {filter} ORDER BY seq DESC LIMIT $4 OFFSET $5"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(owner.as_str())
            .bind(q.event_type.as_deref())
            .bind(q.task_id.map(|t| t.0))
            .bind(i64::from(q.limit))
            .bind(i64::try_from(q.offset).unwrap_or(i64::MAX))
            .fetch_all(self.pool())
            .await?;
        let total = count(
            &sqlx::query(AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM audit_log WHERE {filter}"
            )))
            .bind(owner.as_str())
            .bind(q.event_type.as_deref())
            .bind(q.task_id.map(|t| t.0))
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
        let filter = "owner_id = $1 AND (NOT $2 OR read_at IS NULL)";
        let sql = format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE {filter} ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(owner.as_str())
            .bind(unread_only)
            .bind(i64::from(limit))
            .bind(i64::try_from(offset).unwrap_or(i64::MAX))
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
        let done = sqlx::query("UPDATE notifications SET read_at = COALESCE(read_at, $3) WHERE id = $1 AND owner_id = $2")
            .bind(id)
            .bind(owner.as_str())
            .bind(now)
            .execute(self.pool())
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
            "UPDATE notifications SET next_delivery_at = $3 WHERE id IN ( \
               SELECT id FROM notifications WHERE delivered_at IS NULL AND next_delivery_at <= $1 \
               ORDER BY next_delivery_at LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING {NOTIFICATION_COLUMNS}"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(now)
            .bind(i64::from(limit))
            .bind(now + Duration::seconds(lease_secs))
            .fetch_all(self.pool())
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
            None => sqlx::query("UPDATE notifications SET delivered_at = $2, next_delivery_at = NULL WHERE id = $1")
                .bind(id)
                .bind(now)
                .execute(self.pool())
                .await?,
            Some(e) => sqlx::query(
                "UPDATE notifications SET delivery_attempts = delivery_attempts + 1, last_error = $2, next_delivery_at = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(e.chars().take(1000).collect::<String>())
            .bind(retry_at)
            .execute(self.pool())
            .await?,
        };
        Ok(())
    }
}
