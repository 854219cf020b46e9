//! 1,000 mixed operations with injected redelivery and restarts: afterwards the audit log holds
//! exactly one entry per event the operations produced — nothing lost, nothing duplicated.

mod support;

use support::app;

use std::collections::HashMap;

use axum::http::StatusCode;
use serde_json::{Value, json};
use tasks::domain::OwnerId;
use tasks::ports::ActivityQuery;

async fn send(
    app: &axum::Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    support::call(app, method, uri, body, &[]).await
}

/// A small deterministic generator, so a failure can be replayed.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

async fn soak(url: &str) {
    let mut state = support::state(support::stores(url).await);
    let mut rng = Lcg(42);
    let mut live: Vec<String> = Vec::new();
    let mut expected: HashMap<&'static str, u64> = HashMap::new();
    for i in 0..1000u64 {
        let a = app(&state);
        let op = if live.is_empty() { 0 } else { rng.next(10) };
        match op {
            0..=3 => {
                let priority = ["low", "medium", "high"][(i % 3) as usize];
                let (s, t) = send(
                    &a,
                    "POST",
                    "/api/tasks",
                    Some(json!({"title": format!("soak {i}"), "priority": priority})),
                )
                .await;
                assert_eq!(s, StatusCode::CREATED);
                live.push(t["id"].as_str().expect("id").to_string());
                *expected.entry("task.created").or_default() += 1;
            }
            4..=6 => {
                let id = &live[rng.next(live.len() as u64) as usize];
                let (s, _) = send(
                    &a,
                    "PATCH",
                    &format!("/api/tasks/{id}"),
                    Some(json!({"title": format!("edited {i}")})),
                )
                .await;
                assert_eq!(s, StatusCode::OK);
                *expected.entry("task.updated").or_default() += 1;
            }
            7..=8 => {
                let id = &live[rng.next(live.len() as u64) as usize];
                let (s, _) = send(&a, "POST", &format!("/api/tasks/{id}/complete"), None).await;
                assert_eq!(s, StatusCode::OK);
                *expected.entry("task.completed").or_default() += 1;
            }
            _ => {
                let id = live.swap_remove(rng.next(live.len() as u64) as usize);
                let (s, _) = send(&a, "DELETE", &format!("/api/tasks/{id}"), None).await;
                assert_eq!(s, StatusCode::NO_CONTENT);
                *expected.entry("task.deleted").or_default() += 1;
            }
        }
        // Publish sometimes, not always: some events sit in the outbox across "restarts".
        if rng.next(4) == 0 {
            state.relay.pass().await.expect("relay");
        }
        if i % 250 == 249 {
            // Restart: drop every in-memory piece and reopen the database.
            state = support::state(support::stores(url).await);
        }
        if i % 100 == 99 {
            // Redelivery: replay already-delivered events straight into the consumers.
            let (entries, _) = state
                .events
                .activity(
                    &OwnerId::local(),
                    &ActivityQuery {
                        limit: 20,
                        ..Default::default()
                    },
                )
                .await
                .expect("feed");
            for e in entries {
                let ce = json!({"specversion": "1.0", "id": e.event_id.to_string(), "type": e.event_type, "source": e.source,
                    "time": tasks::domain::time::format_utc(&e.occurred_at),
                    "data": {"event_type": e.event_type, "task_id": e.task_id.to_string(), "payload": e.payload}});
                let ev = tasks::domain::event::IncomingEvent::from_cloudevent(&ce).expect("event");
                state.consumers.handle(&ev).await;
            }
        }
    }
    for _ in 0..20 {
        if state.relay.pass().await.expect("relay") == 0
            && state.events.outbox_pending().await.expect("pending") == 0
        {
            break;
        }
    }
    assert_eq!(
        state.events.outbox_pending().await.expect("pending"),
        0,
        "{url}: outbox drained"
    );
    for (ty, n) in &expected {
        let (_, total) = state
            .events
            .activity(
                &OwnerId::local(),
                &ActivityQuery {
                    event_type: Some((*ty).to_string()),
                    limit: 1,
                    ..Default::default()
                },
            )
            .await
            .expect("feed");
        assert_eq!(
            total, *n,
            "{url}: {ty}: audit entries must equal operations sent"
        );
    }
    let (_, all) = state
        .events
        .activity(
            &OwnerId::local(),
            &ActivityQuery {
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .expect("feed");
    assert_eq!(
        all,
        expected.values().sum::<u64>(),
        "{url}: no extra events"
    );
}

#[tokio::test]
async fn a_thousand_operations_with_restarts_and_redelivery_lose_and_duplicate_nothing() {
    let dir = support::TempDir::new();
    soak(&support::sqlite_url(&dir)).await;
    if let Some(pg) = support::pg_url().await {
        soak(&pg).await;
    }
}
