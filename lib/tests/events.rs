//! The event side against real databases (SQLite and PostgreSQL): the outbox relay, the three
//! consumers under redelivery, replay and re-completion, reminders fired once across concurrent
//! schedulers, Dapr's delivery contract on `on_task_event`, and `Idempotency-Key`.

mod support;

use support::{app, call, create};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tasks::app::events::{Consumers, Outcome, Relay, fire_reminders};
use tasks::domain::event::IncomingEvent;
use tasks::domain::{OwnerId, TaskId};
use tasks::http::{self, AppState, ServiceOptions};
use tasks::ports::{ActivityQuery, PublishError, Publisher};
use tokio::sync::Notify;
use tower::ServiceExt;

/// Every backend the suite can reach: SQLite always, PostgreSQL when configured.
async fn backends() -> Vec<(String, support::TempDir)> {
    let dir = support::TempDir::new();
    let mut v = vec![(support::sqlite_url(&dir), dir)];
    if let Some(pg) = support::pg_url().await {
        v.push((pg, support::TempDir::new()));
    }
    v
}

async fn history(app: &axum::Router, id: &str) -> Vec<String> {
    let (s, v) = call(app, "GET", &format!("/api/tasks/{id}/history"), None, &[]).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["event_type"].as_str().expect("type").to_string())
        .collect()
}

#[tokio::test]
async fn every_change_reaches_the_audit_log_in_order() {
    for (url, _dir) in backends().await {
        let state = support::state(support::stores(&url).await);
        let app = app(&state);
        let id = create(&app, json!({"title": "audited"})).await;
        call(
            &app,
            "PATCH",
            &format!("/api/tasks/{id}"),
            Some(json!({"priority": "high"})),
            &[],
        )
        .await;
        call(
            &app,
            "POST",
            &format!("/api/tasks/{id}/complete"),
            None,
            &[],
        )
        .await;
        call(&app, "DELETE", &format!("/api/tasks/{id}"), None, &[]).await;
        assert_eq!(
            state.events.outbox_pending().await.expect("pending"),
            4,
            "{url}: four events wait in the outbox"
        );
        assert_eq!(state.relay.pass().await.expect("relay"), 4);
        assert_eq!(state.events.outbox_pending().await.expect("pending"), 0);
        assert_eq!(
            history(&app, &id).await,
            vec![
                "task.created",
                "task.updated",
                "task.completed",
                "task.deleted"
            ],
            "{url}"
        );
        let (_, v) = call(&app, "GET", &format!("/api/tasks/{id}/history"), None, &[]).await;
        assert_eq!(
            v["events"][1]["payload"]["changed"],
            json!({"priority": "high"}),
            "task.updated carries only the changed fields"
        );
        let (_, feed) = call(
            &app,
            "GET",
            "/api/activity?event_type=task.deleted",
            None,
            &[],
        )
        .await;
        assert_eq!(feed["total"], 1);
        for (query, want) in [
            ("offset=1000000000", StatusCode::OK),
            ("offset=1000000001", StatusCode::UNPROCESSABLE_ENTITY),
            (
                "offset=18446744073709551615",
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        ] {
            for path in ["/api/activity", "/api/notifications"] {
                let (s, _) = call(&app, "GET", &format!("{path}?{query}"), None, &[]).await;
                assert_eq!(s, want, "{path}?{query} ({url})");
            }
        }
        let (s, _) = call(
            &app,
            "GET",
            &format!("/api/tasks/{}/history", TaskId::new()),
            None,
            &[],
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn completing_by_patch_is_a_completion_for_every_consumer() {
    // `PATCH {"status":"completed"}` (what the web UI's status menu sends) completes a
    // recurring task exactly as `POST /complete` does: a `task.completed` event, and the next
    // occurrence. Other fields changed in the same request go out first as `task.updated`.
    for (url, _dir) in backends().await {
        let state = support::state(support::stores(&url).await);
        let app = app(&state);
        let id = create(&app, json!({"title": "water plants", "recurrence_rule": "daily", "due_date": "2026-12-01T09:00:00Z"})).await;
        let (s, done) = call(
            &app,
            "PATCH",
            &format!("/api/tasks/{id}"),
            Some(json!({"status": "completed"})),
            &[],
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{done}");
        assert_eq!(done["status"], "completed");
        state.relay.pass().await.expect("relay");
        state.relay.pass().await.expect("relay");
        let (_, series) = call(
            &app,
            "GET",
            &format!("/api/tasks?series_id={id}&sort_by=due_date"),
            None,
            &[],
        )
        .await;
        assert_eq!(series["total"], 2, "{url}: the next occurrence exists");
        assert_eq!(series["tasks"][1]["due_date"], "2026-12-02T09:00:00Z");
        assert_eq!(
            history(&app, &id).await,
            vec!["task.created", "task.completed", "task.recurring.triggered"],
            "{url}"
        );

        // Reopening and renaming in one request: the rename as task.updated, then the
        // reopening as task.completed (status pending), as the complete endpoint's toggle.
        let (s, v) = call(
            &app,
            "PATCH",
            &format!("/api/tasks/{id}"),
            Some(json!({"status": "pending", "title": "water the plants"})),
            &[],
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        // A status change that is no completion stays a plain update.
        call(
            &app,
            "PATCH",
            &format!("/api/tasks/{id}"),
            Some(json!({"status": "in_progress"})),
            &[],
        )
        .await;
        state.relay.pass().await.expect("relay");
        state.relay.pass().await.expect("relay");
        assert_eq!(
            history(&app, &id).await,
            vec![
                "task.created",
                "task.completed",
                "task.recurring.triggered",
                "task.updated",
                "task.completed",
                "task.updated"
            ],
            "{url}"
        );
        let (_, h) = call(&app, "GET", &format!("/api/tasks/{id}/history"), None, &[]).await;
        assert_eq!(
            h["events"][3]["payload"]["changed"],
            json!({"title": "water the plants"}),
            "{url}"
        );
        assert_eq!(h["events"][4]["payload"]["status"], "pending", "{url}");
        let (_, series) = call(
            &app,
            "GET",
            &format!("/api/tasks?series_id={id}"),
            None,
            &[],
        )
        .await;
        assert_eq!(series["total"], 2, "{url}: reopening creates nothing");

        // Created already completed: a completion too.
        let born = create(&app, json!({"title": "done at birth", "status": "completed", "recurrence_rule": "daily", "due_date": "2027-01-01T09:00:00Z"})).await;
        state.relay.pass().await.expect("relay");
        state.relay.pass().await.expect("relay");
        assert_eq!(
            history(&app, &born).await,
            vec!["task.created", "task.completed", "task.recurring.triggered"],
            "{url}"
        );
        let (_, series) = call(
            &app,
            "GET",
            &format!("/api/tasks?series_id={born}&sort_by=due_date"),
            None,
            &[],
        )
        .await;
        assert_eq!(series["total"], 2, "{url}");
        assert_eq!(series["tasks"][1]["due_date"], "2027-01-02T09:00:00Z");

        // Counted from the completion: a week after the day it was done, at the due date's
        // time of day in the task's zone (not at the minute it was ticked off).
        let weekly = create(&app, json!({"title": "call mum", "recurrence_rule": "weekly", "recurrence_anchor": "completion", "timezone": "Europe/Paris", "due_date": "2026-11-02T09:30:00+01:00"})).await;
        let (s, done) = call(
            &app,
            "POST",
            &format!("/api/tasks/{weekly}/complete"),
            None,
            &[],
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{done}");
        state.relay.pass().await.expect("relay");
        state.relay.pass().await.expect("relay");
        let completed: chrono::DateTime<chrono::Utc> = done["completed_at"]
            .as_str()
            .expect("completed_at")
            .parse()
            .expect("time");
        let paris = chrono_tz::Europe::Paris;
        let want = tasks::domain::recurrence::place(
            paris,
            (completed.with_timezone(&paris).date_naive() + chrono::Days::new(7))
                .and_hms_opt(9, 30, 0)
                .expect("time"),
        )
        .expect("placed");
        let (_, series) = call(
            &app,
            "GET",
            &format!("/api/tasks?series_id={weekly}&sort_by=due_date"),
            None,
            &[],
        )
        .await;
        assert_eq!(series["total"], 2, "{url}");
        assert_eq!(
            series["tasks"][1]["due_date"],
            want.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "{url}"
        );
    }
}

#[tokio::test]
async fn instants_past_year_9999_are_refused_and_never_stored() {
    // Valid RFC 3339 that lands outside years 0000–9999 in UTC: 422 naming the field, nothing
    // written (such a row used to make every read of it, and the reminder scan, fail). A
    // recurring series whose next occurrence would pass 9999 ends instead.
    for (url, _dir) in backends().await {
        let state = support::state(support::stores(&url).await);
        let app = app(&state);
        for (field, value) in [
            ("due_date", "9999-12-31T23:59:59-05:00"),
            ("reminder_at", "9999-12-31T23:59:59-01:00"),
            ("due_date", "0000-01-01T00:00:00+05:30"),
        ] {
            let (s, v) = call(
                &app,
                "POST",
                "/api/tasks",
                Some(json!({"title": "far", field: value})),
                &[],
            )
            .await;
            assert_eq!(
                s,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{url} {field}={value}: {v}"
            );
            assert!(v.to_string().contains(field), "{url}: {v}");
        }
        let (_, all) = call(&app, "GET", "/api/tasks", None, &[]).await;
        assert_eq!(all["total"], 0, "{url}: nothing written");

        let id = create(
            &app,
            json!({"title": "y", "recurrence_rule": "yearly", "due_date": "9999-06-01T09:00:00Z"}),
        )
        .await;
        let (s, v) = call(
            &app,
            "PATCH",
            &format!("/api/tasks/{id}"),
            Some(json!({"due_date": "9999-12-31T23:00:00-02:00"})),
            &[],
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {v}");
        let (s, _) = call(
            &app,
            "POST",
            &format!("/api/tasks/{id}/complete"),
            None,
            &[],
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        state.relay.pass().await.expect("relay");
        state.relay.pass().await.expect("relay");
        let (s, series) = call(
            &app,
            "GET",
            &format!("/api/tasks?series_id={id}"),
            None,
            &[],
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{url}: {series}");
        assert_eq!(series["total"], 1, "{url}: the series ended");
        let (s, _) = call(&app, "GET", &format!("/api/tasks/{id}"), None, &[]).await;
        assert_eq!(s, StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_changes_to_one_task_all_land_without_if_match() {
    // Without If-Match a client asks for its change whatever the version: 40 PATCHes and 21
    // completion toggles at once on one task all succeed (none runs out of retries with a 409),
    // each is one version, and status and completed_at agree at the end.
    for (url, _dir) in backends().await {
        let state = support::state(support::stores(&url).await);
        let app = app(&state);
        let id = create(&app, json!({"title": "busy"})).await;
        let mut all = Vec::new();
        for i in 0..40 {
            let (app, id) = (app.clone(), id.clone());
            all.push(tokio::spawn(async move {
                call(
                    &app,
                    "PATCH",
                    &format!("/api/tasks/{id}"),
                    Some(json!({"description": format!("d{i}")})),
                    &[],
                )
                .await
                .0
            }));
        }
        for _ in 0..21 {
            let (app, id) = (app.clone(), id.clone());
            all.push(tokio::spawn(async move {
                call(
                    &app,
                    "POST",
                    &format!("/api/tasks/{id}/complete"),
                    None,
                    &[],
                )
                .await
                .0
            }));
        }
        for j in all {
            assert_eq!(j.await.expect("joined"), StatusCode::OK, "{url}");
        }
        let (_, now) = call(&app, "GET", &format!("/api/tasks/{id}"), None, &[]).await;
        assert_eq!(now["version"], 62, "{url}: one version per change");
        assert_eq!(
            now["status"], "completed",
            "{url}: an odd number of toggles"
        );
        assert!(now["completed_at"].is_string(), "{url}");
    }
}

/// The in-process publisher, delivering to this store's consumers.
fn in_process(stores: &tasks::storage::Stores) -> Arc<dyn Publisher> {
    let consumers = Consumers::new(
        stores.events.clone(),
        "test",
        Arc::new(Notify::new()),
        false,
    );
    Arc::new(tasks::app::events::InProcessPublisher::new(consumers))
}

/// A publisher that can be switched off, standing in for a broker outage.
struct Flaky {
    up: AtomicBool,
    inner: Arc<dyn Publisher>,
    seen: std::sync::Mutex<Vec<(String, String)>>,
}

#[async_trait]
impl Publisher for Flaky {
    async fn publish(&self, ce: &Value, key: &str) -> Result<(), PublishError> {
        if !self.up.load(Ordering::SeqCst) {
            return Err(PublishError::Transport("broker down".into()));
        }
        self.seen.lock().expect("lock").push((
            key.to_string(),
            ce["type"].as_str().unwrap_or("").to_string(),
        ));
        self.inner.publish(ce, key).await
    }
}

/// A publisher that holds its first publish until the test opens the gate, and counts calls.
struct Gated {
    inner: Arc<dyn Publisher>,
    began: Notify,
    gate: Notify,
    first: AtomicBool,
    calls: AtomicUsize,
}

#[async_trait]
impl Publisher for Gated {
    async fn publish(&self, ce: &Value, key: &str) -> Result<(), PublishError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.first.swap(false, Ordering::SeqCst) {
            self.began.notify_one();
            self.gate.notified().await;
        }
        self.inner.publish(ce, key).await
    }
}

#[tokio::test]
async fn a_stopping_process_finishes_the_relays_pass_and_publishes_the_last_writes() {
    use std::time::Duration;
    for (url, _dir) in backends().await {
        let stores = support::stores(&url).await;
        let state = support::state(stores.clone());
        let app = app(&state);
        let gated = Arc::new(Gated {
            inner: in_process(&stores),
            began: Notify::new(),
            gate: Notify::new(),
            first: AtomicBool::new(true),
            calls: AtomicUsize::new(0),
        });
        let relay = Relay::new(
            stores.events.clone(),
            gated.clone(),
            Arc::new(Notify::new()),
        );
        let create = |title: &'static str| {
            call(
                &app,
                "POST",
                "/api/tasks",
                Some(json!({ "title": title })),
                &[],
            )
        };
        // The loop claims the first event and is stuck publishing it when the stop comes.
        let background = relay.clone().spawn(Duration::from_millis(20));
        assert_eq!(create("first").await.0, StatusCode::CREATED);
        tokio::time::timeout(Duration::from_secs(10), gated.began.notified())
            .await
            .expect("the relay began publishing");
        let draining = tokio::spawn({
            let relay = relay.clone();
            async move { relay.drain(Duration::from_secs(20)).await }
        });
        // Written while the loop's pass is stuck: only the drain's own last pass can send it.
        assert_eq!(create("second").await.0, StatusCode::CREATED);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            !draining.is_finished(),
            "{url}: the drain waits for the running pass"
        );
        gated.gate.notify_one();
        tokio::time::timeout(Duration::from_secs(20), draining)
            .await
            .expect("drained")
            .expect("no panic");
        assert_eq!(
            stores.events.outbox_pending().await.expect("pending"),
            0,
            "{url}: nothing left claimed or unsent at exit"
        );
        // The loop has ended and publishes nothing more.
        tokio::time::timeout(Duration::from_secs(5), background)
            .await
            .expect("the loop ended")
            .expect("no panic");
        let calls = gated.calls.load(Ordering::SeqCst);
        assert_eq!(create("third").await.0, StatusCode::CREATED);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(gated.calls.load(Ordering::SeqCst), calls, "{url}");
        assert_eq!(
            stores.events.outbox_pending().await.expect("pending"),
            1,
            "{url}"
        );
    }
}

/// When the relay claimed the outbox's rows: a claim leases its rows until its own clock plus
/// the lease, so the distinct lease ends, in order, are the claims' times (plus the lease).
async fn claim_times(url: &str) -> Vec<chrono::DateTime<chrono::Utc>> {
    let sql = "SELECT DISTINCT next_attempt_at FROM outbox ORDER BY next_attempt_at";
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.expect("connect");
        sqlx::query_scalar(sql)
            .fetch_all(&pool)
            .await
            .expect("leases")
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.expect("connect");
        sqlx::query_scalar(sql)
            .fetch_all(&pool)
            .await
            .expect("leases")
    }
}

#[tokio::test]
async fn under_a_stream_of_writes_the_relay_claims_in_spaced_rounds() {
    use std::time::{Duration, Instant};
    use tasks::app::events::RELAY_SPACING;
    for (url, _dir) in backends().await {
        let stores = support::stores(&url).await;
        let state = support::state(stores.clone());
        let app = app(&state);
        let relay = Relay::new(
            stores.events.clone(),
            in_process(&stores),
            Arc::new(Notify::new()),
        );
        let background = relay.clone().spawn(Duration::from_millis(200));
        // A create every few milliseconds, each waking the relay as the service does. Unspaced,
        // the relay claimed 3 ms after each wake-up, one event at a time.
        let mut ids = Vec::new();
        for i in 0..40 {
            ids.push(create(&app, json!({ "title": format!("stream {i}") })).await);
            relay.signal().notify_one();
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while stores.events.outbox_pending().await.expect("pending") > 0 {
            assert!(Instant::now() < deadline, "{url}: every event published");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for id in &ids {
            assert_eq!(history(&app, id).await, vec!["task.created"], "{url}");
        }
        let claims = claim_times(&url).await;
        assert!(claims.len() >= 2, "{url}: {} claims", claims.len());
        // The lease ends are the relay's wall clock; its spacing is kept on the monotonic
        // clock. Allow a millisecond between the two.
        let spacing = chrono::Duration::from_std(RELAY_SPACING).expect("spacing")
            - chrono::Duration::milliseconds(1);
        for pair in claims.windows(2) {
            assert!(
                pair[1] - pair[0] >= spacing,
                "{url}: claims {} apart, at least {RELAY_SPACING:?} expected ({claims:?})",
                pair[1] - pair[0]
            );
        }
        relay.drain(Duration::from_secs(5)).await;
        tokio::time::timeout(Duration::from_secs(5), background)
            .await
            .expect("the loop ended")
            .expect("no panic");
    }
}

#[tokio::test]
async fn a_backlog_longer_than_one_pass_goes_out_without_waiting_for_the_tick() {
    use std::time::{Duration, Instant};
    use tasks::app::events::RELAY_PASS_MOST;
    for (url, _dir) in backends().await {
        let stores = support::stores(&url).await;
        let state = support::state(stores.clone());
        let app = app(&state);
        // More events than one pass takes, written while no relay runs (an outage).
        let total = RELAY_PASS_MOST + 150;
        let writers: Vec<_> = (0..32)
            .map(|w| {
                let app = app.clone();
                tokio::spawn(async move {
                    for i in (w..total).step_by(32) {
                        create(&app, json!({ "title": format!("backlog {i}") })).await;
                    }
                })
            })
            .collect();
        for w in writers {
            w.await.expect("writer");
        }
        assert_eq!(
            stores.events.outbox_pending().await.expect("pending"),
            total as u64,
            "{url}"
        );
        // One wake-up, and a tick far beyond the test's patience: only passes that follow each
        // other at once can send it all.
        let relay = Relay::new(
            stores.events.clone(),
            in_process(&stores),
            Arc::new(Notify::new()),
        );
        let background = relay.clone().spawn(Duration::from_secs(600));
        relay.signal().notify_one();
        let deadline = Instant::now() + Duration::from_secs(60);
        while stores.events.outbox_pending().await.expect("pending") > 0 {
            assert!(
                Instant::now() < deadline,
                "{url}: the backlog's tail waits for the next tick"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        relay.drain(Duration::from_secs(5)).await;
        background.abort();
    }
}

#[tokio::test]
async fn an_outage_delays_events_but_loses_none_and_keeps_each_tasks_order() {
    for (url, _dir) in backends().await {
        let stores = support::stores(&url).await;
        let state = support::state(stores.clone());
        let app = app(&state);
        let flaky = Arc::new(Flaky {
            up: AtomicBool::new(false),
            inner: in_process(&stores),
            seen: Default::default(),
        });
        let relay = Relay::new(
            stores.events.clone(),
            flaky.clone(),
            Arc::new(Notify::new()),
        );
        let mut ids = Vec::new();
        for i in 0..5 {
            let (s, t) = call(
                &app,
                "POST",
                "/api/tasks",
                Some(json!({"title": format!("t{i}")})),
                &[],
            )
            .await;
            assert_eq!(
                s,
                StatusCode::CREATED,
                "writes succeed while the broker is down"
            );
            let id = t["id"].as_str().expect("id").to_string();
            call(
                &app,
                "POST",
                &format!("/api/tasks/{id}/complete"),
                None,
                &[],
            )
            .await;
            ids.push(id);
        }
        assert_eq!(relay.pass().await.expect("relay"), 0);
        assert_eq!(
            stores.events.outbox_pending().await.expect("pending"),
            10,
            "{url}: nothing lost, nothing sent"
        );
        flaky.up.store(true, Ordering::SeqCst);
        // Failed rows wait for their backoff; make them due now by passing a few times.
        let mut sent = 0;
        for _ in 0..40 {
            sent += relay.pass().await.expect("relay");
            if sent == 10 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(sent, 10, "{url}: every event published after the outage");
        let seen = flaky.seen.lock().expect("lock").clone();
        for id in &ids {
            let types: Vec<&str> = seen
                .iter()
                .filter(|(k, _)| k == id)
                .map(|(_, t)| t.as_str())
                .collect();
            assert_eq!(
                types,
                vec!["task.created", "task.completed"],
                "{url}: per-task order kept"
            );
            assert_eq!(history(&app, id).await.len(), 2);
        }
    }
}

#[tokio::test]
async fn redelivered_replayed_and_reordered_events_change_nothing() {
    for (url, _dir) in backends().await {
        let state = support::state(support::stores(&url).await);
        let app = app(&state);
        let id = create(&app, json!({"title": "weekly review", "recurrence_rule": "weekly", "due_date": "2026-12-04T16:00:00+01:00", "timezone": "Europe/Paris"})).await;
        call(
            &app,
            "POST",
            &format!("/api/tasks/{id}/complete"),
            None,
            &[],
        )
        .await;
        // Capture the two CloudEvents from the outbox, then deliver them many times, out of order.
        let rows = state
            .events
            .claim_outbox(tasks::domain::time::now(), 10, 1)
            .await
            .expect("claim");
        assert_eq!(
            rows.len(),
            1,
            "one task: only the head of its queue is claimable"
        );
        let created = rows[0].cloudevent.clone();
        state
            .events
            .outbox_published(rows[0].id, tasks::domain::time::now())
            .await
            .expect("mark");
        let rows = state
            .events
            .claim_outbox(tasks::domain::time::now(), 10, 1)
            .await
            .expect("claim");
        let completed = rows[0].cloudevent.clone();
        state
            .events
            .outbox_published(rows[0].id, tasks::domain::time::now())
            .await
            .expect("mark");
        for ce in [&completed, &created, &completed, &completed, &created] {
            let ev = IncomingEvent::from_cloudevent(ce).expect("readable");
            assert_eq!(state.consumers.handle(&ev).await, Outcome::Done);
        }
        assert_eq!(
            history(&app, &id).await,
            vec!["task.created", "task.completed"],
            "{url}: one audit row per event"
        );
        let (_, series) = call(
            &app,
            "GET",
            &format!("/api/tasks?series_id={id}&sort_by=due_date"),
            None,
            &[],
        )
        .await;
        assert_eq!(series["total"], 2, "{url}: exactly one next occurrence");
        let next = &series["tasks"][1];
        assert_eq!(
            next["due_date"], "2026-12-11T15:00:00Z",
            "next Friday 16:00 Paris time"
        );
        assert_eq!(next["occurrence"], 2);
        // Un-complete and re-complete the same occurrence: still one successor.
        call(
            &app,
            "POST",
            &format!("/api/tasks/{id}/complete"),
            None,
            &[],
        )
        .await;
        call(
            &app,
            "POST",
            &format!("/api/tasks/{id}/complete"),
            None,
            &[],
        )
        .await;
        state.relay.pass().await.expect("relay");
        let (_, series) = call(
            &app,
            "GET",
            &format!("/api/tasks?series_id={id}"),
            None,
            &[],
        )
        .await;
        assert_eq!(
            series["total"], 2,
            "{url}: re-completion creates nothing more"
        );
        let (_, feed) = call(
            &app,
            "GET",
            "/api/activity?event_type=task.recurring.triggered",
            None,
            &[],
        )
        .await;
        assert_eq!(feed["total"], 1);
        assert_eq!(
            feed["events"][0]["payload"]["next_due_date"],
            "2026-12-11T15:00:00Z"
        );
    }
}

#[tokio::test]
async fn a_reminder_fires_once_even_with_concurrent_schedulers_and_rearms_when_moved() {
    for (url, _dir) in backends().await {
        let state = support::state(support::stores(&url).await);
        let app = app(&state);
        let past = "2026-01-01T08:00:00Z";
        let mut ids = Vec::new();
        for i in 0..20 {
            let (_, t) = call(&app, "POST", "/api/tasks", Some(json!({"title": format!("r{i}"), "reminder_at": past, "due_date": "2026-01-01T09:00:00Z", "timezone": "Europe/Paris"})), &[]).await;
            ids.push(t["id"].as_str().expect("id").to_string());
        }
        let (_, done) = call(
            &app,
            "POST",
            "/api/tasks",
            Some(json!({"title": "done", "reminder_at": past, "status": "completed"})),
            &[],
        )
        .await;
        let fired = Arc::new(AtomicUsize::new(0));
        let mut handles = Vec::new();
        for _ in 0..4 {
            let (events, fired) = (state.events.clone(), fired.clone());
            handles.push(tokio::spawn(async move {
                let n = fire_reminders(&events, "scheduler", &Notify::new())
                    .await
                    .expect("fire");
                fired.fetch_add(n, Ordering::SeqCst);
            }));
        }
        for h in handles {
            h.await.expect("join");
        }
        assert_eq!(
            fired.load(Ordering::SeqCst),
            20,
            "{url}: each due reminder fired exactly once; completed tasks are disarmed"
        );
        state.relay.pass().await.expect("relay");
        let (_, n) = call(&app, "GET", "/api/notifications?unread=true", None, &[]).await;
        assert_eq!(
            (n["total"].as_u64(), n["unread"].as_u64()),
            (Some(20), Some(20)),
            "{url}"
        );
        // The text gives the due time in the task's own zone (09:00Z is 10:00 in Paris in
        // January), carried to the consumer in the reminder event.
        for note in n["notifications"].as_array().expect("notifications") {
            let title = note["title"].as_str().expect("title");
            assert_eq!(
                note["message"],
                format!("Reminder: \"{title}\" is due 2026-01-01 10:00 Europe/Paris"),
                "{url}"
            );
        }
        assert!(
            !history(&app, done["id"].as_str().expect("id"))
                .await
                .contains(&"task.reminder.due".to_string())
        );
        // Redelivering a reminder event creates no second notification.
        let (_, feed) = call(
            &app,
            "GET",
            "/api/activity?event_type=task.reminder.due&limit=1",
            None,
            &[],
        )
        .await;
        let ev_id = feed["events"][0]["id"].as_str().expect("id");
        let task_id = feed["events"][0]["task_id"].as_str().expect("task");
        let replay = json!({"specversion": "1.0", "id": ev_id, "type": "task.reminder.due", "source": "x", "time": past,
            "data": {"event_type": "task.reminder.due", "task_id": task_id, "payload": {"title": "r"}}});
        state
            .consumers
            .handle(&IncomingEvent::from_cloudevent(&replay).expect("ev"))
            .await;
        let (_, n) = call(&app, "GET", "/api/notifications", None, &[]).await;
        assert_eq!(n["total"], 20);
        // Moving the reminder re-arms it; marking read works.
        call(
            &app,
            "PATCH",
            &format!("/api/tasks/{}", ids[0]),
            Some(json!({"reminder_at": "2026-01-01T08:30:00Z"})),
            &[],
        )
        .await;
        assert_eq!(
            fire_reminders(&state.events, "scheduler", &Notify::new())
                .await
                .expect("fire"),
            1,
            "{url}"
        );
        let nid = n["notifications"][0]["id"]
            .as_str()
            .expect("id")
            .to_string();
        let (s, _) = call(
            &app,
            "POST",
            &format!("/api/notifications/{nid}/read"),
            None,
            &[],
        )
        .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (_, n) = call(&app, "GET", "/api/notifications?unread=true", None, &[]).await;
        assert_eq!(n["total"], 19);
        // An empty value is absent, also when it repeats a real one.
        for (spelling, total) in [
            ("TRUE", 19),
            ("Yes", 19),
            ("off", 20),
            ("0", 20),
            ("true&unread=", 19),
            ("&unread=true", 19),
        ] {
            let uri = format!("/api/notifications?unread={spelling}");
            let (s, n) = call(&app, "GET", &uri, None, &[]).await;
            assert_eq!(
                (s, n["total"].as_u64()),
                (StatusCode::OK, Some(total)),
                "{uri}"
            );
        }
        for bad in ["maybe", "true&unread=false"] {
            let uri = format!("/api/notifications?unread={bad}");
            let (s, _) = call(&app, "GET", &uri, None, &[]).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{uri}");
        }
        let unknown = "/api/notifications/00000000-0000-4000-8000-000000000000/read";
        let (s, body) = call(&app, "POST", unknown, None, &[]).await;
        assert_eq!(
            (s, body["detail"].as_str()),
            (StatusCode::NOT_FOUND, Some("Notification not found")),
            "{url}"
        );
    }
}

fn event_fn(state: &AppState) -> axum::Router {
    http::service(
        (http::on_task_event::FUNCTION.routes)(),
        state.clone(),
        &ServiceOptions::default(),
    )
}

#[tokio::test]
async fn on_task_event_answers_by_daprs_delivery_contract() {
    let dir = support::TempDir::new();
    let stores = support::stores(&support::sqlite_url(&dir)).await;
    let state = support::state(stores.clone());
    let f = event_fn(&state);
    let (s, sub) = call(&f, "GET", "/dapr/subscribe", None, &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(sub[0]["topic"], "task-events");
    assert_eq!(sub[0]["deadLetterTopic"], "task-events-dlq");

    let task = TaskId::new().to_string();
    let good = json!({"specversion": "1.0", "id": uuid::Uuid::now_v7().to_string(), "type": "task.created", "source": "create-task",
        "time": "2026-01-01T00:00:00Z", "datacontenttype": "application/json", "topic": "task-events", "pubsubname": "pubsub",
        "data": {"event_type": "task.created", "task_id": task, "payload": {"title": "x"}}});
    for _ in 0..3 {
        let (s, v) = call(
            &f,
            "POST",
            "/events/task-events",
            Some(good.clone()),
            &[("content-type", "application/cloudevents+json")],
        )
        .await;
        assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("SUCCESS")));
    }
    let (entries, total) = state
        .events
        .activity(
            &OwnerId::local(),
            &ActivityQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .expect("feed");
    assert_eq!(
        (entries.len(), total),
        (1, 1),
        "three deliveries, one audit entry"
    );

    let mut unknown = good.clone();
    unknown["type"] = json!("task.exploded");
    unknown["id"] = json!(uuid::Uuid::now_v7().to_string());
    // A NUL anywhere: PostgreSQL could never store it, so it would be retried forever.
    let mut nul = good.clone();
    nul["id"] = json!(uuid::Uuid::now_v7().to_string());
    nul["data"]["payload"]["title"] = json!("a\u{0}b");
    for bad in [json!({"not": "an event"}), unknown, nul, json!([1, 2])] {
        let (s, v) = call(&f, "POST", "/events/task-events", Some(bad.clone()), &[]).await;
        assert_eq!(
            (s, v["status"].as_str()),
            (StatusCode::OK, Some("DROP")),
            "{bad}"
        );
    }
    let raw = Request::post("/events/task-events")
        .body(Body::from("{{{ not json"))
        .expect("req");
    let resp = f.clone().oneshot(raw).await.expect("resp");
    assert_eq!(resp.status(), StatusCode::OK);
    let huge = Request::post("/events/task-events")
        .body(Body::from(vec![b' '; 2 * 1024 * 1024]))
        .expect("req");
    let resp = f.clone().oneshot(huge).await.expect("resp");
    let v: Value =
        serde_json::from_slice(&resp.into_body().collect().await.expect("body").to_bytes())
            .expect("json");
    assert_eq!(
        v["status"], "DROP",
        "an oversized event can never be processed"
    );

    for (route, method) in [
        ("/cron/reminders", "POST"),
        ("/cron/outbox", "POST"),
        ("/cron/reminders", "OPTIONS"),
    ] {
        let (s, _) = call(&f, method, route, None, &[]).await;
        assert_eq!(s, StatusCode::OK, "{method} {route}");
    }

    // A transient failure (the database is unreachable) is RETRY, never SUCCESS or DROP.
    let lite = Arc::new(
        tasks::storage::SqliteTaskStore::connect(&support::sqlite_url(&dir))
            .await
            .expect("open"),
    );
    let broken = support::state(tasks::storage::Stores {
        tasks: lite.clone(),
        events: lite.clone(),
        idempotency: None,
    });
    lite.close().await;
    let mut again = good.clone();
    again["id"] = json!(uuid::Uuid::now_v7().to_string());
    let (s, v) = call(
        &event_fn(&broken),
        "POST",
        "/events/task-events",
        Some(again),
        &[],
    )
    .await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("RETRY")));
}

#[tokio::test]
async fn a_forged_completion_outside_the_services_bounds_makes_no_task() {
    // The events route acts on what it is sent. A `task.completed` whose snapshot no request
    // could have made (a title of 1,000 characters on two lines, 101 tags, a rule every
    // second) is dropped to the dead-letter topic and creates nothing; the same event with a
    // snapshot in bounds does create the next occurrence.
    let dir = support::TempDir::new();
    let state = support::state(support::stores(&support::sqlite_url(&dir)).await);
    let api = support::app(&state);
    let (s, task) = call(
        &api,
        "POST",
        "/api/tasks",
        Some(json!({"title": "Water plants", "recurrence_rule": "daily", "due_date": "2026-03-02T09:00:00Z"})),
        &[],
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{task}");
    let mut snapshot = task.clone();
    snapshot["status"] = json!("completed");
    snapshot["completed_at"] = json!("2026-03-02T10:00:00Z");
    let event = |snapshot: &Value| {
        json!({"specversion": "1.0", "id": uuid::Uuid::now_v7().to_string(), "type": "task.completed",
            "source": "complete-task", "time": "2026-03-02T10:00:00Z", "datacontenttype": "application/json",
            "data": {"event_type": "task.completed", "task_id": snapshot["id"],
                "payload": {"status": "completed", "is_recurring": true, "task": snapshot}}})
    };
    let f = event_fn(&state);
    let tags: Vec<String> = (0..101).map(|i| format!("t{i}")).collect();
    for (field, value) in [
        ("title", json!(format!("FORGED\n{}", "x".repeat(1000)))),
        ("tags", json!(tags)),
        ("recurrence_rule", json!("FREQ=SECONDLY")),
    ] {
        let mut forged = snapshot.clone();
        forged[field] = value;
        let (s, v) = call(&f, "POST", "/events/task-events", Some(event(&forged)), &[]).await;
        assert_eq!(
            (s, v["status"].as_str()),
            (StatusCode::OK, Some("DROP")),
            "{field}"
        );
    }
    let (_, list) = call(&api, "GET", "/api/tasks", None, &[]).await;
    assert_eq!(list["total"], 1, "nothing was created: {list}");
    let (s, v) = call(
        &f,
        "POST",
        "/events/task-events",
        Some(event(&snapshot)),
        &[],
    )
    .await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("SUCCESS")));
    let (_, list) = call(&api, "GET", "/api/tasks", None, &[]).await;
    assert_eq!(list["total"], 2, "the next occurrence: {list}");
}

#[tokio::test]
async fn the_app_token_is_required_when_configured() {
    let dir = support::TempDir::new();
    let stores = support::stores(&support::sqlite_url(&dir)).await;
    let state = tasks::runtime::assemble(
        stores,
        tasks::runtime::Wiring {
            source: "t",
            dapr: None,
            app_api_token: Some("s3cret".into()),
            list_cache_bytes: 0,
        },
    );
    let f = event_fn(&state);
    for (method, route) in [
        ("GET", "/dapr/subscribe"),
        ("POST", "/events/task-events"),
        ("POST", "/cron/reminders"),
        ("POST", "/cron/outbox"),
    ] {
        let (s, _) = call(&f, method, route, Some(json!({})), &[]).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{route} without a token");
        let (s, _) = call(
            &f,
            method,
            route,
            Some(json!({})),
            &[("dapr-api-token", "wrong!")],
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{route} with a wrong token");
        let (s, _) = call(
            &f,
            method,
            route,
            Some(json!({})),
            &[("dapr-api-token", "s3cret")],
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{route} with the token");
    }
}

#[tokio::test]
async fn a_request_whose_client_hung_up_still_answers_its_retry() {
    let dir = support::TempDir::new();
    let state = support::state(support::stores(&support::sqlite_url(&dir)).await);
    // A slow write endpoint behind the Idempotency-Key middleware, counting its runs.
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    let slow = axum::routing::post(move || {
        let counted = counted.clone();
        async move {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            counted.fetch_add(1, Ordering::SeqCst);
            (StatusCode::CREATED, axum::Json(json!({"done": true})))
        }
    });
    let app = axum::Router::new()
        .route("/slow", slow)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::idempotency::idempotency,
        ))
        .with_state(state);
    let req = || {
        Request::post("/slow")
            .header("idempotency-key", "hang-up-1")
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .expect("req")
    };
    // The client gives up after 50 ms: its request future is dropped mid-handler.
    let gave_up = tokio::time::timeout(
        std::time::Duration::from_millis(50),
        app.clone().oneshot(req()),
    )
    .await;
    assert!(gave_up.is_err(), "the handler takes 300 ms");
    // Until the first run ends a retry is told it is still running (409); then it gets the
    // outcome, well before the claim's 60 s would lapse.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let resp = loop {
        let resp = app.clone().oneshot(req()).await.expect("resp");
        if resp.status() != StatusCode::CONFLICT || std::time::Instant::now() > deadline {
            break resp;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(resp.status(), StatusCode::CREATED, "not a 409 for a day");
    assert_eq!(resp.headers()["idempotent-replayed"], "true");
    assert_eq!(runs.load(Ordering::SeqCst), 1, "ran once, to the end");
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_response() {
    let dir = support::TempDir::new();
    let state = support::state(support::stores(&support::sqlite_url(&dir)).await);
    let app = app(&state);
    let body = json!({"title": "pay rent"});
    let (s1, first) = call(
        &app,
        "POST",
        "/api/tasks",
        Some(body.clone()),
        &[("idempotency-key", "k-1")],
    )
    .await;
    let (s2, second) = call(
        &app,
        "POST",
        "/api/tasks",
        Some(body.clone()),
        &[("idempotency-key", "k-1")],
    )
    .await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(
        first["id"], second["id"],
        "the retry gets the first task, not a new one"
    );
    // The same route with its trailing slash is the same request.
    let (s3, third) = call(
        &app,
        "POST",
        "/api/tasks/",
        Some(body.clone()),
        &[("idempotency-key", "k-1")],
    )
    .await;
    assert_eq!(
        (s3, &third["id"]),
        (StatusCode::CREATED, &first["id"]),
        "{third}"
    );
    let (_, list) = call(&app, "GET", "/api/tasks", None, &[]).await;
    assert_eq!(list["total"], 1);
    let (s, v) = call(
        &app,
        "POST",
        "/api/tasks",
        Some(json!({"title": "other"})),
        &[("idempotency-key", "k-1")],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, _) = call(
        &app,
        "POST",
        "/api/tasks",
        Some(body.clone()),
        &[("idempotency-key", "k-2")],
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "a new key is a new request");
    let id = first["id"].as_str().expect("id");
    let (d1, _) = call(
        &app,
        "DELETE",
        &format!("/api/tasks/{id}"),
        None,
        &[("idempotency-key", "del-1")],
    )
    .await;
    let (d2, _) = call(
        &app,
        "DELETE",
        &format!("/api/tasks/{id}"),
        None,
        &[("idempotency-key", "del-1")],
    )
    .await;
    assert_eq!(
        (d1, d2),
        (StatusCode::NO_CONTENT, StatusCode::NO_CONTENT),
        "a retried delete does not turn into a 404"
    );
    let (s, _) = call(
        &app,
        "POST",
        "/api/tasks",
        Some(body),
        &[("idempotency-key", "bad key with spaces")],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // A refused request is not kept: the corrected request with the same key goes through.
    let create_k3 = |title: &'static str| {
        call(
            &app,
            "POST",
            "/api/tasks",
            Some(json!({ "title": title })),
            &[("idempotency-key", "k-3")],
        )
    };
    let (s, v) = create_k3("").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, v) = create_k3("fixed").await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, again) = create_k3("fixed").await;
    assert_eq!(
        (s, &again["id"]),
        (StatusCode::CREATED, &v["id"]),
        "then replayed"
    );
}

#[tokio::test]
async fn the_requests_traceparent_travels_with_its_event() {
    let dir = support::TempDir::new();
    let state = support::state(support::stores(&support::sqlite_url(&dir)).await);
    let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    call(
        &app(&state),
        "POST",
        "/api/tasks",
        Some(json!({"title": "traced"})),
        &[("traceparent", tp)],
    )
    .await;
    let rows = state
        .events
        .claim_outbox(tasks::domain::time::now(), 10, 1)
        .await
        .expect("claim");
    assert_eq!(rows[0].cloudevent["traceparent"], tp);
    assert_eq!(
        rows[0].cloudevent["partitionkey"],
        rows[0].task_id.to_string()
    );
}

#[tokio::test]
async fn published_outbox_rows_are_pruned_and_pending_ones_kept() {
    for (url, _dir) in backends().await {
        let state = support::state(support::stores(&url).await);
        let app = app(&state);
        call(&app, "POST", "/api/tasks", Some(json!({"title": "a"})), &[]).await;
        state.relay.pass().await.expect("relay");
        call(&app, "POST", "/api/tasks", Some(json!({"title": "b"})), &[]).await;
        let later = tasks::domain::time::now() + chrono::Duration::hours(2);
        assert_eq!(
            state.events.prune_outbox(later).await.expect("prune"),
            1,
            "{url}: only the published row goes"
        );
        assert_eq!(state.events.outbox_pending().await.expect("pending"), 1);
        let (_, feed) = call(&app, "GET", "/api/activity", None, &[]).await;
        assert_eq!(feed["total"], 1, "{url}: the audit log keeps the history");
    }
}

#[tokio::test]
async fn the_relays_claim_stays_an_index_walk_on_a_backlog() {
    // The pathology this guards against: a caught-up relay leaves statistics that call both
    // partial outbox indexes empty; then a burst of writes builds a backlog, and a cost-based
    // plan turned the claim's "oldest of its task" test into a nested loop over the whole
    // backlog (minutes per claim at 13,000 rows, so the backlog only grew). The claim must
    // walk the unpublished-by-seq index and probe the (task_id, seq) index per candidate.
    let Some(url) = support::pg_url().await else {
        return;
    };
    let state = support::state(support::stores(&url).await);
    let app = app(&state);
    for i in 0..5 {
        call(
            &app,
            "POST",
            "/api/tasks",
            Some(json!({"title": format!("t{i}")})),
            &[],
        )
        .await;
    }
    state.relay.pass().await.expect("relay");
    let pool = sqlx::PgPool::connect(&url).await.expect("connect");
    sqlx::query("VACUUM ANALYZE outbox")
        .execute(&pool)
        .await
        .expect("analyze");
    // A backlog of 3,000 events over 2,000 tasks: the first 1,000 tasks have two events each.
    sqlx::query(
        "INSERT INTO outbox (id, task_id, event_type, topic, cloudevent, created_at, next_attempt_at) \
         SELECT gen_random_uuid(), ('00000000-0000-4000-8000-' || lpad(((g - 1) % 2000)::text, 12, '0'))::uuid, \
                'task.updated', 'task-events', jsonb_build_object('n', g), now() - interval '1 minute', now() - interval '1 minute' \
         FROM generate_series(1, 3000) AS g",
    )
    .execute(&pool)
    .await
    .expect("backlog");
    let now = tasks::domain::time::now();
    let plan: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "EXPLAIN {}",
        tasks::storage::postgres::CLAIM_OUTBOX_SQL
    )))
    .bind(now)
    .bind(100i64)
    .bind(now + chrono::Duration::seconds(30))
    .fetch_all(&pool)
    .await
    .expect("explain");
    let plan = plan.join("\n");
    assert!(
        plan.contains("outbox_unpublished_idx") && plan.contains("outbox_task_pending_idx"),
        "the claim must walk both indexes:\n{plan}"
    );
    assert!(
        !plan.contains("Join"),
        "the per-task test must stay a subplan:\n{plan}"
    );
    // And it claims the oldest event of each task only: the first 100 tasks' first events.
    let rows = state
        .events
        .claim_outbox(now, 100, 30)
        .await
        .expect("claim");
    assert_eq!(rows.len(), 100);
    let wanted: Vec<String> = (1..=100)
        .map(|g: i64| json!({ "n": g }).to_string())
        .collect();
    let got: Vec<String> = rows.iter().map(|r| r.cloudevent.to_string()).collect();
    assert_eq!(got, wanted, "oldest first, one per task");
}

#[tokio::test]
async fn the_outbox_prune_reads_only_old_rows() {
    // Once a minute the relay deletes what was published over an hour ago. Filtering the
    // whole outbox for it took 114 ms at 94,000 rows (and grows with the rate): both steps of
    // the prune must walk the primary key from the oldest event instead.
    let Some(url) = support::pg_url().await else {
        return;
    };
    let stores = support::stores(&url).await;
    let pool = sqlx::PgPool::connect(&url).await.expect("connect");
    // Two hours ago: 2,500 published events (more than one batch) and one still unpublished;
    // then half an hour of published events, in the order they were written.
    sqlx::query(
        "INSERT INTO outbox (id, task_id, event_type, topic, cloudevent, created_at, next_attempt_at, published_at) \
         SELECT gen_random_uuid(), gen_random_uuid(), 'task.created', 'task-events', jsonb_build_object('n', g), \
                t, t, CASE WHEN g = 1 THEN NULL ELSE t + interval '1 second' END \
         FROM generate_series(0, 22500) AS g, \
              LATERAL (SELECT CASE WHEN g <= 2500 THEN now() - interval '2 hours' + g * interval '1 millisecond' \
                                   ELSE now() - interval '30 minutes' + g * interval '80 milliseconds' END AS t) AS x",
    )
    .execute(&pool)
    .await
    .expect("events");
    sqlx::query("VACUUM ANALYZE outbox")
        .execute(&pool)
        .await
        .expect("analyze");
    let cut = tasks::domain::time::now() - chrono::Duration::hours(1);
    let explain = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            let q = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}")));
            let q = if sql.contains("$3") {
                q.bind(i64::MAX).bind(cut).bind(1000i64)
            } else {
                q.bind(cut)
            };
            let plan: Vec<String> = q.fetch_all(&pool).await.expect("explain");
            plan.join("\n")
        }
    };
    for sql in [
        tasks::storage::postgres::PRUNE_BOUND_SQL,
        tasks::storage::postgres::PRUNE_OUTBOX_SQL,
    ] {
        let plan = explain(sql).await;
        assert!(
            plan.contains("outbox_pkey") && !plan.contains("Seq Scan"),
            "the prune must walk the primary key:\n{sql}\n{plan}"
        );
    }
    let gone = stores.events.prune_outbox(cut).await.expect("prune");
    assert_eq!(gone, 2_500, "only the events published two hours ago");
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(
        left, 20_001,
        "the unpublished old event and the recent ones stay"
    );
}

#[tokio::test]
async fn the_sqlite_outbox_prune_follows_the_rowid() {
    // The same prune on SQLite: the delete is a rowid range, not a scan of every event.
    let dir = support::TempDir::new();
    let url = support::sqlite_url(&dir);
    let _stores = support::stores(&url).await;
    let pool = sqlx::SqlitePool::connect(&url).await.expect("connect");
    // EXPLAIN QUERY PLAN rows: id, parent, notused, detail.
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "EXPLAIN QUERY PLAN {}",
        tasks::storage::sqlite::PRUNE_OUTBOX_SQL
    )))
    .bind(10i64)
    .bind("2026-01-01")
    .fetch_all(&pool)
    .await
    .expect("explain");
    let plan: Vec<String> = rows
        .iter()
        .map(|r| sqlx::Row::try_get::<String, _>(r, 3).unwrap_or_default())
        .collect();
    let plan = plan.join("\n");
    assert!(
        plan.contains("INTEGER PRIMARY KEY"),
        "the prune must be a rowid range:\n{plan}"
    );
}
