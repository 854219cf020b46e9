//! The process runtime: configuration → telemetry → adapters → serve. The same binary serves
//! plain HTTP on `$HOST:$PORT` (Kubernetes, compose, a laptop) or runs under AWS Lambda through
//! `lambda_http` when `AWS_LAMBDA_RUNTIME_API` is set. SIGTERM/Ctrl-C drain in-flight requests.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use tokio::sync::Notify;

use crate::app::TaskService;
use crate::config::{Config, Defaults};
use crate::domain::OwnerId;
use crate::http::{self, AppState, Function, ServiceOptions};

/// Defaults of a function binary: every interface, port 8080 (containers).
pub const FUNCTION_DEFAULTS: Defaults = Defaults { port: 8080, host: IpAddr::V4(Ipv4Addr::UNSPECIFIED) };
/// Defaults of the all-in-one server: loopback only (there is no authentication yet), port 8000.
pub const ALL_IN_ONE_DEFAULTS: Defaults = Defaults { port: 8000, host: IpAddr::V4(Ipv4Addr::LOCALHOST) };

/// Opens storage and builds the handlers' state.
pub async fn build_state(cfg: &Config, source: &str) -> anyhow::Result<AppState> {
    if cfg.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&cfg.data_dir)
            .with_context(|| format!("creating DATA_DIR {}", cfg.data_dir.display()))?;
    }
    let store = crate::storage::open(&cfg.database_url, cfg.db_max_connections)
        .await
        .with_context(|| format!("opening {}", crate::storage::redact_url(&cfg.database_url)))?;
    let tasks = TaskService::new(store, source, Arc::new(Notify::new()));
    Ok(AppState { tasks, owner: OwnerId::local() })
}

fn service_options(cfg: &Config) -> ServiceOptions {
    ServiceOptions { body_limit: Some(cfg.max_body_bytes), cors_origins: cfg.cors_origins.clone() }
}

/// Runs one function binary: its own routes plus `GET /health`.
pub async fn run(function: Function) -> anyhow::Result<()> {
    let cfg = Config::from_env(&FUNCTION_DEFAULTS)?;
    crate::telemetry::init(cfg.log_format);
    let state = build_state(&cfg, function.name).await?;
    let app = http::service((function.routes)(), state, &service_options(&cfg));
    serve(app, &cfg, function.name).await
}

/// Runs the all-in-one server: every function's routes, the API docs and the web UI.
pub async fn run_all_in_one() -> anyhow::Result<()> {
    let cfg = Config::from_env(&ALL_IN_ONE_DEFAULTS)?;
    crate::telemetry::init(cfg.log_format);
    let app = all_in_one_app(&cfg).await?;
    serve(app, &cfg, "todo").await
}

/// The all-in-one router (also used by tests).
pub async fn all_in_one_app(cfg: &Config) -> anyhow::Result<Router> {
    let state = build_state(cfg, "todo").await?;
    let mut routes = Router::new();
    for f in http::ALL_FUNCTIONS {
        routes = routes.merge((f.routes)());
    }
    let ui_dir = cfg.ui_dir.clone();
    let routes = routes.fallback(move |req: Request| serve_ui(ui_dir.clone(), req));
    Ok(http::service(routes, state, &service_options(cfg)))
}

/// Serves the exported UI: `/x` tries `x`, `x.html`, `x/index.html`; `/api/...` never reaches
/// here unless unknown (JSON 404).
async fn serve_ui(root: PathBuf, req: Request) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/api/") || path == "/api" {
        return http::error::ApiError::RouteNotFound.into_response();
    }
    if !root.join("index.html").is_file() {
        return ui_missing_page(&root);
    }
    let rel = path.trim_start_matches('/');
    let Some(rel) = safe_relative(rel) else {
        return http::error::ApiError::RouteNotFound.into_response();
    };
    let candidates = if rel.as_os_str().is_empty() {
        vec![root.join("index.html")]
    } else {
        let base = root.join(&rel);
        vec![base.clone(), base.with_extension("html"), base.join("index.html")]
    };
    for file in candidates {
        if file.is_file() {
            return match tokio::fs::read(&file).await {
                Ok(bytes) => {
                    let mime = mime_guess::from_path(&file).first_or_octet_stream();
                    let cache = if path.starts_with("/_next/static/") {
                        "public, max-age=31536000, immutable"
                    } else {
                        "no-cache"
                    };
                    Response::builder()
                        .header(header::CONTENT_TYPE, mime.as_ref())
                        .header(header::CACHE_CONTROL, cache)
                        .body(Body::from(bytes))
                        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
                }
                Err(_) => http::error::ApiError::RouteNotFound.into_response(),
            };
        }
    }
    match tokio::fs::read(root.join("404.html")).await {
        Ok(bytes) => (StatusCode::NOT_FOUND, Html(bytes)).into_response(),
        Err(_) => http::error::ApiError::RouteNotFound.into_response(),
    }
}

/// A request path as a relative path with no `..`, root or prefix components.
fn safe_relative(rel: &str) -> Option<PathBuf> {
    let p = Path::new(rel);
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => out.push(s),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(out)
}

fn ui_missing_page(root: &Path) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Todo</title></head>\
         <body style=\"font-family:sans-serif;max-width:40em;margin:3em auto\"><h1>Todo API is running</h1>\
         <p>The web UI is not built yet (looked in <code>{}</code>). Build it with <code>make ui</code> \
         (or <code>cd ui && npm ci && npm run build</code>) and reload, or set <code>UI_DIR</code>.</p>\
         <p>Meanwhile: <a href=\"/docs\">API docs (Swagger UI)</a> · <a href=\"/openapi.json\">OpenAPI document</a></p>\
         </body></html>",
        root.display()
    );
    (StatusCode::OK, Html(body)).into_response()
}

/// Serves `app` on `$HOST:$PORT`, or as a Lambda function when `AWS_LAMBDA_RUNTIME_API` is set.
pub async fn serve(app: Router, cfg: &Config, name: &str) -> anyhow::Result<()> {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        tracing::info!(function = name, "running on the Lambda runtime API");
        return lambda_http::run(app).await.map_err(|e| anyhow::anyhow!("lambda runtime: {e}"));
    }
    let addr = SocketAddr::new(cfg.host, cfg.port);
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
    let local = listener.local_addr()?;
    // One line on stdout for scripts and tests that start the process on port 0.
    println!("{name} listening on http://{local}");
    tracing::info!(function = name, %local, config = ?cfg, "ready");
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
    tracing::info!(function = name, "stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_is_refused() {
        assert!(safe_relative("../etc/passwd").is_none());
        assert_eq!(safe_relative("a/./b.js"), Some(PathBuf::from("a/b.js")));
    }
}
