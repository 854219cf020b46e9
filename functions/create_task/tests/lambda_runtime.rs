//! The real `create_task` binary in Lambda mode (`AWS_LAMBDA_RUNTIME_API` set), driven by a
//! loopback fake of the Lambda Runtime API: it fetches one invocation (an API Gateway v2 event),
//! creates the task, and posts the response back.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use serde_json::{Value, json};

#[derive(Default)]
struct Fake {
    served: bool,
    response: Option<Value>,
    error: Option<String>,
}

type Shared = Arc<Mutex<Fake>>;

fn event() -> Value {
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": "/api/tasks", "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {"accountId": "1", "apiId": "a", "domainName": "a.example", "domainPrefix": "a",
            "http": {"method": "POST", "path": "/api/tasks", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "t"},
            "requestId": "r", "routeKey": "$default", "stage": "$default", "time": "27/Nov/2026:04:00:00 +0000", "timeEpoch": 0},
        "body": json!({"title": "via the runtime API"}).to_string(),
        "isBase64Encoded": false
    })
}

async fn next(State(s): State<Shared>) -> (StatusCode, HeaderMap, String) {
    let first = {
        let mut f = s.lock().expect("lock");
        let first = !f.served;
        f.served = true;
        first
    };
    if !first {
        // Lambda holds `next` open until the next invocation; one is all this test sends.
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
    let mut h = HeaderMap::new();
    h.insert(
        "lambda-runtime-aws-request-id",
        "inv-1".parse().expect("hdr"),
    );
    h.insert(
        "lambda-runtime-deadline-ms",
        "9999999999999".parse().expect("hdr"),
    );
    h.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:eu-west-1:1:function:create-task"
            .parse()
            .expect("hdr"),
    );
    h.insert(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000"
            .parse()
            .expect("hdr"),
    );
    (StatusCode::OK, h, event().to_string())
}

async fn response(State(s): State<Shared>, Path(_id): Path<String>, body: String) -> StatusCode {
    s.lock().expect("lock").response = serde_json::from_str(&body).ok();
    StatusCode::ACCEPTED
}

async fn error(State(s): State<Shared>, Path(_id): Path<String>, body: String) -> StatusCode {
    s.lock().expect("lock").error = Some(body);
    StatusCode::ACCEPTED
}

#[tokio::test]
async fn the_binary_answers_an_invocation_from_the_runtime_api() {
    let shared: Shared = Arc::default();
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = std::env::temp_dir().join(format!("todo-lambda-{}", std::process::id()));
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_create_task"))
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "create-task")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "test")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/todo.db?mode=rwc", dir.display()),
        )
        .env("DATA_DIR", &dir)
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start create_task");

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let resp = loop {
        if let Some(r) = shared.lock().expect("lock").response.clone() {
            break r;
        }
        if let Some(e) = shared.lock().expect("lock").error.clone() {
            panic!("the function reported an error: {e}");
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no response posted within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let _ = child.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(resp["statusCode"], 201, "{resp}");
    let body: Value =
        serde_json::from_str(resp["body"].as_str().expect("body")).expect("json body");
    assert_eq!(body["title"], "via the runtime API");
}
