//! PostgreSQL adapter: native UUIDs and timestamps, `jsonb` tags (GIN-indexed), trigram-indexed
//! search text. Migrations in `lib/migrations/postgres` run under sqlx's advisory lock, so several
//! replicas can start at once.

use async_trait::async_trait;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::query::Query;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, PgPool, Postgres, Row};
use std::sync::Arc;
use std::time::Duration;

use super::pg_batch::{InsertBatcher, NewRow};
use super::pg_kept::KeptConnection;
use super::sql::{Bind, Dialect, READ_COLUMNS, RawTask, TASK_COLUMNS, list_filter, list_order};
use crate::domain::{DomainEvent, OwnerId, Task, TaskId};
use crate::flights::Flights;
use crate::ports::{ListQuery, StoreError, TaskPage, TaskStore, VersionPage, WriteOutcome};
use crate::snapshot_cache::SnapshotCache;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The relay's claim: leases (`$3`, the lease's end) up to `$2` due (`$1`, now) unpublished
/// events, oldest first, each the oldest unpublished event of its task (see `claim_outbox`).
/// Public so a test can check its plan.
pub const CLAIM_OUTBOX_SQL: &str = "UPDATE outbox SET next_attempt_at = $3 WHERE seq IN ( \
       SELECT o.seq FROM outbox o WHERE o.published_at IS NULL AND o.attempts >= 0 AND o.next_attempt_at <= $1 \
       AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.task_id = o.task_id AND p.published_at IS NULL AND p.seq < o.seq OFFSET 0) \
       ORDER BY o.seq LIMIT $2 FOR UPDATE SKIP LOCKED) \
     RETURNING seq, id, task_id, cloudevent, attempts";

/// The relay's prune, in two steps that both walk the primary key from the oldest event, so
/// they read about as many rows as they delete (a filter on `published_at` alone read the whole
/// table: an hour of events, 114 ms at 94,000 rows, 1.9 s on a busy machine). First the oldest
/// event created at or after the cut-off `$1` (events are numbered in the order they are
/// written; everything before it is older)...
pub const PRUNE_BOUND_SQL: &str = "SELECT min(seq) FROM outbox WHERE created_at >= $1";
/// ... then, in batches of `$3`, the events before that bound (`$1`) published before the
/// cut-off (`$2`). Public, with [`PRUNE_BOUND_SQL`], so a test can check their plans.
/// (`= ANY(ARRAY(...))`, not `IN (...)`: the latter was planned as a hash join over a scan
/// of the whole table.)
pub const PRUNE_OUTBOX_SQL: &str = "DELETE FROM outbox WHERE seq = ANY(ARRAY( \
       SELECT seq FROM outbox WHERE seq < $1 AND published_at < $2 ORDER BY seq LIMIT $3))";

/// What names the state of `tasks` a statement reads: the number of committed changes to it
/// (migration 7's `task_changes`, added to by a trigger on every write). Equal values mean the
/// same tasks; see `snapshot_cache`.
macro_rules! tasks_state {
    () => {
        "(SELECT COALESCE(sum(n), 0) FROM task_changes)::text"
    };
}
const TASKS_STATE: &str = tasks_state!();

/// Memory for remembered list totals (a few thousand filters).
const COUNT_CACHE_BYTES: usize = 1 << 20;

/// A pooled connection idle this long is checked (one round trip) before it is handed out;
/// see [`pool_options`].
const IDLE_CHECK: Duration = Duration::from_millis(250);

/// The options of every pool of the store. sqlx checks each connection with a round trip to
/// the server (a `Sync`, answered by `ReadyForQuery`) every time it leaves the pool, so a
/// create, a get or a list paid a second round trip, with a wake-up of the server process on
/// each side, for its one statement. That check is what finds a connection the server closed
/// while it sat in the pool (a restart, `idle_session_timeout`, a middlebox dropping idle
/// connections), so it stays for connections idle longer than [`IDLE_CHECK`]; one in steady
/// use goes out unchecked. What that gives up: a connection the server closed less than
/// 250 ms after its last use, taken again within those 250 ms, fails its statement (503; sqlx
/// closes it on its way back). A restart, which is down for longer than that, does not do it:
/// a connection not used since the server went down has been idle for as long, and one used
/// meanwhile failed then (the server was down) and was closed. Killing a backend by hand
/// (`pg_terminate_backend`) can.
fn pool_options(max_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= IDLE_CHECK {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// The PostgreSQL task store.
#[derive(Clone)]
pub struct PgTaskStore {
    pool: PgPool,
    /// List totals by filter (see `snapshot_cache`).
    counts: Arc<SnapshotCache<u64>>,
    /// Counts in progress, by filter and page state (see `count_shared`).
    flights: Arc<Flights<(u64, String)>>,
    /// Creates, batched across concurrent requests.
    inserts: InsertBatcher,
    /// The relay's bookkeeping connection (leases, published marks, retry times), kept between
    /// statements (`pg_kept`), from a pool of its own whose connections commit without waiting
    /// for the WAL flush (`synchronous_commit = off`): losing one of those updates in a crash
    /// only makes an event go out again, which every consumer already deduplicates by event
    /// id. Task writes and consumer effects never use this pool.
    relay: Arc<KeptConnection>,
}

impl PgTaskStore {
    /// Connects (one connection is opened now to run migrations; the rest on demand).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options: PgConnectOptions = url.parse()?;
        let pool = match pool_options(max_connections)
            .connect_with(options.clone())
            .await
        {
            Ok(pool) => pool,
            // The pool tries until its acquire timeout and then names only that; one direct
            // attempt names the cause (connection refused, unknown host, the server's refusal).
            // Bounded: a host that drops packets would otherwise hold start-up for the TCP
            // timeout (minutes).
            Err(sqlx::Error::PoolTimedOut) => {
                let direct = <sqlx::PgConnection as sqlx::Connection>::connect_with(&options);
                let cause = match tokio::time::timeout(Duration::from_secs(5), direct).await {
                    Ok(Err(e)) => e,
                    Ok(Ok(_)) | Err(_) => sqlx::Error::PoolTimedOut,
                };
                return Err(cause.into());
            }
            Err(e) => return Err(e.into()),
        };
        MIGRATOR.run(&pool).await.map_err(StoreError::Migration)?;
        let relay_options = options.clone().options([("synchronous_commit", "off")]);
        // One connection, kept: the relay claims and marks one batch at a time.
        let relay = Arc::new(KeptConnection::new(
            pool_options(1).connect_lazy_with(relay_options),
        ));
        // The inserters' connections, kept between batches, from a pool of their own: kept
        // connections taken from the requests' pool would leave a small one (1 or 2) to them.
        let insert_pool =
            pool_options(super::pg_batch::INSERTERS as u32).connect_lazy_with(options);
        Ok(Self {
            relay,
            counts: Arc::new(SnapshotCache::new(COUNT_CACHE_BYTES)),
            flights: Arc::default(),
            inserts: InsertBatcher::spawn(insert_pool),
            pool,
        })
    }

    /// Tasks created so far by statements that wrote several at once (see `pg_batch`).
    pub fn batched_creates(&self) -> u64 {
        self.inserts.batched_rows()
    }

    /// Creates written again alone so far, after the statement that held them failed.
    pub fn rewritten_creates(&self) -> u64 {
        self.inserts.rewritten_rows()
    }

    /// The relay's bookkeeping pool (`synchronous_commit = off`; see the field), for a test
    /// to read its settings before the relay runs: once it has, the relay keeps the pool's
    /// one connection, and taking one from it waits for the acquire timeout.
    pub fn relay_pool(&self) -> &PgPool {
        self.relay.pool()
    }

    /// The relay's kept bookkeeping connection.
    pub(super) fn relay(&self) -> &KeptConnection {
        &self.relay
    }

    /// The pool, for the event-side adapters that share the database.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

pub(super) fn bind_raw<'q>(
    q: Query<'q, Postgres, PgArguments>,
    r: &RawTask,
) -> Query<'q, Postgres, PgArguments> {
    q.bind(r.id)
        .bind(r.owner_id.clone())
        .bind(r.title.clone())
        .bind(r.title_key.clone())
        .bind(r.description.clone())
        .bind(r.search_text.clone())
        .bind(r.status.clone())
        .bind(r.priority)
        .bind(Json(r.tags.clone()))
        .bind(r.due_date)
        .bind(r.reminder_at)
        .bind(r.recurrence_rule.clone())
        .bind(r.recurrence_anchor.clone())
        .bind(r.timezone.clone())
        .bind(r.series_id)
        .bind(r.series_start)
        .bind(r.occurrence)
        .bind(r.completed_at)
        .bind(r.created_at)
        .bind(r.updated_at)
        .bind(r.version)
}

/// Reads a row selected with [`READ_COLUMNS`], by position.
pub(super) fn decode(row: &PgRow) -> Result<Task, StoreError> {
    let tags: Json<Vec<String>> = row.try_get(6)?;
    RawTask {
        id: row.try_get(0)?,
        owner_id: row.try_get(1)?,
        title: row.try_get(2)?,
        title_key: String::new(),
        description: row.try_get(3)?,
        search_text: String::new(),
        status: row.try_get(4)?,
        priority: row.try_get(5)?,
        tags: tags.0,
        due_date: row.try_get(7)?,
        reminder_at: row.try_get(8)?,
        recurrence_rule: row.try_get(9)?,
        recurrence_anchor: row.try_get(10)?,
        timezone: row.try_get(11)?,
        series_id: row.try_get(12)?,
        series_start: row.try_get(13)?,
        occurrence: row.try_get(14)?,
        completed_at: row.try_get(15)?,
        created_at: row.try_get(16)?,
        updated_at: row.try_get(17)?,
        version: row.try_get(18)?,
    }
    .into_task()
}

pub(super) async fn insert_events(
    tx: &mut sqlx::PgConnection,
    events: &[DomainEvent],
) -> Result<(), StoreError> {
    for ev in events {
        sqlx::query(
            "INSERT INTO outbox (id, task_id, event_type, topic, cloudevent, created_at, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(ev.id)
        .bind(ev.task_id.0)
        .bind(ev.event_type.as_str())
        .bind(crate::domain::event::TOPIC)
        .bind(Json(ev.to_cloudevent()))
        .bind(ev.time)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

fn bind_list<'q>(
    mut q: Query<'q, Postgres, PgArguments>,
    binds: &[Bind],
) -> Query<'q, Postgres, PgArguments> {
    for b in binds {
        q = match b {
            Bind::Text(s) => q.bind(s.clone()),
            Bind::Int(i) => q.bind(*i as i16),
            Bind::Uuid(u) => q.bind(*u),
        };
    }
    q
}

impl PgTaskStore {
    /// A list page: `columns`, then the state of the tasks the statement read (`TASKS_STATE`),
    /// in list order.
    async fn page_rows(
        &self,
        columns: &str,
        filter: &str,
        binds: &[Bind],
        q: &ListQuery,
    ) -> Result<Vec<PgRow>, StoreError> {
        // LIMIT and OFFSET are written into the statement, not bound: PostgreSQL then finds
        // the plan it would make for the values (costed for this limit) no better than the
        // statement's generic one, and reuses that after five executions instead of planning
        // the statement again every time (about 30 % of its time on a list, measured). The
        // filter columns decide the index; their values hardly change the best plan. Searches
        // are sent unnamed, so planned for their words every time (`is_search`).
        let sql = format!(
            "SELECT {columns}, {TASKS_STATE} FROM tasks WHERE {filter} ORDER BY {} LIMIT {} OFFSET {}",
            list_order(Dialect::Postgres, q),
            q.limit,
            i64::try_from(q.offset).unwrap_or(i64::MAX)
        );
        Ok(bind_list(sqlx::query(AssertSqlSafe(sql)), binds)
            .persistent(!is_search(q))
            .fetch_all(&self.pool)
            .await?)
    }

    /// The number of tasks matching `filter`, from the counts kept per snapshot when the page
    /// was read under one (`page_snapshot`), else counted. Also returns the snapshot both the
    /// page and the total were read under, if they were read under the same one (a write
    /// between the two statements leaves the page without one: it is not kept).
    async fn total(
        &self,
        filter: &str,
        binds: &[Bind],
        page_snapshot: Option<String>,
    ) -> Result<(u64, Option<String>), StoreError> {
        let key = format!("{filter} {binds:?}");
        if let Some(snap) = page_snapshot.as_deref()
            && let Some(total) = self.counts.get(key.as_str(), snap)
        {
            return Ok((total, page_snapshot));
        }
        let (total, counted_under) = self
            .count_shared(&key, filter, binds, page_snapshot.as_deref())
            .await?;
        self.counts.put(key, counted_under.clone(), total);
        Ok((total, page_snapshot.filter(|s| *s == counted_under)))
    }

    /// Counts for `key`, sharing the work with the lists that need the same count at the same
    /// time: after a write, every list in flight misses its kept total at once, and one count
    /// serves them all. Requests share a count only if their pages saw the same state of the
    /// tasks (`page_state`); the count starts after one of those pages was read, so it sees at
    /// least what each of them saw: a total is never older than its page. A request whose page
    /// is empty names no state and counts on its own.
    async fn count_shared(
        &self,
        key: &str,
        filter: &str,
        binds: &[Bind],
        page_state: Option<&str>,
    ) -> Result<(u64, String), StoreError> {
        let Some(state) = page_state else {
            return self.count(filter, binds).await;
        };
        self.flights
            .share(format!("{key}\u{1f}{state}"), || self.count(filter, binds))
            .await
    }

    /// Counts the tasks matching `filter`, with the state of `tasks` counted.
    async fn count(&self, filter: &str, binds: &[Bind]) -> Result<(u64, String), StoreError> {
        let sql = format!("SELECT COUNT(*), {TASKS_STATE} FROM tasks WHERE {filter}");
        // Unnamed, so planned for its values every time: counting a common status walks an
        // index, a rare one (or a search) may not.
        let row = bind_list(sqlx::query(AssertSqlSafe(sql)), binds)
            .persistent(false)
            .fetch_one(&self.pool)
            .await?;
        let total = u64::try_from(row.try_get::<i64, _>(0)?).unwrap_or(0);
        Ok((total, row.try_get(1)?))
    }
}

/// Searches are planned for their pattern each time (an unnamed statement): a trigram search's
/// best plan depends on the words.
fn is_search(q: &ListQuery) -> bool {
    q.search.as_deref().is_some_and(|s| !s.is_empty())
}

/// Distinguishes "gone" from "changed" after a conditional write touched no row.
async fn miss_reason(
    tx: &mut sqlx::PgConnection,
    owner: &OwnerId,
    id: TaskId,
) -> Result<WriteOutcome, StoreError> {
    let exists = sqlx::query("SELECT 1 FROM tasks WHERE id = $1 AND owner_id = $2")
        .bind(id.0)
        .bind(owner.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    Ok(if exists.is_some() {
        WriteOutcome::VersionMismatch
    } else {
        WriteOutcome::NotFound
    })
}

#[async_trait]
impl TaskStore for PgTaskStore {
    async fn insert(&self, task: &Task, events: &[DomainEvent]) -> Result<(), StoreError> {
        let raw = RawTask::from_task(task);
        if let [ev] = events {
            // The common case, one event: the task and its outbox row in one statement, shared
            // with the other creates in flight (see `pg_batch`).
            return self.inserts.insert(NewRow::new(raw, ev)).await;
        }
        let sql = format!(
            "INSERT INTO tasks ({TASK_COLUMNS}) VALUES ({})",
            Dialect::Postgres.placeholders(1, 21)
        );
        let mut tx = self.pool.begin().await?;
        bind_raw(sqlx::query(AssertSqlSafe(sql)), &raw)
            .execute(&mut *tx)
            .await?;
        insert_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get(&self, owner: &OwnerId, id: TaskId) -> Result<Option<Task>, StoreError> {
        let sql = format!("SELECT {READ_COLUMNS} FROM tasks WHERE id = $1 AND owner_id = $2");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.0)
            .bind(owner.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(decode).transpose()
    }

    async fn update(
        &self,
        task: &Task,
        expected_version: i64,
        events: &[DomainEvent],
    ) -> Result<WriteOutcome, StoreError> {
        let raw = RawTask::from_task(task);
        // $1 = id, $2 = owner, the rest overwritten; $22 = expected version. A changed
        // reminder time re-arms the reminder (the CASE sees the old value).
        let sql = "UPDATE tasks SET title = $3, title_key = $4, description = $5, search_text = $6, status = $7, \
                   priority = $8, tags = $9, due_date = $10, \
                   reminder_fired_at = CASE WHEN reminder_at IS DISTINCT FROM $11 THEN NULL ELSE reminder_fired_at END, \
                   reminder_at = $11, recurrence_rule = $12, recurrence_anchor = $13, timezone = $14, series_id = $15, \
                   series_start = $16, occurrence = $17, completed_at = $18, created_at = $19, updated_at = $20, \
                   version = $21 WHERE id = $1 AND owner_id = $2 AND version = $22";
        let mut tx = self.pool.begin().await?;
        let done = bind_raw(sqlx::query(sql), &raw)
            .bind(expected_version)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return miss_reason(&mut tx, &task.owner, task.id).await;
        }
        insert_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(WriteOutcome::Done)
    }

    async fn delete(
        &self,
        owner: &OwnerId,
        id: TaskId,
        expected_version: i64,
        events: &[DomainEvent],
    ) -> Result<WriteOutcome, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done =
            sqlx::query("DELETE FROM tasks WHERE id = $1 AND owner_id = $2 AND version = $3")
                .bind(id.0)
                .bind(owner.as_str())
                .bind(expected_version)
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 0 {
            return miss_reason(&mut tx, owner, id).await;
        }
        insert_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(WriteOutcome::Done)
    }

    async fn list(&self, owner: &OwnerId, q: &ListQuery) -> Result<TaskPage, StoreError> {
        let (filter, binds) = list_filter(Dialect::Postgres, owner, q);
        let rows = self.page_rows(READ_COLUMNS, &filter, &binds, q).await?;
        let tasks = rows.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
        // The snapshot is the column after READ_COLUMNS.
        let snapshot: Option<String> = rows.first().map(|r| r.try_get(19)).transpose()?;
        let (total, snapshot) = self.total(&filter, &binds, snapshot).await?;
        Ok(TaskPage {
            tasks,
            total,
            snapshot,
        })
    }

    async fn list_versions(
        &self,
        owner: &OwnerId,
        q: &ListQuery,
    ) -> Result<Option<VersionPage>, StoreError> {
        let (filter, binds) = list_filter(Dialect::Postgres, owner, q);
        let rows = self.page_rows("id, version", &filter, &binds, q).await?;
        let keys = rows
            .iter()
            .map(|r| Ok((TaskId(r.try_get(0)?), r.try_get(1)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let snapshot: Option<String> = rows.first().map(|r| r.try_get(2)).transpose()?;
        let (total, snapshot) = self.total(&filter, &binds, snapshot).await?;
        Ok(Some(VersionPage {
            keys,
            total,
            snapshot,
        }))
    }

    async fn get_many(&self, owner: &OwnerId, ids: &[TaskId]) -> Result<Vec<Task>, StoreError> {
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!("SELECT {READ_COLUMNS} FROM tasks WHERE id = ANY($1) AND owner_id = $2")
        });
        let ids: Vec<uuid::Uuid> = ids.iter().map(|id| id.0).collect();
        let rows = sqlx::query(AssertSqlSafe(SQL.as_str()))
            .bind(ids)
            .bind(owner.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decode).collect()
    }

    async fn tags(&self, owner: &OwnerId) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.tag, COUNT(*) AS n FROM tasks, jsonb_array_elements_text(tasks.tags) AS t(tag) \
             WHERE owner_id = $1 GROUP BY t.tag ORDER BY n DESC, t.tag COLLATE \"C\" ASC",
        )
        .bind(owner.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn snapshot(&self) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(concat!("SELECT ", tasks_state!()))
            .fetch_one(&self.pool)
            .await?;
        Ok(Some(row.try_get(0)?))
    }
}
