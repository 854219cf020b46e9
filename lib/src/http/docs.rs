//! API documentation: the OpenAPI 3.1 document at `/openapi.json`, Swagger UI at `/docs`
//! (assets embedded at build time by the `swagger-ui-dist` crate), ReDoc at `/redoc` (its
//! bundle comes from the `redoc` npm package, copied into the UI build at `/vendor/redoc/`).

use std::sync::LazyLock;

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use utoipa::OpenApi;

use super::AppState;

/// The OpenAPI description of every route the functions serve.
#[derive(OpenApi)]
#[openapi(
    info(title = "Todo API", description = "Event-driven task service. Every change publishes a CloudEvent on `task-events`."),
    paths(
        super::create_task::create_task,
        super::list_tasks::list_tasks,
        super::list_tasks::get_task,
        super::list_tasks::list_tags,
        super::list_tasks::task_history,
        super::list_tasks::activity,
        super::list_tasks::notifications,
        super::list_tasks::mark_read,
        super::update_task::update_task,
        super::complete_task::complete_task,
        super::delete_task::delete_task,
        super::health,
    ),
    components(schemas(super::dto::TaskOut, super::dto::TaskCreate, super::dto::TaskPatch, super::dto::SortByName, super::dto::SortOrderName, super::dto::TaskListOut, super::error::ErrorBody)),
    tags((name = "tasks", description = "Task commands and queries"),
         (name = "events", description = "History, activity and notifications, written by the event consumers"),
         (name = "health", description = "Served by every binary"))
)]
pub struct ApiDoc;

static OPENAPI_JSON: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".to_string())
});

async fn openapi_json() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        OPENAPI_JSON.as_str(),
    )
}

const REDOC_PAGE: &str = r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Todo API - ReDoc</title><style>body{margin:0}</style></head>
<body><redoc spec-url="/openapi.json"></redoc>
<noscript>ReDoc needs JavaScript; the raw document is at <a href="/openapi.json">/openapi.json</a>.</noscript>
<script src="/vendor/redoc/redoc.standalone.js" onerror="document.body.innerHTML='<p style=&quot;font-family:sans-serif;padding:2em&quot;>The ReDoc bundle is served with the web UI (build it with <code>make ui</code>). Swagger UI is at <a href=&quot;/docs&quot;>/docs</a>, the document at <a href=&quot;/openapi.json&quot;>/openapi.json</a>.</p>'"></script>
</body></html>"#;

async fn redoc() -> Html<&'static str> {
    Html(REDOC_PAGE)
}

/// The Swagger UI page links its assets relative to the path it was asked for, so `/docs/`
/// would load `/docs//swagger-ui.css` (404) and show a blank page: send it to `/docs`.
async fn docs_slash_redirect(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if req.uri().path() == "/docs/" {
        return axum::response::Redirect::permanent("/docs").into_response();
    }
    next.run(req).await
}

/// `/openapi.json`, `/docs` and `/redoc`.
pub fn routes() -> Router<AppState> {
    let swagger: Router<AppState> =
        swagger_ui_dist::generate_routes(swagger_ui_dist::ApiDefinition {
            uri_prefix: "/docs",
            api_definition: swagger_ui_dist::OpenApiSource::Uri("/openapi.json"),
            title: Some("Todo API"),
        })
        .with_state(())
        .layer(axum::middleware::from_fn(docs_slash_redirect));
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/redoc", get(redoc))
        .route("/redoc/", get(redoc))
        .merge(swagger)
}
