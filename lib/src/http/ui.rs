//! Serves the exported web UI (Next.js static export) for the all-in-one server: `/x` tries
//! `x`, `x.html` and `x/index.html` under the UI directory; unknown `/api/...` paths stay JSON 404s,
//! and methods other than GET and HEAD get a JSON 405.

use std::path::{Component, Path, PathBuf};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::error::ApiError;

/// Serves the exported UI: `/x` tries `x`, `x.html`, `x/index.html`; `/api/...` never reaches
/// here unless unknown (JSON 404).
pub async fn serve_ui(root: PathBuf, req: Request) -> Response {
    let path = req.uri().path().to_string();
    if is_service_path(&path) {
        return ApiError::RouteNotFound.into_response();
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut resp = ApiError::MethodNotAllowed.into_response();
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return resp;
    }
    if !root.join("index.html").is_file() {
        let status = if path == "/" {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        };
        return (status, ui_missing_page(&root)).into_response();
    }
    let rel = path.trim_start_matches('/');
    let Some(rel) = safe_relative(rel) else {
        return ApiError::RouteNotFound.into_response();
    };
    let candidates = if rel.as_os_str().is_empty() {
        vec![root.join("index.html")]
    } else {
        let base = root.join(&rel);
        vec![
            base.clone(),
            base.with_extension("html"),
            base.join("index.html"),
        ]
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
                Err(_) => ApiError::RouteNotFound.into_response(),
            };
        }
    }
    match tokio::fs::read(root.join("404.html")).await {
        Ok(bytes) => (StatusCode::NOT_FOUND, Html(bytes)).into_response(),
        Err(_) => ApiError::RouteNotFound.into_response(),
    }
}

/// Paths of the service's own (JSON) routes, in any case and however many slashes lead or
/// trail: an unknown one is a JSON 404, never a web page a client would choke on.
fn is_service_path(path: &str) -> bool {
    let first = path
        .split('/')
        .find(|s| !s.is_empty())
        .unwrap_or_default()
        .to_ascii_lowercase();
    matches!(
        first.as_str(),
        "api" | "dapr" | "events" | "cron" | "health" | "openapi.json" | "docs" | "redoc"
    ) || path.starts_with("//")
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

fn ui_missing_page(root: &Path) -> Html<String> {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Todo</title></head>\
         <body style=\"font-family:sans-serif;max-width:40em;margin:3em auto\"><h1>Todo API is running</h1>\
         <p>The web UI is not built yet (looked in <code>{}</code>). Build it with <code>make ui</code> \
         (or <code>cd ui && npm ci && npm run build</code>) and reload, or set <code>UI_DIR</code>.</p>\
         <p>Meanwhile: <a href=\"/docs\">API docs (Swagger UI)</a> · <a href=\"/openapi.json\">OpenAPI document</a></p>\
         </body></html>",
        root.display()
    );
    Html(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_services_own_paths_are_never_pages() {
        for p in [
            "/api",
            "/API/TASKS",
            "//api/tasks",
            "/dapr/subscribe",
            "/openapi.json/",
            "/Docs/x",
            "/health/",
        ] {
            assert!(is_service_path(p), "{p}");
        }
        for p in ["/", "/tasks", "/activity", "/_next/static/a.js", "/apix"] {
            assert!(!is_service_path(p), "{p}");
        }
    }

    #[test]
    fn traversal_is_refused() {
        assert!(safe_relative("../etc/passwd").is_none());
        assert_eq!(safe_relative("a/./b.js"), Some(PathBuf::from("a/b.js")));
    }
}
