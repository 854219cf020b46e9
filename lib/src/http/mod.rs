//! HTTP: one module per function (`router(state) -> Router`), the shared error model and
//! extractors, the OpenAPI document, and [`service`], which wraps any set of routes with the
//! layers every process needs (health, request ids, tracing, body limit, CORS, JSON 404/405).

pub mod complete_task;
pub mod create_task;
pub mod delete_task;
pub mod docs;
pub mod dto;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod list_tasks;
pub mod on_task_event;
pub mod ui;
pub mod update_task;

use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use axum::{Json, Router};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use std::sync::Arc;

use crate::app::TaskService;
use crate::app::events::{Consumers, Notifier, Relay};
use crate::domain::{OwnerId, Task};
use crate::ports::{EventStore, IdempotencyStore};
use error::ApiError;

/// Default request body limit (bytes).
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;
static BODY_LIMIT: OnceLock<usize> = OnceLock::new();

/// The body limit in force (set once at start-up).
pub fn body_limit() -> usize {
    *BODY_LIMIT.get_or_init(|| DEFAULT_BODY_LIMIT)
}

/// How long a request body may take to arrive once its headers have.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Reads a request body within the limit: 413 at once when `Content-Length` is over it (without
/// waiting for the body), 413 when the body grows past it, 408 when it has not all arrived
/// within [`BODY_READ_TIMEOUT`].
pub async fn read_body(
    headers: &axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<bytes::Bytes, ApiError> {
    read_body_within(headers, body, BODY_READ_TIMEOUT).await
}

async fn read_body_within(
    headers: &axum::http::HeaderMap,
    body: axum::body::Body,
    deadline: Duration,
) -> Result<bytes::Bytes, ApiError> {
    // Bodies are taken as sent: a compressed one would be read as garbage (or, with a bogus
    // encoding named, read as if none were).
    if let Some(enc) = headers.get(header::CONTENT_ENCODING) {
        let identity = enc.to_str().is_ok_and(|e| {
            e.split(',')
                .all(|e| e.trim().eq_ignore_ascii_case("identity"))
        });
        if !identity {
            return Err(ApiError::UnsupportedMediaType(
                "Content-Encoding is not supported; send the body uncompressed",
            ));
        }
    }
    let limit = body_limit();
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    match tokio::time::timeout(deadline, axum::body::to_bytes(body, limit)).await {
        Err(_) => Err(ApiError::RequestTimeout(deadline.as_secs())),
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => {
            let inner = e.into_inner();
            if inner.is::<http_body_util::LengthLimitError>() {
                Err(ApiError::PayloadTooLarge(limit))
            } else {
                Err(ApiError::BadRequest(inner.to_string()))
            }
        }
    }
}

/// What every handler needs.
#[derive(Clone)]
pub struct AppState {
    /// The task use-cases.
    pub tasks: TaskService,
    /// Whose tasks this process serves (the fixed local owner until authentication exists).
    pub owner: OwnerId,
    /// The event side's storage (history, activity, notifications, reminders).
    pub events: Arc<dyn EventStore>,
    /// The three consumers.
    pub consumers: Consumers,
    /// The outbox relay.
    pub relay: Relay,
    /// `Idempotency-Key` records.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// Delivers notifications outside the app, when an output binding is configured.
    pub notifier: Option<Arc<dyn Notifier>>,
    /// Required from the sidecar (`dapr-api-token`) on the event and cron routes.
    pub app_api_token: Option<Arc<str>>,
    /// This process's name (CloudEvents `source`).
    pub source: &'static str,
}

/// A deployable function: its Dapr app-id and the routes it serves.
#[derive(Clone, Copy)]
pub struct Function {
    /// Kubernetes/Dapr name, e.g. `create-task`; also the CloudEvents `source` of its events.
    pub name: &'static str,
    /// Builds the function's own routes (wrap them with [`service`] to serve them).
    pub routes: fn() -> Router<AppState>,
}

/// Every function, in the order the all-in-one server composes them.
pub const ALL_FUNCTIONS: [Function; 5] = [
    create_task::FUNCTION,
    update_task::FUNCTION,
    complete_task::FUNCTION,
    delete_task::FUNCTION,
    list_tasks::FUNCTION,
];

/// Registers `path` and `path/` with the same handler (both forms are served, no redirects).
pub(crate) fn both(
    router: Router<AppState>,
    path: &str,
    handler: MethodRouter<AppState>,
) -> Router<AppState> {
    router
        .route(path, handler.clone())
        .route(&format!("{path}/"), handler)
}

/// The strong ETag of a task version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// A task body with its `ETag`.
pub(crate) fn task_response(status: StatusCode, task: &Task) -> Response {
    let mut resp = (status, Json(crate::domain::event::TaskJson(task))).into_response();
    if let Ok(v) = HeaderValue::from_str(&etag(task.version)) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

/// Options for [`service`].
#[derive(Debug, Clone, Default)]
pub struct ServiceOptions {
    /// Request body limit; `None` for [`DEFAULT_BODY_LIMIT`].
    pub body_limit: Option<usize>,
    /// Origins allowed by CORS; empty means same-origin only (no CORS headers).
    pub cors_origins: Vec<String>,
    /// Serve the web UI from this directory for every path no route claims.
    pub ui_dir: Option<std::path::PathBuf>,
}

/// Liveness and readiness: whether the process can reach its database. Every binary serves it.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, description = "Ready", body = dto::HealthOut, example = json!({"status": "ok"})),
        (status = 503, description = "The database cannot be reached", body = dto::HealthOut,
            example = json!({"status": "unavailable", "detail": "database unreachable"}))))]
pub async fn health(State(state): State<AppState>) -> Response {
    match state.tasks.store().ping().await {
        Ok(()) => {
            let ok = dto::HealthOut {
                status: "ok",
                detail: None,
            };
            (StatusCode::OK, Json(ok)).into_response()
        }
        Err(e) => {
            tracing::warn!(error = ?e, "health check: database unreachable");
            let down = dto::HealthOut {
                status: "unavailable",
                detail: Some("database unreachable"),
            };
            (StatusCode::SERVICE_UNAVAILABLE, Json(down)).into_response()
        }
    }
}

async fn not_found() -> ApiError {
    ApiError::RouteNotFound
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Longest client-given request id kept (a UUID is 36).
const MAX_REQUEST_ID: usize = 128;

/// A client's `x-request-id` is kept when it is 1-128 visible ASCII characters; otherwise it
/// is replaced by a generated one (it is echoed back and written to every log line).
async fn drop_unfit_request_id(mut req: axum::extract::Request) -> axum::extract::Request {
    let fit = |v: &HeaderValue| {
        let b = v.as_bytes();
        (1..=MAX_REQUEST_ID).contains(&b.len()) && b.iter().all(u8::is_ascii_graphic)
    };
    let mut given = req.headers().get_all("x-request-id").iter();
    let unfit = match (given.next(), given.next()) {
        (Some(v), None) => !fit(v),
        (None, _) => false,
        _ => true,
    };
    if unfit {
        req.headers_mut().remove("x-request-id");
    }
    req
}

/// Wraps `routes` (one function's, or several merged) into a complete service: `GET /health`,
/// JSON 404/405, the body limit, request ids (`x-request-id`, generated when absent and echoed),
/// a tracing span per request carrying the request id and `traceparent`, and CORS when asked.
pub fn service(routes: Router<AppState>, state: AppState, opts: &ServiceOptions) -> Router {
    let limit = opts.body_limit.unwrap_or(DEFAULT_BODY_LIMIT);
    let _ = BODY_LIMIT.set(limit);
    let request_id = HeaderName::from_static("x-request-id");
    let trace = TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        tracing::info_span!(
            "request",
            method = %req.method(),
            path = %req.uri().path(),
            request_id = %header("x-request-id"),
            traceparent = %header("traceparent"),
        )
    });
    let routes = match &opts.ui_dir {
        Some(dir) => {
            let dir = dir.clone();
            routes.fallback(move |req: axum::extract::Request| ui::serve_ui(dir.clone(), req))
        }
        None => routes.fallback(not_found),
    };
    let mut router = routes
        .route("/health", get(health))
        .route("/health/", get(health))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            idempotency::idempotency,
        ))
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(DefaultBodyLimit::max(limit))
        .layer(trace)
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(axum::middleware::map_request(drop_unfit_request_id));
    if !opts.cors_origins.is_empty() {
        // The configuration has checked the origins (`*` comes alone).
        let allow = if opts.cors_origins.iter().any(|o| o == "*") {
            AllowOrigin::any()
        } else {
            AllowOrigin::list(
                opts.cors_origins
                    .iter()
                    .filter_map(|o| HeaderValue::from_str(o.trim()).ok()),
            )
        };
        router = router.layer(
            CorsLayer::new()
                .allow_origin(allow)
                .allow_methods([
                    Method::GET,
                    Method::POST,
                    Method::PATCH,
                    Method::DELETE,
                    Method::OPTIONS,
                ])
                .allow_headers([
                    header::CONTENT_TYPE,
                    header::IF_MATCH,
                    header::IF_NONE_MATCH,
                    HeaderName::from_static("idempotency-key"),
                    HeaderName::from_static("traceparent"),
                    HeaderName::from_static("x-request-id"),
                ])
                .expose_headers([
                    header::ETAG,
                    header::LOCATION,
                    header::RETRY_AFTER,
                    HeaderName::from_static("x-request-id"),
                    HeaderName::from_static("idempotent-replayed"),
                ])
                .max_age(Duration::from_secs(600)),
        );
    }
    router
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    #[tokio::test]
    async fn a_declared_length_over_the_limit_is_refused_before_the_body_arrives() {
        let (_tx, body) = http_body_util::channel::Channel::<bytes::Bytes>::new(1);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_LENGTH,
            HeaderValue::from_static("999999999"),
        );
        // The body never comes: only the header can answer, and at once.
        let r = read_body_within(
            &headers,
            axum::body::Body::new(body),
            Duration::from_secs(60),
        );
        let r = tokio::time::timeout(Duration::from_secs(5), r)
            .await
            .expect("answered at once");
        assert!(matches!(r, Err(ApiError::PayloadTooLarge(_))), "{r:?}");
    }

    #[tokio::test]
    async fn a_body_that_stops_arriving_gets_a_timeout() {
        let (mut tx, body) = http_body_util::channel::Channel::<bytes::Bytes>::new(1);
        tx.send_data(bytes::Bytes::from_static(b"{\"title\":"))
            .await
            .expect("send");
        let r = read_body_within(
            &HeaderMap::new(),
            axum::body::Body::new(body),
            Duration::from_millis(200),
        )
        .await;
        assert!(matches!(r, Err(ApiError::RequestTimeout(_))), "{r:?}");
        drop(tx);
    }

    #[tokio::test]
    async fn a_body_cut_off_in_transit_is_a_bad_request_not_bad_json() {
        let (mut tx, body) =
            http_body_util::channel::Channel::<bytes::Bytes, std::io::Error>::new(1);
        tx.send_data(bytes::Bytes::from_static(b"{\"title\":"))
            .await
            .expect("send");
        tx.abort(std::io::Error::other("invalid chunk size"));
        let r = read_body_within(
            &HeaderMap::new(),
            axum::body::Body::new(body),
            Duration::from_secs(5),
        )
        .await;
        match r {
            Err(e @ ApiError::BadRequest(_)) => assert_eq!(e.status(), StatusCode::BAD_REQUEST),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_body_within_the_limit_is_read_whole() {
        let body = axum::body::Body::from("{\"title\":\"x\"}");
        let got = read_body_within(&HeaderMap::new(), body, Duration::from_secs(5))
            .await
            .expect("read");
        assert_eq!(&got[..], b"{\"title\":\"x\"}");
    }
}
