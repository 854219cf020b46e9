//! `Idempotency-Key` on the write endpoints (POST, PATCH, DELETE): the first request with a key
//! runs; a retry with the same key and the same request gets the first response back instead of
//! acting twice (`Idempotent-Replayed: true`). The record lives in the shared state store (Dapr
//! in the distributed mode; without a sidecar, the database on PostgreSQL, so every replica
//! sees it, and memory on SQLite) for 24 hours. A key reused for a different request is a 422; a retry while the first request is
//! still running is a 409. Only a success is recorded: after a 4xx (which changed nothing) or a
//! 5xx the key is free again, so the client may correct the request and retry with it. A request
//! runs to the end even if its client hangs up, so the retry finds its outcome; while it runs it
//! renews its claim on the key, which lapses a minute after the process running it is gone.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use crate::domain::FieldError;
use crate::ports::StoredResponse;
use tracing::Instrument;

/// How long a key is remembered.
pub const TTL_SECS: u64 = 24 * 3600;
/// How long a key stays claimed by a request that has not finished. The running request renews
/// the claim every [`RENEW_EVERY`] (and runs to the end even when its client hangs up), so the
/// claim lapses only when the process running it is gone: the key is then free again within a
/// minute instead of answering 409 for a day.
pub const PENDING_TTL_SECS: u64 = 60;
/// How often a running request renews its claim on its key.
const RENEW_EVERY: std::time::Duration = std::time::Duration::from_secs(20);
const HEADER: &str = "idempotency-key";
const REPLAYED: &str = "idempotent-replayed";
/// Response headers worth replaying.
const KEPT_HEADERS: [header::HeaderName; 3] =
    [header::CONTENT_TYPE, header::ETAG, header::LOCATION];

/// FNV-1a, 64 bit: a stable fingerprint of the request a key was first used with. A JSON body
/// counts by its content, not its spelling: the same object re-sent with other white space or
/// its keys in another order is the same request; so does the path, with or without the
/// trailing slash every route accepts.
fn fingerprint(method: &Method, path: &str, body: &[u8]) -> String {
    let path = match path.strip_suffix('/') {
        Some(p) if !p.is_empty() => p,
        _ => path,
    };
    let canonical = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .map(|v| {
            let mut out = String::with_capacity(body.len());
            write_canonical(&v, &mut out);
            out
        });
    let body = canonical.as_ref().map_or(body, |c| c.as_bytes());
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in method
        .as_str()
        .bytes()
        .chain([0])
        .chain(path.bytes())
        .chain([0])
        .chain(body.iter().copied())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// JSON with object keys sorted and no white space.
fn write_canonical(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(x, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

fn replay(r: &StoredResponse, status: u16) -> Response {
    let mut resp = Response::new(Body::from(r.body.clone()));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    for (k, v) in &r.headers {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k.as_str()), HeaderValue::from_str(v)) {
            resp.headers_mut().insert(k, v);
        }
    }
    resp.headers_mut().insert(
        HeaderName::from_static(REPLAYED),
        HeaderValue::from_static("true"),
    );
    resp
}

fn in_progress() -> Response {
    let mut resp = (
        StatusCode::CONFLICT,
        axum::Json(serde_json::json!({"detail": "a request with this Idempotency-Key is still being processed; retry shortly"})),
    )
        .into_response();
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    resp
}

fn store_failed(e: crate::ports::StoreError) -> Response {
    ApiError::Unavailable(e).into_response()
}

/// The middleware (installed by [`super::service`]).
pub async fn idempotency(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::POST | Method::PATCH | Method::DELETE) {
        return next.run(req).await;
    }
    let Some(raw) = req.headers().get(HEADER) else {
        return next.run(req).await;
    };
    let key = match raw.to_str() {
        Ok(k) if (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()) => {
            k.to_string()
        }
        _ => {
            return ApiError::from(FieldError::new(
                "Idempotency-Key",
                "must be 1-255 visible ASCII characters",
            ))
            .into_response();
        }
    };
    let (parts, body) = req.into_parts();
    let bytes = match super::read_body(&parts.headers, body).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let fp = fingerprint(&parts.method, parts.uri.path(), &bytes);
    let store_key = format!("idem|{}|{}", s.owner.as_str(), key);
    let pending = StoredResponse {
        fingerprint: fp.clone(),
        status: None,
        headers: vec![],
        body: String::new(),
    };

    match s
        .idempotency
        .create(&store_key, &pending, PENDING_TTL_SECS)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            return match s.idempotency.get(&store_key).await {
                Ok(Some(r)) if r.fingerprint != fp => ApiError::from(FieldError::new(
                    "Idempotency-Key",
                    "was already used with a different request; use a new key",
                ))
                .into_response(),
                Ok(Some(r)) => match r.status {
                    Some(status) => replay(&r, status),
                    None => in_progress(),
                },
                // Expired between the two calls: the client may simply retry.
                Ok(None) => in_progress(),
                Err(e) => store_failed(e),
            };
        }
        Err(e) => return store_failed(e),
    }

    // The request and the recording of its outcome run on their own task: a client that hangs
    // up (which drops this future) must not leave the key claimed with the outcome unknown, or
    // its retry would get 409s. Finished, the retry gets the outcome.
    let req = Request::from_parts(parts, Body::from(bytes));
    let state = s.clone();
    let key = store_key.clone();
    let task = run_and_record(state, key, pending, next, req).in_current_span();
    match tokio::spawn(task).await {
        Ok(resp) => resp,
        Err(e) => {
            tracing::error!(error = %e, "a request with an Idempotency-Key failed");
            if let Err(e) = s.idempotency.delete(&store_key).await {
                tracing::warn!(error = %e, "could not release an Idempotency-Key after a failure");
            }
            ApiError::Internal(anyhow::anyhow!("request task failed")).into_response()
        }
    }
}

async fn run_and_record(
    s: AppState,
    store_key: String,
    pending: StoredResponse,
    next: Next,
    req: Request,
) -> Response {
    let run = next.run(req);
    tokio::pin!(run);
    let start = tokio::time::Instant::now() + RENEW_EVERY;
    let mut renew = tokio::time::interval_at(start, RENEW_EVERY);
    let resp = loop {
        tokio::select! {
            resp = &mut run => break resp,
            _ = renew.tick() => {
                if let Err(e) = s.idempotency.put(&store_key, &pending, PENDING_TTL_SECS).await {
                    tracing::warn!(error = %e, "could not renew an Idempotency-Key claim");
                }
            }
        }
    };
    let fp = pending.fingerprint;
    let status = resp.status();
    // Only a success is kept for replay. A refused request (4xx) changed nothing and a failed
    // one (5xx) may not have run: the client may fix the request and send it with the same key.
    if !status.is_success() {
        if let Err(e) = s.idempotency.delete(&store_key).await {
            tracing::warn!(error = %e, "could not release an Idempotency-Key after a failure");
        }
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let Ok(body) = to_bytes(body, 16 * 1024 * 1024).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let headers = KEPT_HEADERS
        .iter()
        .filter_map(|h| {
            parts
                .headers
                .get(h)
                .and_then(|v| v.to_str().ok())
                .map(|v| (h.as_str().to_string(), v.to_string()))
        })
        .collect();
    let record = StoredResponse {
        fingerprint: fp,
        status: Some(status.as_u16()),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    if let Err(e) = s.idempotency.put(&store_key, &record, TTL_SECS).await {
        // The write happened; only the replay record is missing. Say so rather than fail it.
        tracing::warn!(error = %e, "could not store the Idempotency-Key response");
    }
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_separate_method_path_and_body() {
        let a = fingerprint(&Method::POST, "/api/tasks", b"{}");
        assert_eq!(a, fingerprint(&Method::POST, "/api/tasks", b"{}"));
        assert_ne!(a, fingerprint(&Method::PATCH, "/api/tasks", b"{}"));
        assert_eq!(
            a,
            fingerprint(&Method::POST, "/api/tasks/", b"{}"),
            "both forms of one route"
        );
        assert_ne!(a, fingerprint(&Method::POST, "/api/tasks/x", b"{}"));
        let b = br#"{"title":"x","tags":["a","b"]}"#;
        assert_ne!(a, fingerprint(&Method::POST, "/api/tasks", b));
        assert_ne!(
            fingerprint(&Method::POST, "/api/tasks", b),
            fingerprint(
                &Method::POST,
                "/api/tasks",
                br#"{"title":"x","tags":["b","a"]}"#
            ),
            "array order counts"
        );
    }

    #[test]
    fn a_json_body_counts_by_content_not_spelling() {
        let a = fingerprint(
            &Method::POST,
            "/api/tasks",
            br#"{"title":"x","priority":"low"}"#,
        );
        for same in [
            &br#" { "priority" : "low" , "title" : "x" } "#[..],
            &b"{\n  \"title\": \"x\",\n  \"priority\": \"low\"\n}"[..],
            &br#"{"title":"\u0078","priority":"low"}"#[..],
        ] {
            assert_eq!(a, fingerprint(&Method::POST, "/api/tasks", same));
        }
        // Not JSON: the bytes as they are.
        assert_ne!(
            fingerprint(&Method::POST, "/api/tasks", b"{x"),
            fingerprint(&Method::POST, "/api/tasks", b"{ x")
        );
    }
}
