//! One storage contract, run against SQLite and a real PostgreSQL server: the same story must
//! give the same answers, in the same order, on both.

mod support;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tasks::domain::task::NewTask;
use tasks::domain::time::parse_rfc3339;
use tasks::domain::{
    DomainEvent, OwnerId, Priority, RecurrenceRule, Status, Tag, Tags, Task, TaskChanges, TaskId,
    TaskTitle, TimeZoneName,
};
use tasks::ports::{ListQuery, SortField, SortOrder, TaskStore, WriteOutcome};

fn at(s: &str) -> DateTime<Utc> {
    parse_rfc3339(s).expect("time")
}

fn task(title: &str, priority: Priority, due: Option<&str>, tags: &[&str], created: &str) -> Task {
    let input = NewTask {
        title: Some(TaskTitle::parse(title).expect("title")),
        priority: Some(priority),
        due_date: due.map(at),
        tags: Some(Tags::parse(tags).expect("tags")),
        description: tasks::domain::Description::parse(&format!("about {title}"))
            .expect("description"),
        ..NewTask::default()
    };
    Task::create(TaskId::new(), OwnerId::local(), input, at(created)).expect("task")
}

fn ids(tasks: &[Task]) -> Vec<String> {
    tasks.iter().map(|t| t.title.as_str().to_string()).collect()
}

async fn list(store: &Arc<dyn TaskStore>, q: ListQuery) -> (Vec<String>, u64) {
    let page = store
        .list(
            &OwnerId::local(),
            &ListQuery {
                limit: if q.limit == 0 { 50 } else { q.limit },
                ..q
            },
        )
        .await
        .expect("list");
    (ids(&page.tasks), page.total)
}

/// The story. Returns every ordering it observed, so the two backends can be compared.
async fn contract(store: Arc<dyn TaskStore>) -> Vec<Vec<String>> {
    let owner = OwnerId::local();
    let mut seen = Vec::new();

    // GIVEN tasks with every kind of field, created at distinct times.
    let mut rows = vec![
        task(
            "Écrire le rapport",
            Priority::High,
            Some("2026-05-01T09:00:00+02:00"),
            &["work"],
            "2026-01-01T00:00:01Z",
        ),
        task(
            "buy milk",
            Priority::Low,
            None,
            &["home", "errand"],
            "2026-01-01T00:00:02Z",
        ),
        task(
            "Call Bob",
            Priority::Medium,
            Some("2026-04-01T09:00:00Z"),
            &["work"],
            "2026-01-01T00:00:03Z",
        ),
        task(
            "100% done_ish",
            Priority::High,
            None,
            &[],
            "2026-01-01T00:00:04Z",
        ),
        task(
            "zebra",
            Priority::Low,
            Some("2026-03-01T00:00:00Z"),
            &["home"],
            "2026-01-01T00:00:05Z",
        ),
        task(
            "apple",
            Priority::Medium,
            None,
            &["Work"],
            "2026-01-01T00:00:06Z",
        ),
    ];
    let mut recurring = task(
        "Standup",
        Priority::Medium,
        Some("2026-01-05T09:00:00-05:00"),
        &["work"],
        "2026-01-01T00:00:07Z",
    );
    recurring
        .apply(
            TaskChanges {
                recurrence_rule: Some(Some(
                    RecurrenceRule::parse("FREQ=WEEKLY;BYDAY=MO,WE,FR").expect("rule"),
                )),
                timezone: Some(TimeZoneName::parse("America/New_York").expect("tz")),
                ..TaskChanges::default()
            },
            at("2026-01-01T00:00:07Z"),
        )
        .expect("apply");
    rows.push(recurring);
    for t in &rows {
        store
            .insert(t, &[DomainEvent::created(t, "test", t.created_at)])
            .await
            .expect("insert");
    }

    // THEN each reads back exactly as written (offsets converted to UTC).
    for t in &rows {
        let back = store.get(&owner, t.id).await.expect("get").expect("exists");
        assert_eq!(&back, t);
    }
    assert_eq!(rows[0].due_date, Some(at("2026-05-01T07:00:00Z")));
    assert!(
        store
            .get(&owner, TaskId::new())
            .await
            .expect("get")
            .is_none()
    );
    assert!(
        store
            .get(&OwnerId::from_stored("someone-else".into()), rows[0].id)
            .await
            .expect("get")
            .is_none()
    );

    // Sorting: by meaning, nulls last in both directions, id as tiebreaker.
    for (sort_by, order) in [
        (SortField::Priority, SortOrder::Asc),
        (SortField::Priority, SortOrder::Desc),
        (SortField::DueDate, SortOrder::Asc),
        (SortField::DueDate, SortOrder::Desc),
        (SortField::Title, SortOrder::Asc),
        (SortField::CreatedAt, SortOrder::Desc),
    ] {
        let (order_seen, total) = list(
            &store,
            ListQuery {
                sort_by,
                sort_order: order,
                ..ListQuery::default()
            },
        )
        .await;
        assert_eq!(total, 7);
        seen.push(order_seen);
    }
    let (by_priority, _) = list(
        &store,
        ListQuery {
            sort_by: SortField::Priority,
            ..ListQuery::default()
        },
    )
    .await;
    assert_eq!(
        &by_priority[..2],
        &["buy milk", "zebra"],
        "low first, ties by id (creation order)"
    );
    assert_eq!(&by_priority[5..], &["Écrire le rapport", "100% done_ish"]);
    let (by_due_desc, _) = list(
        &store,
        ListQuery {
            sort_by: SortField::DueDate,
            sort_order: SortOrder::Desc,
            ..ListQuery::default()
        },
    )
    .await;
    assert_eq!(by_due_desc[0], "Écrire le rapport");
    assert!(
        ["buy milk", "100% done_ish", "apple"].contains(&by_due_desc[6].as_str()),
        "nulls last even descending"
    );
    let (by_title, _) = list(
        &store,
        ListQuery {
            sort_by: SortField::Title,
            ..ListQuery::default()
        },
    )
    .await;
    assert_eq!(
        by_title,
        vec![
            "100% done_ish",
            "apple",
            "buy milk",
            "Call Bob",
            "Standup",
            "zebra",
            "Écrire le rapport"
        ]
    );

    // Filters, search with literal % and _, and case-insensitive Unicode search.
    let (work, total) = list(
        &store,
        ListQuery {
            tag: Some(Tag::parse("work", "tag").expect("tag")),
            ..ListQuery::default()
        },
    )
    .await;
    assert_eq!(
        (work.len(), total),
        (3, 3),
        "tags match exactly: 'Work' is another tag"
    );
    let (pct, _) = list(
        &store,
        ListQuery {
            search: Some("100%".into()),
            ..ListQuery::default()
        },
    )
    .await;
    assert_eq!(pct, vec!["100% done_ish"]);
    let (pct_only, _) = list(
        &store,
        ListQuery {
            search: Some("%".into()),
            ..ListQuery::default()
        },
    )
    .await;
    assert_eq!(
        pct_only,
        vec!["100% done_ish"],
        "% is literal, not a wildcard"
    );
    let (underscore, _) = list(
        &store,
        ListQuery {
            search: Some("e_i".into()),
            ..ListQuery::default()
        },
    )
    .await;
    assert_eq!(underscore, vec!["100% done_ish"], "_ is literal");
    let (accent, _) = list(
        &store,
        ListQuery {
            search: Some("ÉCRIRE".into()),
            ..ListQuery::default()
        },
    )
    .await;
    assert_eq!(accent, vec!["Écrire le rapport"]);
    let (in_description, _) = list(
        &store,
        ListQuery {
            search: Some("ABOUT BUY".into()),
            ..ListQuery::default()
        },
    )
    .await;
    assert_eq!(in_description, vec!["buy milk"]);
    let (high_pending, _) = list(
        &store,
        ListQuery {
            priority: Some(Priority::High),
            status: Some(Status::Pending),
            ..ListQuery::default()
        },
    )
    .await;
    assert_eq!(high_pending.len(), 2);
    let series = rows[6].series_id().expect("series");
    let (in_series, _) = list(
        &store,
        ListQuery {
            series_id: Some(series),
            ..ListQuery::default()
        },
    )
    .await;
    assert_eq!(in_series, vec!["Standup"]);

    // Pagination keeps the total.
    let (page2, total) = list(
        &store,
        ListQuery {
            limit: 2,
            offset: 2,
            sort_by: SortField::Title,
            ..ListQuery::default()
        },
    )
    .await;
    assert_eq!(
        (page2, total),
        (vec!["buy milk".to_string(), "Call Bob".to_string()], 7)
    );
    let (past_end, total) = list(
        &store,
        ListQuery {
            offset: 100,
            ..ListQuery::default()
        },
    )
    .await;
    assert_eq!((past_end.len(), total), (0, 7));

    // Tags with counts, most used first.
    let tags = store.tags(&owner).await.expect("tags");
    assert_eq!(tags[0], ("work".to_string(), 3));
    assert_eq!(tags.len(), 4);

    // Conditional updates: the right version wins, a stale one is refused, a missing row is reported.
    let mut t = rows[1].clone();
    let v1 = t.version;
    t.toggle_complete(at("2026-02-01T00:00:00Z"));
    let ev = DomainEvent::completed(&t, "test", at("2026-02-01T00:00:00Z"));
    assert_eq!(
        store
            .update(&t, v1, std::slice::from_ref(&ev))
            .await
            .expect("update"),
        WriteOutcome::Done
    );
    assert_eq!(
        store.update(&t, v1, &[]).await.expect("stale"),
        WriteOutcome::VersionMismatch
    );
    let back = store.get(&owner, t.id).await.expect("get").expect("exists");
    assert_eq!(back.status(), Status::Completed);
    assert_eq!(back.completed_at(), Some(at("2026-02-01T00:00:00Z")));
    let ghost = task("ghost", Priority::Low, None, &[], "2026-01-01T00:00:00Z");
    assert_eq!(
        store.update(&ghost, 1, &[]).await.expect("missing"),
        WriteOutcome::NotFound
    );
    let (done, _) = list(
        &store,
        ListQuery {
            status: Some(Status::Completed),
            ..ListQuery::default()
        },
    )
    .await;
    assert_eq!(done, vec!["buy milk"]);

    // Deletes are conditional too.
    assert_eq!(
        store
            .delete(&owner, rows[0].id, 99, &[])
            .await
            .expect("stale"),
        WriteOutcome::VersionMismatch
    );
    assert_eq!(
        store
            .delete(&owner, rows[0].id, 1, &[])
            .await
            .expect("delete"),
        WriteOutcome::Done
    );
    assert_eq!(
        store
            .delete(&owner, rows[0].id, 1, &[])
            .await
            .expect("again"),
        WriteOutcome::NotFound
    );
    assert!(store.get(&owner, rows[0].id).await.expect("get").is_none());

    store.ping().await.expect("ping");
    seen
}

#[tokio::test]
async fn sqlite_and_postgres_keep_the_same_contract_and_order() {
    let dir = support::TempDir::new();
    let lite = contract(support::store(&support::sqlite_url(&dir)).await).await;
    let Some(pg_url) = support::pg_url().await else {
        return;
    };
    let pg = contract(support::store(&pg_url).await).await;
    assert_eq!(
        lite, pg,
        "both backends must return the same rows in the same order"
    );
}

#[tokio::test]
async fn a_failed_write_leaves_neither_task_nor_event() {
    // An event whose id collides with an existing outbox row makes the transaction fail: the task
    // write must roll back with it (task and event are committed together or not at all).
    for url in urls().await {
        let store = support::store(&url).await;
        let a = task("a", Priority::Low, None, &[], "2026-01-01T00:00:00Z");
        let ev = DomainEvent::created(&a, "test", a.created_at);
        store
            .insert(&a, std::slice::from_ref(&ev))
            .await
            .expect("insert");
        let b = task("b", Priority::Low, None, &[], "2026-01-01T00:00:01Z");
        let mut dup = DomainEvent::created(&b, "test", b.created_at);
        dup.id = ev.id;
        assert!(store.insert(&b, &[dup]).await.is_err(), "{url}");
        assert!(
            store
                .get(&OwnerId::local(), b.id)
                .await
                .expect("get")
                .is_none(),
            "{url}: task must roll back"
        );
    }
}

/// A PostgreSQL store (pool of 2) with task "a" and its event written, for the tests of
/// closed connections; `None` without a server (outside CI).
async fn pg_store_with_a() -> Option<(String, tasks::storage::PgTaskStore, Task)> {
    let url = support::pg_url().await?;
    let store = tasks::storage::PgTaskStore::connect(&url, 2)
        .await
        .expect("connect");
    let a = task("a", Priority::Low, None, &[], "2026-01-01T00:00:00Z");
    let ev = DomainEvent::created(&a, "test", a.created_at);
    store.insert(&a, &[ev]).await.expect("insert a");
    Some((url, store, a))
}

/// Terminates every other client connection to the database (what a restart does to them);
/// returns how many there were.
async fn terminate_clients(admin: &mut sqlx::PgConnection) -> i64 {
    sqlx::query_scalar(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid() \
         AND backend_type = 'client backend'",
    )
    .fetch_one(admin)
    .await
    .expect("terminate")
}

/// What a restart of PostgreSQL does to a running process: every connection it had is closed
/// by the server (here: terminated, as a restart's shutdown does). A create on the inserter's
/// kept connection is written again on a fresh one and succeeds; reads on pooled connections
/// idle past the check's threshold (250 ms) get fresh ones; the relay's kept connection costs
/// one failed pass at most, which the relay retries. (A pooled connection used less than
/// 250 ms before the restart is handed out unchecked and fails its statement with a 503:
/// `storage::postgres::pool_options`.)
#[tokio::test]
async fn connections_the_server_closed_are_replaced() {
    use tasks::ports::EventStore;
    let Some((url, store, a)) = pg_store_with_a().await else {
        return;
    };
    let owner = OwnerId::local();
    assert!(store.get(&owner, a.id).await.expect("get a").is_some());
    let claimed = store.claim_outbox(Utc::now(), 10, 30).await.expect("claim");
    assert_eq!(claimed.len(), 1);

    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .expect("admin connection");
    let closed = terminate_clients(&mut admin).await;
    assert!(
        closed >= 3,
        "pool, inserter and relay connections: {closed}"
    );

    // At once (the inserter keeps its connection for a second after a create): its kept
    // connection is closed, and the create is written again on another.
    let b = task("b", Priority::Low, None, &[], "2026-01-01T00:00:01Z");
    let ev = DomainEvent::created(&b, "test", b.created_at);
    store
        .insert(&b, &[ev])
        .await
        .expect("a create on a closed connection is written again");
    assert_eq!(store.rewritten_creates(), 1, "b was written again");

    // Again, and past the idle check: reads from pooled connections the server closed.
    let closed = terminate_clients(&mut admin).await;
    assert!(closed >= 1, "the connection b was written on: {closed}");
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert!(store.get(&owner, b.id).await.expect("get b").is_some());
    let store: Arc<dyn TaskStore> = Arc::new(store);
    let (titles, total) = list(&store, ListQuery::default()).await;
    assert_eq!((titles.len(), total), (2, 2), "{titles:?}");
}

/// The inserter keeps a connection between creates, from a pool of its own: with
/// `DB_MAX_CONNECTIONS=1` a steady stream of creates must still leave the one pooled connection
/// to reads (taken from the shared pool, the kept connection made every read wait out the
/// acquire timeout and fail).
#[tokio::test]
async fn creates_leave_a_one_connection_pool_to_the_other_requests() {
    let Some(url) = support::pg_url().await else {
        return;
    };
    let store = Arc::new(
        tasks::storage::PgTaskStore::connect(&url, 1)
            .await
            .expect("connect"),
    );
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (store, stop) = (store.clone(), stop.clone());
        tokio::spawn(async move {
            // Until the reads are done: longer than the pool's 5 s acquire timeout if a read
            // waits for the kept connection.
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let t = task(
                    &format!("t{i}"),
                    Priority::Low,
                    None,
                    &[],
                    "2026-01-01T00:00:00Z",
                );
                let ev = DomainEvent::created(&t, "test", t.created_at);
                store.insert(&t, &[ev]).await.expect("create");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                i += 1;
            }
        })
    };
    let owner = OwnerId::local();
    for _ in 0..10 {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        let listed = store
            .list(
                &owner,
                &ListQuery {
                    limit: 5,
                    ..ListQuery::default()
                },
            )
            .await;
        if listed.is_err() {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        listed.expect("a list while creates keep coming");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.await.expect("writer");
}

/// The relay keeps its one connection; after the server closed it, the relay's next statement
/// may fail, and the one after takes a fresh connection.
#[tokio::test]
async fn the_relay_takes_a_fresh_connection_after_the_server_closed_its_own() {
    use tasks::ports::EventStore;
    let Some((url, store, _)) = pg_store_with_a().await else {
        return;
    };
    assert!(
        store
            .claim_outbox(Utc::now(), 10, 1)
            .await
            .expect("claim")
            .len()
            == 1
    );
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .expect("admin connection");
    assert!(terminate_clients(&mut admin).await >= 1);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let _ = store.claim_outbox(Utc::now(), 10, 1).await;
    let claimed = store
        .claim_outbox(Utc::now(), 10, 1)
        .await
        .expect("the relay claims again on a fresh connection");
    assert_eq!(claimed.len(), 1, "a's lease has run out");
}

async fn urls() -> Vec<String> {
    let dir = support::TempDir::new();
    let mut v = vec![support::sqlite_url(&dir)];
    std::mem::forget(dir);
    if let Some(pg) = support::pg_url().await {
        v.push(pg);
    }
    v
}

#[tokio::test]
async fn replicas_starting_at_once_migrate_safely() {
    // Several processes opening a fresh database at the same moment: migrations run once, under
    // sqlx's advisory lock on PostgreSQL and SQLite's write lock, and every opener succeeds.
    for url in urls().await {
        let mut handles = Vec::new();
        for _ in 0..4 {
            let url = url.clone();
            handles.push(tokio::spawn(async move {
                tasks::storage::open(&url, 2).await.map(|_| ())
            }));
        }
        for h in handles {
            h.await
                .expect("join")
                .unwrap_or_else(|e| panic!("{url}: concurrent open failed: {e:?}"));
        }
    }
}

#[tokio::test]
async fn list_totals_follow_every_write_including_another_replicas() {
    // Totals are counted once per database snapshot and reused while nothing changes (see
    // storage::counts): two stores on one database stand for two replicas, and every write by
    // either one must show in the other's next total, for a plain filter and for a search.
    for url in urls().await {
        let reader = support::store(&url).await;
        let writer = support::store(&url).await;
        let owner = OwnerId::local();
        let pending = || ListQuery {
            status: Some(Status::Pending),
            ..ListQuery::default()
        };
        let search = || ListQuery {
            search: Some("report".into()),
            ..ListQuery::default()
        };
        let mut made = Vec::new();
        for i in 0..3 {
            let t = task(
                &format!("report {i}"),
                Priority::Low,
                None,
                &[],
                &format!("2026-01-01T00:00:0{i}Z"),
            );
            writer.insert(&t, &[]).await.expect("insert");
            made.push(t);
        }
        // Twice with nothing in between: the second may come from the cache, and must agree.
        for _ in 0..2 {
            assert_eq!(list(&reader, pending()).await.1, 3, "{url}");
            assert_eq!(list(&reader, search()).await.1, 3, "{url}");
        }
        // Another replica inserts one more.
        let t = task("report 3", Priority::Low, None, &[], "2026-01-01T00:00:09Z");
        writer.insert(&t, &[]).await.expect("insert");
        made.push(t);
        assert_eq!(list(&reader, pending()).await.1, 4, "{url}: after insert");
        assert_eq!(list(&reader, search()).await.1, 4, "{url}: after insert");
        // ... completes one (it leaves the pending filter but still matches the search) ...
        let mut done = made[0].clone();
        done.toggle_complete(at("2026-01-02T00:00:00Z"));
        assert_eq!(
            writer.update(&done, 1, &[]).await.expect("update"),
            WriteOutcome::Done
        );
        assert_eq!(list(&reader, pending()).await.1, 3, "{url}: after complete");
        assert_eq!(list(&reader, search()).await.1, 4, "{url}: after complete");
        // ... and deletes one.
        assert_eq!(
            writer
                .delete(&owner, made[1].id, 1, &[])
                .await
                .expect("delete"),
            WriteOutcome::Done
        );
        assert_eq!(list(&reader, pending()).await.1, 2, "{url}: after delete");
        assert_eq!(list(&reader, search()).await.1, 3, "{url}: after delete");
        // A page past the end still reports the total.
        let far = ListQuery {
            offset: 100,
            ..pending()
        };
        assert_eq!(list(&reader, far).await, (vec![], 2), "{url}: past the end");
    }
}

#[tokio::test]
async fn concurrent_writes_commit_together_and_a_failing_one_alone_rolls_back() {
    // Both stores write concurrent creates together (SQLite: one transaction per group;
    // PostgreSQL: one statement per batch) and fall back to one write at a time when a group
    // fails: a write that fails must not take the others of its group down, nor leave anything
    // behind.
    for url in urls().await {
        let store = support::store(&url).await;
        let first = task("first", Priority::Low, None, &[], "2026-01-01T00:00:00Z");
        let taken = DomainEvent::created(&first, "test", first.created_at);
        store
            .insert(&first, std::slice::from_ref(&taken))
            .await
            .expect("insert");
        let mut handles = Vec::new();
        for i in 0..24 {
            let store = store.clone();
            let t = task(
                &format!("t{i:02}"),
                Priority::Low,
                None,
                &[],
                "2026-01-01T00:00:01Z",
            );
            let mut ev = DomainEvent::created(&t, "test", t.created_at);
            if i == 11 {
                ev.id = taken.id; // collides with an outbox row: this write must fail
            }
            handles.push(tokio::spawn(async move {
                let r = store.insert(&t, &[ev]).await;
                (t.id, r.is_ok())
            }));
        }
        let mut ok = 0;
        for (i, h) in handles.into_iter().enumerate() {
            let (id, done) = h.await.expect("join");
            let stored = store
                .get(&OwnerId::local(), id)
                .await
                .expect("get")
                .is_some();
            assert_eq!(done, i != 11, "{url}: write {i}");
            assert_eq!(stored, done, "{url}: write {i} stored iff acknowledged");
            ok += usize::from(done);
        }
        assert_eq!(ok, 23);
        let (_, total) = list(&store, ListQuery::default()).await;
        assert_eq!(total, 24, "{url}: first + 23");
    }
}

/// A store that counts the page reads, version reads, task reads and snapshot checks that
/// reach the real one, and can make a write land between a page's versions and its tasks.
struct Counting {
    inner: Arc<dyn TaskStore>,
    lists: std::sync::atomic::AtomicUsize,
    snapshots: std::sync::atomic::AtomicUsize,
    versions: std::sync::atomic::AtomicUsize,
    /// The ids each `get_many` asked for.
    fetched: std::sync::Mutex<Vec<Vec<TaskId>>>,
    /// A write (task, expected version) to make just before the next `get_many`.
    race: std::sync::Mutex<Option<(Task, i64)>>,
    /// How long each page read (`list_versions`) takes longer than the real one, in ms.
    slow_reads_ms: std::sync::atomic::AtomicU64,
    /// How long each state check (`snapshot`) takes after its answer, in ms.
    slow_snapshots_ms: std::sync::atomic::AtomicU64,
}

impl Counting {
    fn new(inner: Arc<dyn TaskStore>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            lists: 0.into(),
            snapshots: 0.into(),
            versions: 0.into(),
            fetched: Default::default(),
            race: Default::default(),
            slow_reads_ms: 0.into(),
            slow_snapshots_ms: 0.into(),
        })
    }

    fn take_fetched(&self) -> Vec<Vec<TaskId>> {
        std::mem::take(&mut *self.fetched.lock().expect("lock"))
    }
}

#[async_trait::async_trait]
impl TaskStore for Counting {
    async fn insert(&self, t: &Task, ev: &[DomainEvent]) -> Result<(), tasks::ports::StoreError> {
        self.inner.insert(t, ev).await
    }
    async fn get(&self, o: &OwnerId, id: TaskId) -> Result<Option<Task>, tasks::ports::StoreError> {
        self.inner.get(o, id).await
    }
    async fn update(
        &self,
        t: &Task,
        v: i64,
        ev: &[DomainEvent],
    ) -> Result<WriteOutcome, tasks::ports::StoreError> {
        self.inner.update(t, v, ev).await
    }
    async fn delete(
        &self,
        o: &OwnerId,
        id: TaskId,
        v: i64,
        ev: &[DomainEvent],
    ) -> Result<WriteOutcome, tasks::ports::StoreError> {
        self.inner.delete(o, id, v, ev).await
    }
    async fn list(
        &self,
        o: &OwnerId,
        q: &ListQuery,
    ) -> Result<tasks::ports::TaskPage, tasks::ports::StoreError> {
        self.lists.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.list(o, q).await
    }
    async fn list_versions(
        &self,
        o: &OwnerId,
        q: &ListQuery,
    ) -> Result<Option<tasks::ports::VersionPage>, tasks::ports::StoreError> {
        self.versions
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let ms = self.slow_reads_ms.load(std::sync::atomic::Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        self.inner.list_versions(o, q).await
    }
    async fn get_many(
        &self,
        o: &OwnerId,
        ids: &[TaskId],
    ) -> Result<Vec<Task>, tasks::ports::StoreError> {
        let race = self.race.lock().expect("lock").take();
        if let Some((t, v)) = race {
            assert_eq!(self.inner.update(&t, v, &[]).await?, WriteOutcome::Done);
        }
        self.fetched.lock().expect("lock").push(ids.to_vec());
        self.inner.get_many(o, ids).await
    }
    async fn tags(&self, o: &OwnerId) -> Result<Vec<(String, i64)>, tasks::ports::StoreError> {
        self.inner.tags(o).await
    }
    async fn ping(&self) -> Result<(), tasks::ports::StoreError> {
        self.inner.ping().await
    }
    async fn snapshot(&self) -> Result<Option<String>, tasks::ports::StoreError> {
        self.snapshots
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let state = self.inner.snapshot().await;
        let ms = self
            .slow_snapshots_ms
            .load(std::sync::atomic::Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        state
    }
}

/// Renders a page as "total [titles]" through `list_rendered`, each task rendered as its title
/// and version.
async fn rendered_page(reader: &tasks::app::TaskService, q: &ListQuery) -> String {
    let b = reader
        .list_rendered(
            &OwnerId::local(),
            q,
            |t| {
                Ok::<_, tasks::app::AppError>(bytes::Bytes::from(format!(
                    "{}@{}",
                    t.title.as_str(),
                    t.version
                )))
            },
            |parts, total| {
                let titles: Vec<String> = parts
                    .iter()
                    .map(|p| String::from_utf8(p.to_vec()).expect("utf-8"))
                    .collect();
                Ok(bytes::Bytes::from(format!("{total} {titles:?}")))
            },
        )
        .await
        .expect("list");
    String::from_utf8(b.to_vec()).expect("utf-8")
}

/// `n` lists of the same page through `reader` at once, their pages in order.
async fn at_once(n: usize, reader: &tasks::app::TaskService, q: &ListQuery) -> Vec<String> {
    let lists: Vec<_> = (0..n)
        .map(|_| {
            let (reader, q) = (reader.clone(), q.clone());
            tokio::spawn(async move { rendered_page(&reader, &q).await })
        })
        .collect();
    let mut pages = Vec::with_capacity(n);
    for list in lists {
        pages.push(list.await.expect("joined"));
    }
    pages
}

/// A task service reading through a [`Counting`] store, and a second store on the same database
/// (another replica) for writes.
async fn spied_reader(url: &str) -> (Arc<Counting>, tasks::app::TaskService, Arc<dyn TaskStore>) {
    let counting = Counting::new(support::store(url).await);
    let reader = tasks::app::TaskService::new(
        counting.clone(),
        "test",
        Arc::new(tokio::sync::Notify::new()),
    );
    (counting, reader, support::store(url).await)
}

fn pending_by_priority() -> ListQuery {
    ListQuery {
        status: Some(Status::Pending),
        sort_by: SortField::Priority,
        sort_order: SortOrder::Desc,
        limit: 50,
        ..ListQuery::default()
    }
}

#[tokio::test]
async fn rendered_list_pages_are_reused_only_while_nothing_changed_anywhere() {
    // The service keeps a rendered page with the state of the tasks it was read under (ADR
    // 0005): the same query again costs a check of that state instead of the page and its
    // count, and any write to tasks, by this process or another replica, makes the next request
    // read the page again.
    use std::sync::atomic::Ordering::SeqCst;
    for url in urls().await {
        let pg = url.starts_with("postgres");
        let (counting, reader, writer) = spied_reader(&url).await;
        let owner = OwnerId::local();
        let q = pending_by_priority();
        let page = |reader: &tasks::app::TaskService| {
            let (reader, q) = (reader.clone(), q.clone());
            async move { rendered_page(&reader, &q).await }
        };
        let a = task("a", Priority::Low, None, &[], "2026-01-01T00:00:00Z");
        writer.insert(&a, &[]).await.expect("insert");
        assert_eq!(page(&reader).await, r#"1 ["a@1"]"#, "{url}");
        // With nothing written, a request is answered from the kept page after one check of
        // the tasks' change count, without reading the page (asked a few times, for at most
        // ten seconds, in case a background write lands in between; a miss is never a wrong
        // answer). SQLite names no such state: every request reads the page.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut served_from_cache = false;
        let reads = || counting.lists.load(SeqCst) + counting.versions.load(SeqCst);
        for _ in 0..if pg { 10_000 } else { 5 } {
            let (lists, checks) = (reads(), counting.snapshots.load(SeqCst));
            assert_eq!(page(&reader).await, r#"1 ["a@1"]"#, "{url}");
            let read_page = reads() > lists;
            let checked = counting.snapshots.load(SeqCst) > checks;
            assert!(read_page || checked, "{url}: neither read nor checked");
            if !read_page {
                served_from_cache = true;
                break;
            }
            if std::time::Instant::now() > deadline {
                break;
            }
        }
        assert_eq!(served_from_cache, pg, "{url}");
        assert_eq!(counting.snapshots.load(SeqCst) > 0, pg, "{url}");
        if pg {
            // What a page is checked against is the count of committed changes to tasks, not
            // the server's snapshot: a commit that touches no task (here a consumer's record)
            // leaves the kept page valid.
            let other = tasks::storage::PgTaskStore::connect(&url, 1)
                .await
                .expect("connect");
            sqlx::query(
                "INSERT INTO recurrence_links (task_id, next_task_id, event_id, created_at) \
                 VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), now())",
            )
            .execute(other.pool())
            .await
            .expect("insert");
            // Nor does the reminder scan, which runs every second and sets only
            // `reminder_fired_at` (here on no task: none is due).
            let events = support::stores(&url).await.events;
            let fired = events
                .fire_due_reminders(at("2026-01-01T00:00:00Z"), 100, "test")
                .await
                .expect("scan");
            assert!(fired.is_empty());
            let lists = reads();
            assert_eq!(page(&reader).await, r#"1 ["a@1"]"#, "{url}");
            assert_eq!(reads(), lists, "{url}: served from the kept page");
        }

        // Another replica inserts, completes and deletes: each shows at once.
        let b = task("b", Priority::High, None, &[], "2026-01-01T00:00:01Z");
        writer.insert(&b, &[]).await.expect("insert");
        assert_eq!(
            page(&reader).await,
            r#"2 ["b@1", "a@1"]"#,
            "{url}: after insert"
        );
        let mut done = b.clone();
        done.toggle_complete(at("2026-01-02T00:00:00Z"));
        writer.update(&done, 1, &[]).await.expect("update");
        assert_eq!(page(&reader).await, r#"1 ["a@1"]"#, "{url}: after complete");
        writer.delete(&owner, a.id, 1, &[]).await.expect("delete");
        assert_eq!(page(&reader).await, "0 []", "{url}: after delete");

        // With no memory for pages, every request reads the page.
        let uncached = reader.clone().with_page_cache(0);
        let (before, versions) = (counting.lists.load(SeqCst), counting.versions.load(SeqCst));
        page(&uncached).await;
        page(&uncached).await;
        assert_eq!(counting.lists.load(SeqCst), before + 2, "{url}");
        assert_eq!(counting.versions.load(SeqCst), versions, "{url}");
    }
}

/// `t` renamed to `title` (its version moves on).
fn renamed(t: &Task, title: &str) -> Task {
    let mut t = t.clone();
    t.apply(
        TaskChanges {
            title: Some(TaskTitle::parse(title).expect("title")),
            ..TaskChanges::default()
        },
        at("2026-01-03T00:00:00Z"),
    )
    .expect("apply");
    t
}

#[tokio::test]
async fn kept_task_renderings_are_reused_only_at_their_version() {
    // After a write the kept page is stale. On PostgreSQL the page is then read as ids and
    // versions, and only the tasks not rendered before at that version are read and rendered
    // (ADR 0005); a task changed between those two reads makes the page be read whole. SQLite
    // offers no version read: its pages are always read whole.
    for url in urls().await {
        let pg = url.starts_with("postgres");
        let (counting, reader, writer) = spied_reader(&url).await;
        let q = pending_by_priority();
        let a = task("a", Priority::Low, None, &[], "2026-01-01T00:00:00Z");
        let b = task("b", Priority::Medium, None, &[], "2026-01-01T00:00:01Z");
        writer.insert(&a, &[]).await.expect("insert");
        writer.insert(&b, &[]).await.expect("insert");
        assert_eq!(
            rendered_page(&reader, &q).await,
            r#"2 ["b@1", "a@1"]"#,
            "{url}"
        );
        let mut first = counting.take_fetched();
        first.iter_mut().for_each(|ids| ids.sort());
        let mut both = vec![a.id, b.id];
        both.sort();
        assert_eq!(first, if pg { vec![both] } else { vec![] }, "{url}");

        // A new task: only it is read.
        let c = task("c", Priority::High, None, &[], "2026-01-01T00:00:02Z");
        writer.insert(&c, &[]).await.expect("insert");
        assert_eq!(
            rendered_page(&reader, &q).await,
            r#"3 ["c@1", "b@1", "a@1"]"#,
            "{url}"
        );
        let expect = |ids: Vec<TaskId>| if pg { vec![ids] } else { vec![] };
        assert_eq!(counting.take_fetched(), expect(vec![c.id]), "{url}");

        // A changed task is read again, at its new version; the others are not.
        let a2 = renamed(&a, "a2");
        writer.update(&a2, 1, &[]).await.expect("update");
        assert_eq!(
            rendered_page(&reader, &q).await,
            r#"3 ["c@1", "b@1", "a2@2"]"#,
            "{url}"
        );
        assert_eq!(counting.take_fetched(), expect(vec![a.id]), "{url}");

        // b changes again between the page's versions and the read of the missing tasks: the
        // answer is the page read whole, b at its newest version, never an older rendering.
        let b2 = renamed(&b, "b2");
        writer.update(&b2, 1, &[]).await.expect("update");
        if pg {
            *counting.race.lock().expect("lock") = Some((renamed(&b2, "b3"), 2));
        } else {
            writer
                .update(&renamed(&b2, "b3"), 2, &[])
                .await
                .expect("update");
        }
        let lists = counting.lists.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(
            rendered_page(&reader, &q).await,
            r#"3 ["c@1", "b3@3", "a2@2"]"#,
            "{url}"
        );
        if pg {
            assert_eq!(counting.take_fetched(), vec![vec![b.id]], "{url}");
            assert_eq!(
                counting.lists.load(std::sync::atomic::Ordering::SeqCst),
                lists + 1,
                "{url}: read whole"
            );
        }
        // The whole read's renderings are kept too: after another write the next list reads
        // no task at all.
        writer
            .delete(&OwnerId::local(), c.id, 1, &[])
            .await
            .expect("delete");
        assert_eq!(
            rendered_page(&reader, &q).await,
            r#"2 ["b3@3", "a2@2"]"#,
            "{url}"
        );
        assert!(counting.take_fetched().is_empty(), "{url}: nothing read");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lists_that_find_their_page_stale_together_share_one_read() {
    // After a write, every list of a kept page in flight finds it stale at once. Those that saw
    // the same state of the tasks share one read of the page (`list_rendered`), and each gets
    // the page with the write in it. PostgreSQL only: SQLite names no state, so it keeps no
    // pages (each list reads its own).
    let Some(url) = support::pg_url().await else {
        return;
    };
    {
        let (counting, reader, writer) = spied_reader(&url).await;
        let q = pending_by_priority();
        let a = task("a", Priority::Low, None, &[], "2026-01-01T00:00:00Z");
        writer.insert(&a, &[]).await.expect("insert");
        assert_eq!(rendered_page(&reader, &q).await, r#"1 ["a@1"]"#, "{url}");

        // Nothing changed: eight lists at once check the kept page with one or two state
        // checks (the first, and one for those that arrived while it ran), not eight.
        let checks = counting.snapshots.load(std::sync::atomic::Ordering::SeqCst);
        counting
            .slow_snapshots_ms
            .store(200, std::sync::atomic::Ordering::SeqCst);
        for page in at_once(8, &reader, &q).await {
            assert_eq!(page, r#"1 ["a@1"]"#, "{url}");
        }
        let checked = counting.snapshots.load(std::sync::atomic::Ordering::SeqCst) - checks;
        assert!(
            (1..=2).contains(&checked),
            "{url}: {checked} checks for 8 lists"
        );

        // A write acknowledged while a check is running is seen by every list that starts
        // after it: such a list never takes the running check's (older) answer.
        let slow = {
            let (reader, q) = (reader.clone(), q.clone());
            tokio::spawn(async move { rendered_page(&reader, &q).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let w = task("w", Priority::Low, None, &[], "2026-01-01T00:00:00.5Z");
        writer.insert(&w, &[]).await.expect("insert");
        counting
            .slow_snapshots_ms
            .store(0, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(
            rendered_page(&reader, &q).await,
            r#"2 ["w@1", "a@1"]"#,
            "{url}: a list after an acknowledged write sees it"
        );
        assert_eq!(slow.await.expect("joined"), r#"1 ["a@1"]"#, "{url}");
        writer
            .delete(&OwnerId::local(), w.id, 1, &[])
            .await
            .expect("delete");

        let b = task("b", Priority::High, None, &[], "2026-01-01T00:00:01Z");
        writer.insert(&b, &[]).await.expect("insert");

        let before = counting.versions.load(std::sync::atomic::Ordering::SeqCst);
        counting
            .slow_reads_ms
            .store(300, std::sync::atomic::Ordering::SeqCst);
        for page in at_once(8, &reader, &q).await {
            assert_eq!(page, r#"2 ["b@1", "a@1"]"#, "{url}");
        }
        let reads = counting.versions.load(std::sync::atomic::Ordering::SeqCst) - before;
        assert_eq!(reads, 1, "{url}: eight lists, one page read");
        counting
            .slow_reads_ms
            .store(0, std::sync::atomic::Ordering::SeqCst);

        // The next write: the next list reads again (a finished read is not reused).
        let c = task("c", Priority::Medium, None, &[], "2026-01-01T00:00:02Z");
        writer.insert(&c, &[]).await.expect("insert");
        assert_eq!(
            rendered_page(&reader, &q).await,
            r#"3 ["b@1", "c@1", "a@1"]"#,
            "{url}"
        );
        assert_eq!(
            counting.versions.load(std::sync::atomic::Ordering::SeqCst) - before,
            2,
            "{url}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_shared_count_is_never_older_than_the_page_it_totals() {
    // On PostgreSQL, lists that miss their kept total at the same time share one count
    // (`count_shared`), but only a count that saw every change their page saw. Readers list the
    // newest pending tasks while a writer adds them one by one: a page whose newest task is the
    // writer's i-th must have a total of at least BASE + i + 1. A few thousand older tasks make
    // each count take long enough for lists to meet in one.
    const BASE: u64 = 3_008; // 16 seeders × 188
    let Some(pg) = support::pg_url().await else {
        return;
    };
    let store = support::store(&pg).await;
    let mut seeders = Vec::new();
    for w in 0..16 {
        let store = store.clone();
        seeders.push(tokio::spawn(async move {
            for i in 0..BASE / 16 {
                let t = task(
                    &format!("s{w}-{i}"),
                    Priority::Low,
                    None,
                    &[],
                    "2026-01-01T00:00:00Z",
                );
                store.insert(&t, &[]).await.expect("seed");
            }
        }));
    }
    for s in seeders {
        s.await.expect("seeder");
    }
    let q = ListQuery {
        status: Some(Status::Pending),
        sort_by: SortField::CreatedAt,
        sort_order: SortOrder::Desc,
        limit: 5,
        ..ListQuery::default()
    };
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..16 {
        let (store, done, q) = (store.clone(), done.clone(), q.clone());
        readers.push(tokio::spawn(async move {
            let mut checked = 0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let page = store.list(&OwnerId::local(), &q).await.expect("list");
                let newest = page.tasks.first().expect("a page").title.as_str();
                if let Some(i) = newest.strip_prefix('w') {
                    let i: u64 = i.parse().expect("index");
                    assert!(
                        page.total > BASE + i,
                        "the page shows w{i}, its total is {}",
                        page.total
                    );
                    checked += 1;
                }
            }
            checked
        }));
    }
    for i in 0..100 {
        let created = format!("2026-01-02T00:{:02}:{:02}Z", i / 60, i % 60);
        let t = task(&format!("w{i}"), Priority::Low, None, &[], &created);
        store.insert(&t, &[]).await.expect("insert");
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    for r in readers {
        assert!(r.await.expect("reader") > 0, "every reader checked pages");
    }
    let (_, total) = list(&store, q).await;
    assert_eq!(total, BASE + 100);
}

#[tokio::test]
async fn concurrent_creates_store_every_field_and_event_as_given() {
    // PostgreSQL writes the creates in flight together, one array per column (`pg_batch`);
    // SQLite commits them together (`sqlite_writer`). Whatever the batching, every task must
    // read back exactly as created, every field, and its event must be in the outbox.
    let Some(pg) = support::pg_url().await else {
        return;
    };
    let store = Arc::new(
        tasks::storage::PgTaskStore::connect(&pg, 8)
            .await
            .expect("connect"),
    );
    let pool = store.pool().clone();
    let mut made = Vec::new();
    for i in 0..48u32 {
        let input = NewTask {
            title: Some(TaskTitle::parse(&format!("tâche {i} 100% _done_")).expect("title")),
            description: if i % 2 == 0 {
                tasks::domain::Description::parse(&format!("about {i}")).expect("description")
            } else {
                None
            },
            priority: Some([Priority::Low, Priority::Medium, Priority::High][(i % 3) as usize]),
            tags: Some(
                Tags::parse(&["work", &format!("t{}", i % 5)][..(i % 3) as usize]).expect("tags"),
            ),
            due_date: (i % 3 == 0).then(|| at("2026-03-01T09:00:00Z")),
            reminder_at: (i % 3 == 0).then(|| at("2026-03-01T08:30:00Z")),
            recurrence_rule: (i % 4 == 0)
                .then(|| RecurrenceRule::parse("FREQ=WEEKLY;BYDAY=MO,WE").expect("rule")),
            timezone: (i % 4 == 0).then(|| TimeZoneName::parse("Europe/Paris").expect("zone")),
            status: (i % 5 == 0).then_some(Status::Completed),
            ..NewTask::default()
        };
        let t = Task::create(
            TaskId::new(),
            OwnerId::local(),
            input,
            at("2026-02-01T00:00:00Z"),
        )
        .expect("task");
        let ev = DomainEvent::created(&t, "test", t.created_at);
        made.push((t, ev));
    }
    let handles: Vec<_> = made
        .iter()
        .cloned()
        .map(|(t, ev)| {
            let store = store.clone();
            tokio::spawn(async move { store.insert(&t, &[ev]).await })
        })
        .collect();
    for h in handles {
        h.await.expect("join").expect("insert");
    }
    assert!(
        store.batched_creates() >= 2,
        "48 concurrent creates should share statements (batched: {})",
        store.batched_creates()
    );
    for (t, ev) in &made {
        let back = store.get(&OwnerId::local(), t.id).await.expect("get");
        assert_eq!(back.as_ref(), Some(t), "task {}", t.title.as_str());
        let row: (uuid::Uuid, String, serde_json::Value) =
            sqlx::query_as("SELECT task_id, event_type, cloudevent FROM outbox WHERE id = $1")
                .bind(ev.id)
                .fetch_one(&pool)
                .await
                .expect("outbox row");
        assert_eq!(
            row,
            (t.id.0, "task.created".to_string(), ev.to_cloudevent())
        );
    }
    // The index upkeep the relay runs (merging the GIN pending lists) succeeds, and the search
    // finds the same tasks through the merged index.
    tasks::ports::EventStore::tidy_indexes(store.as_ref())
        .await
        .expect("tidy indexes");
    // The derived search and sort columns were written too.
    let found = list(
        &(store.clone() as Arc<dyn TaskStore>),
        ListQuery {
            search: Some("100%".into()),
            sort_by: SortField::Title,
            ..ListQuery::default()
        },
    )
    .await;
    assert_eq!(found.1, 48);
    assert_eq!(found.0[0], "tâche 0 100% _done_");
}

#[tokio::test]
async fn only_the_relays_bookkeeping_commits_without_waiting_for_the_flush() {
    // Leases and published marks may be lost in a crash (the event goes out again and consumers
    // deduplicate it), so the relay's pool skips the WAL flush wait; task writes, which a client
    // was told succeeded, must not.
    let Some(pg) = support::pg_url().await else {
        return;
    };
    let store = tasks::storage::PgTaskStore::connect(&pg, 4)
        .await
        .expect("connect");
    let show = |pool: sqlx::PgPool| async move {
        let (v,): (String,) = sqlx::query_as("SHOW synchronous_commit")
            .fetch_one(&pool)
            .await
            .expect("show");
        v
    };
    assert_eq!(show(store.pool().clone()).await, "on", "task writes");
    assert_eq!(
        show(store.relay_pool().clone()).await,
        "off",
        "relay bookkeeping"
    );
}

#[tokio::test]
async fn idempotency_keys_are_shared_by_replicas_on_postgresql() {
    // Two processes on one PostgreSQL database and no Dapr state store: a retry that reaches the
    // other replica must replay the first answer, not act again (each used to keep its keys in
    // its own memory: a retried completion toggled the task back).
    use axum::http::StatusCode;
    use serde_json::json;
    use tasks::ports::StoredResponse;
    let Some(url) = support::pg_url().await else {
        return;
    };
    let (a, b) = (support::stores(&url).await, support::stores(&url).await);
    let (sa, sb) = (
        a.idempotency.clone().expect("database records"),
        b.idempotency.clone().expect("database records"),
    );
    let rec = |fp: &str| StoredResponse {
        fingerprint: fp.into(),
        status: None,
        headers: vec![],
        body: String::new(),
    };
    assert!(sa.create("k", &rec("a"), 60).await.expect("create"));
    assert!(!sb.create("k", &rec("b"), 60).await.expect("create"));
    assert_eq!(
        sb.get("k").await.expect("get").map(|r| r.fingerprint),
        Some("a".into())
    );
    sb.delete("k").await.expect("delete");
    assert!(sa.get("k").await.expect("get").is_none());
    assert!(sa.create("brief", &rec("a"), 0).await.expect("create"));
    assert!(sb.get("brief").await.expect("get").is_none(), "expired");
    assert!(
        sb.create("brief", &rec("b"), 60).await.expect("create"),
        "an expired key is free"
    );

    let (app_a, app_b) = (
        support::app(&support::state(a)),
        support::app(&support::state(b)),
    );
    let id = support::create(&app_a, json!({"title": "once"})).await;
    let path = format!("/api/tasks/{id}/complete");
    let key = [("idempotency-key", "complete-once")];
    let (s, first) = support::call(&app_a, "POST", &path, None, &key).await;
    assert_eq!(
        (s, first["status"].as_str()),
        (StatusCode::OK, Some("completed"))
    );
    let (s, again) = support::call(&app_b, "POST", &path, None, &key).await;
    assert_eq!(
        (s, &again),
        (StatusCode::OK, &first),
        "replayed, not toggled back"
    );
    let (_, now) = support::call(&app_b, "GET", &format!("/api/tasks/{id}"), None, &[]).await;
    assert_eq!(now["status"], "completed");

    // Creates racing with one key on both replicas: one task.
    let mut racing = Vec::new();
    for i in 0..16 {
        let app = if i % 2 == 0 {
            app_a.clone()
        } else {
            app_b.clone()
        };
        racing.push(tokio::spawn(async move {
            let key = [("idempotency-key", "create-once")];
            support::call(
                &app,
                "POST",
                "/api/tasks",
                Some(json!({"title": "one"})),
                &key,
            )
            .await
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for r in racing {
        let (s, v) = r.await.expect("join");
        match s {
            StatusCode::CREATED => {
                ids.insert(v["id"].as_str().expect("id").to_string());
            }
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}: {v}"),
        }
    }
    assert_eq!(ids.len(), 1, "one task for one key: {ids:?}");
    let (_, list) = support::call(&app_a, "GET", "/api/tasks?search=one", None, &[]).await;
    assert_eq!(list["total"], 1);
}

#[tokio::test]
async fn search_matches_whatever_the_case_on_both_databases() {
    // Lower-casing depends on context in two places: a Greek capital sigma becomes final ς at
    // the end of a word and σ inside one, and the Turkish İ becomes i plus a combining dot.
    // Search folds both away, on either database.
    use serde_json::json;
    for url in urls().await {
        let app = support::app(&support::state(support::stores(&url).await));
        support::create(&app, json!({"title": "ΟΔΟΣΤΡΩΜΑ"})).await;
        support::create(
            &app,
            json!({"title": "Trip", "description": "İSTANBUL in May"}),
        )
        .await;
        for (search, want) in [
            ("ΟΔΟΣ", "ΟΔΟΣΤΡΩΜΑ"),
            ("οδος", "ΟΔΟΣΤΡΩΜΑ"),
            ("οδοσ", "ΟΔΟΣΤΡΩΜΑ"),
            ("ΟΔΟΣΤΡΩΜΑ", "ΟΔΟΣΤΡΩΜΑ"),
            ("istanbul", "Trip"),
            ("İstanbul", "Trip"),
            ("ISTANBUL", "Trip"),
        ] {
            let uri = format!("/api/tasks?search={}", urlencode(search));
            let (_, v) = support::call(&app, "GET", &uri, None, &[]).await;
            let titles: Vec<&str> = v["tasks"]
                .as_array()
                .expect("tasks")
                .iter()
                .filter_map(|t| t["title"].as_str())
                .collect();
            assert_eq!(titles, vec![want], "{url}: search {search}");
        }
    }
}

#[tokio::test]
async fn accented_text_matches_however_its_accents_were_typed() {
    // `é` can be sent as one character (U+00E9) or as `e` plus a combining accent (U+0301),
    // as some keyboards, macOS file names and copy-paste do. Search and tags treat both as the
    // same text, on either database; titles are kept as they were typed.
    use serde_json::json;
    let (composed, decomposed) = ("Caf\u{e9}", "Cafe\u{301}");
    for url in urls().await {
        let app = support::app(&support::state(support::stores(&url).await));
        let body = json!({"title": format!("{composed} order"), "tags": [decomposed, composed]});
        let (status, a) = support::call(&app, "POST", "/api/tasks", Some(body), &[]).await;
        assert_eq!(status, axum::http::StatusCode::CREATED, "{a}");
        assert_eq!(
            a["tags"],
            json!([composed]),
            "{url}: one tag, in normal form C"
        );
        let body = json!({"title": format!("{decomposed} bill")});
        let (_, b) = support::call(&app, "POST", "/api/tasks", Some(body), &[]).await;
        assert_eq!(
            b["title"],
            format!("{decomposed} bill"),
            "{url}: title as typed"
        );
        for query in [
            format!("search={}", urlencode(composed)),
            format!("search={}", urlencode(decomposed)),
            format!("search={}", urlencode(&decomposed.to_uppercase())),
        ] {
            let (_, v) =
                support::call(&app, "GET", &format!("/api/tasks?{query}"), None, &[]).await;
            assert_eq!(v["total"], 2, "{url}: {query}: {v}");
        }
        for tag in [composed, decomposed] {
            let uri = format!("/api/tasks?tag={}", urlencode(tag));
            let (_, v) = support::call(&app, "GET", &uri, None, &[]).await;
            assert_eq!(v["total"], 1, "{url}: tag {tag:?}: {v}");
        }
    }
}

#[tokio::test]
async fn tags_and_search_text_written_before_normal_form_c_are_rewritten_once() {
    // A database with tasks written before tags and search text were kept in normal form C:
    // opening it with this version rewrites those rows (PostgreSQL: migration 12; SQLite: the
    // fix migration 7 marks), so old tasks are found by the same searches and tag filters as
    // new ones; tags that became equal are kept once, in the first one's place; rows already
    // in normal form C are left alone.
    use serde_json::json;
    let (composed, decomposed) = ("Caf\u{e9}", "Cafe\u{301}");
    for url in urls().await {
        let app = support::app(&support::state(support::stores(&url).await));
        let both = support::create(&app, json!({"title": "Order"})).await;
        let tags_only = support::create(&app, json!({"title": "Plain"})).await;
        let normal =
            support::create(&app, json!({"title": "Caf\u{e9} menu", "tags": [composed]})).await;
        // (task, tags as once stored, search text as once stored or None to keep it)
        let legacy = [
            (
                &both,
                json!([decomposed, "x", composed]),
                Some(format!("order {}", decomposed.to_lowercase())),
            ),
            (&tags_only, json!(["x", decomposed]), None),
        ];
        for (id, tags, search) in &legacy {
            let binds = [Some(tags.to_string()), search.clone(), Some(id.to_string())];
            by_hand(
                &url,
                "UPDATE tasks SET tags = ?1, search_text = coalesce(?2, search_text) WHERE id = ?3",
                "UPDATE tasks SET tags = $1::jsonb, search_text = coalesce($2, search_text) WHERE id = $3::uuid",
                &binds,
            )
            .await;
        }
        // The fix is pending again, as in a database this version has not opened yet.
        by_hand(
            &url,
            "INSERT INTO data_fixes (name) VALUES ('unicode_nfc')",
            "DELETE FROM _sqlx_migrations WHERE version = 20261128000012",
            &[],
        )
        .await;
        let search = format!("/api/tasks?search={}", urlencode("order caf\u{e9}"));
        let (_, v) = support::call(&app, "GET", &search, None, &[]).await;
        assert_eq!(
            v["total"], 0,
            "{url}: the old search text before the rewrite: {v}"
        );
        let filter = format!("/api/tasks?tag={}", urlencode(composed));
        let (_, v) = support::call(&app, "GET", &filter, None, &[]).await;
        assert_eq!(v["total"], 2, "{url}: before the rewrite: {v}");
        // Opened again: rewritten.
        let app = support::app(&support::state(support::stores(&url).await));
        let get = |id: String| {
            let app = app.clone();
            async move {
                let (_, t) =
                    support::call(&app, "GET", &format!("/api/tasks/{id}"), None, &[]).await;
                t
            }
        };
        let t = get(both.clone()).await;
        assert_eq!(
            t["tags"],
            json!([composed, "x"]),
            "{url}: one tag, in the first one's place"
        );
        assert_eq!(t["version"], 2, "{url}: the rewrite moves the version on");
        let t = get(tags_only.clone()).await;
        assert_eq!(
            t["tags"],
            json!(["x", composed]),
            "{url}: tags alone are rewritten too"
        );
        assert_eq!(t["version"], 2, "{url}");
        assert_eq!(
            get(normal.clone()).await["version"],
            1,
            "{url}: a row in normal form is left alone"
        );
        let (_, v) = support::call(&app, "GET", &search, None, &[]).await;
        assert_eq!(v["total"], 1, "{url}: {v}");
        let (_, v) = support::call(&app, "GET", &filter, None, &[]).await;
        assert_eq!(v["total"], 3, "{url}: {v}");
        // Once: a third opening changes nothing more.
        let app = support::app(&support::state(support::stores(&url).await));
        let (_, again) = support::call(&app, "GET", &format!("/api/tasks/{both}"), None, &[]).await;
        assert_eq!(again["version"], 2, "{url}");
    }
}

#[tokio::test]
async fn a_read_only_sqlite_database_still_opens_and_reads() {
    // Opening runs the migrations and the one-time fixes; once they are done, opening must not
    // write, so a database opened read-only (a backup, a read-only volume) still serves reads.
    let dir = support::TempDir::new();
    let url = support::sqlite_url(&dir);
    {
        let app = support::app(&support::state(support::stores(&url).await));
        support::create(&app, serde_json::json!({"title": "kept"})).await;
    }
    let ro = url.replace("mode=rwc", "mode=ro");
    let stores = tasks::storage::open(&ro, 2)
        .await
        .unwrap_or_else(|e| panic!("a read-only database must open: {e:?}"));
    let app = support::app(&support::state(stores));
    let (s, v) = support::call(&app, "GET", "/api/tasks", None, &[]).await;
    assert_eq!(
        (s.as_u16(), v["total"].clone()),
        (200, serde_json::json!(1)),
        "{v}"
    );
}

/// Runs one statement on the database at `url` by hand (the SQLite or the PostgreSQL spelling),
/// with text parameters.
async fn by_hand(url: &str, sqlite: &str, postgres: &str, binds: &[Option<String>]) {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.expect("connect");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sqlite));
        for b in binds {
            q = q.bind(b.clone());
        }
        q.execute(&pool).await.expect(sqlite);
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.expect("connect");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(postgres));
        for b in binds {
            q = q.bind(b.clone());
        }
        q.execute(&pool).await.expect(postgres);
        pool.close().await;
    }
}

/// Percent-encodes every byte outside the unreserved set.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn sqlite_gets_planner_statistics_as_the_tasks_grow() {
    // Without statistics SQLite searched through the owner index, looking up every task of
    // the (only) owner by rowid: three to five times the work of reading the table through.
    // The store analyses the tasks table once it holds 1,000 tasks, and again when their
    // number has doubled: looked at on start-up, after enough creates, and by the relay.
    let dir = support::TempDir::new();
    let url = support::sqlite_url(&dir);
    let store = tasks::storage::SqliteTaskStore::connect(&url)
        .await
        .expect("connect");
    let add = |n: usize| {
        let store = store.clone();
        async move {
            let mut pending = Vec::new();
            for i in 0..n {
                let t = task(
                    &format!("invoice {i}"),
                    Priority::Low,
                    None,
                    &["work"],
                    "2026-01-01T00:00:00Z",
                );
                let store = store.clone();
                pending.push(tokio::spawn(async move { store.insert(&t, &[]).await }));
            }
            for p in pending {
                p.await.expect("join").expect("insert");
            }
        }
    };
    let plan = || {
        let url = url.clone();
        async move {
            // A connection of its own, which reads the statistics as they are now.
            let pool = sqlx::SqlitePool::connect(&url).await.expect("connect");
            // EXPLAIN QUERY PLAN rows: id, parent, notused, detail.
            let rows = sqlx::query(
                "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM tasks \
                 WHERE owner_id = ?1 AND search_text LIKE ?2 ESCAPE '\\'",
            )
            .bind(OwnerId::local().as_str())
            .bind("%invoice%")
            .fetch_all(&pool)
            .await
            .expect("explain");
            pool.close().await;
            rows.iter()
                .map(|r| sqlx::Row::get::<String, _>(r, 3))
                .collect::<Vec<_>>()
                .join("; ")
        }
    };
    let analysed = || {
        let url = url.clone();
        async move {
            let pool = sqlx::SqlitePool::connect(&url).await.expect("connect");
            // Each index's row starts with its number of entries; partial indexes have fewer.
            let counted: Option<i64> = sqlx::query_scalar(
                "SELECT max(CAST(stat AS INTEGER)) FROM sqlite_stat1 \
                 WHERE tbl = 'tasks' AND idx IS NOT NULL",
            )
            .fetch_one(&pool)
            .await
            .unwrap_or(None);
            pool.close().await;
            counted
        }
    };
    // The creates trigger the look in the background: wait for it (bounded).
    let settles_at = |want: i64| async move {
        for _ in 0..100 {
            if analysed().await == Some(want) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "the statistics never counted {want} tasks: {:?}",
            analysed().await
        );
    };
    add(999).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(analysed().await, None, "999 tasks: not yet");
    let before = plan().await;
    assert!(before.contains("USING INDEX"), "{before}");
    add(1).await;
    settles_at(1_000).await;
    // The search's count now reads the table through rather than the owner index.
    let after = plan().await;
    assert!(after.contains("SCAN tasks"), "{after}");
    add(999).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(analysed().await, Some(1_000), "1,999 tasks: not again yet");
    add(1).await;
    settles_at(2_000).await;
    assert!(
        !store.refresh_statistics().await.expect("refresh"),
        "unchanged: not again"
    );
    // A restart finds the statistics current and leaves them.
    drop(store);
    let again = tasks::storage::SqliteTaskStore::connect(&url)
        .await
        .expect("reopen");
    assert!(!again.refresh_statistics().await.expect("refresh"));
}
