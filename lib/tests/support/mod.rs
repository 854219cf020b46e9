//! Test support: fresh databases for each test (a temporary SQLite file, or a new database on the
//! PostgreSQL server named by `TEST_DATABASE_URL`, which `make test` starts and sets).

#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::Connection;
use tasks::http::AppState;
use tasks::http::{self, ServiceOptions};
use tasks::ports::TaskStore;
use tasks::runtime::Wiring;
use tasks::storage::Stores;
use tower::ServiceExt;

/// A scratch directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let p = std::env::temp_dir().join(format!("todo-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A SQLite database file in a fresh directory.
pub fn sqlite_url(dir: &TempDir) -> String {
    format!("sqlite://{}?mode=rwc", dir.0.join("todo.db").display())
}

/// A fresh PostgreSQL database, or `None` (with the reason printed) when no server is configured
/// outside CI. In CI a missing server is a failure, never a silent skip.
pub async fn pg_url() -> Option<String> {
    let Ok(admin) = std::env::var("TEST_DATABASE_URL") else {
        if std::env::var_os("CI").is_some() {
            panic!("TEST_DATABASE_URL is not set in CI: run the suite with `make test`");
        }
        eprintln!(
            "SKIPPED (PostgreSQL part): TEST_DATABASE_URL is not set; `make test` starts a server and sets it"
        );
        return None;
    };
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("connect to TEST_DATABASE_URL");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE {name} TEMPLATE template0"
    )))
    .execute(&mut conn)
    .await
    .expect("create test database");
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b)
        .expect("url with a database");
    Some(format!("{base}/{name}"))
}

pub async fn stores(url: &str) -> Stores {
    tasks::storage::open(url, 8).await.expect("open store")
}

pub async fn store(url: &str) -> Arc<dyn TaskStore> {
    stores(url).await.tasks
}

/// The all-in-one wiring (in-process events), without background tasks: tests drive the relay
/// and the scheduler themselves.
pub fn state(stores: Stores) -> AppState {
    tasks::runtime::assemble(
        stores,
        Wiring {
            source: "test",
            dapr: None,
            app_api_token: None,
            list_cache_bytes: tasks::app::tasks::DEFAULT_PAGE_CACHE_BYTES,
        },
    )
}

/// Sends one request to `app`; the body (if any) as JSON; returns the status and the JSON body
/// (`null` when empty or not JSON).
pub async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut b = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let body = match body {
        Some(v) => {
            b = b.header("content-type", "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let resp = app
        .clone()
        .oneshot(b.body(body).expect("request"))
        .await
        .expect("response");
    let status = resp.status();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Creates a task through `app` (asserting 201) and returns its id.
pub async fn create(app: &axum::Router, body: Value) -> String {
    let (s, t) = call(app, "POST", "/api/tasks", Some(body), &[]).await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    t["id"].as_str().expect("id").to_string()
}

/// The all-in-one router over `state`.
pub fn app(state: &AppState) -> axum::Router {
    let mut routes = axum::Router::new();
    for f in http::ALL_FUNCTIONS {
        routes = routes.merge((f.routes)());
    }
    http::service(routes, state.clone(), &ServiceOptions::default())
}
