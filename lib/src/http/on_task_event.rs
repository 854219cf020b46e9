//! `on_task_event`: the Dapr-facing function. `GET /dapr/subscribe`, `POST /events/task-events`
//! (CloudEvents from Dapr, answered by Dapr's delivery contract), and the cron-binding routes
//! `/cron/reminders` and `/cron/outbox`. With `APP_API_TOKEN` set, every request must carry the
//! matching `dapr-api-token` header.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::error::ApiError;
use super::{AppState, Function};
use crate::app::events::{Outcome, deliver_notifications, fire_reminders};
use crate::domain::event::{EventRejection, IncomingEvent};

/// The function.
pub const FUNCTION: Function = Function {
    name: "on-task-event",
    routes,
};

/// The dead-letter topic poison events go to.
pub const DEAD_LETTER_TOPIC: &str = "task-events-dlq";

/// The function's own routes.
pub fn routes() -> Router<AppState> {
    // Both slash forms, like every other function (Dapr itself calls the exact paths).
    let r = super::both(Router::new(), "/dapr/subscribe", get(subscribe));
    let r = super::both(r, "/events/task-events", post(task_event));
    // Dapr probes input-binding routes with OPTIONS at start-up; 200 keeps the binding on.
    let r = super::both(r, "/cron/reminders", post(cron_reminders).options(probe));
    super::both(r, "/cron/outbox", post(cron_outbox).options(probe))
}

/// `Some(401)` when `APP_API_TOKEN` is set and the request does not carry it.
fn refuse(s: &AppState, headers: &HeaderMap) -> Option<Response> {
    let expected = s.app_api_token.as_deref()?;
    if token_matches(headers, expected) {
        None
    } else {
        Some(
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({"detail": "missing or wrong dapr-api-token"})),
            )
                .into_response(),
        )
    }
}

fn token_matches(headers: &HeaderMap, expected: &str) -> bool {
    let Some(got) = headers.get("dapr-api-token").map(|v| v.as_bytes()) else {
        return false;
    };
    // Length and content compared without an early exit on the first differing byte.
    got.len() == expected.len()
        && got
            .iter()
            .zip(expected.as_bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

async fn subscribe(State(s): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(r) = refuse(&s, &headers) {
        return r;
    }
    Json(json!([{
        "pubsubname": crate::events::dapr::PUBSUB,
        "topic": crate::domain::event::TOPIC,
        "route": "/events/task-events",
        "deadLetterTopic": DEAD_LETTER_TOPIC,
    }]))
    .into_response()
}

fn dapr_status(status: &str) -> Response {
    (StatusCode::OK, Json(json!({"status": status}))).into_response()
}

async fn task_event(State(s): State<AppState>, req: Request) -> Response {
    if let Some(r) = refuse(&s, req.headers()) {
        return r;
    }
    let event_id = req
        .headers()
        .get("ce-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    // Read the body ourselves: an oversized or unreadable event can never be processed, and a
    // 4xx would make Dapr retry it forever instead of dead-lettering it.
    let (parts, body) = req.into_parts();
    let bytes = match super::read_body(&parts.headers, body).await {
        Ok(b) => b,
        // Slow is not the event's fault: let the sidecar deliver it again.
        Err(ApiError::RequestTimeout(_)) => {
            tracing::warn!(?event_id, "event body did not arrive in time: RETRY");
            return dapr_status("RETRY");
        }
        // Nor is a body cut off in transit.
        Err(ApiError::BadRequest(why)) => {
            tracing::warn!(?event_id, %why, "event body could not be read: RETRY");
            return dapr_status("RETRY");
        }
        Err(_) => {
            tracing::warn!(?event_id, "event body too large or unreadable: DROP");
            return dapr_status("DROP");
        }
    };
    let parsed = serde_json::from_slice::<Value>(&bytes)
        .map_err(|e| EventRejection::Malformed(e.to_string()))
        .and_then(|v| IncomingEvent::from_cloudevent(&v));
    let ev = match parsed {
        Ok(ev) => ev,
        Err(e) => {
            tracing::warn!(error = %e, "event can never be processed: DROP (dead-letter topic)");
            return dapr_status("DROP");
        }
    };
    match s.consumers.handle(&ev).await {
        Outcome::Done => dapr_status("SUCCESS"),
        Outcome::Retry(reason) => {
            tracing::warn!(event_id = %ev.id, %reason, "event processing failed: RETRY");
            dapr_status("RETRY")
        }
        Outcome::Drop(reason) => {
            tracing::warn!(event_id = %ev.id, %reason, "event can never be processed: DROP");
            dapr_status("DROP")
        }
    }
}

async fn probe() -> StatusCode {
    StatusCode::OK
}

/// The reminder scheduler's tick: fire due reminders, deliver queued notifications. Always 200
/// (a cron binding wants exactly that); failures are logged and the next tick retries.
async fn cron_reminders(State(s): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(r) = refuse(&s, &headers) {
        return r;
    }
    let fired = fire_reminders(&s.events, s.source, s.relay.signal()).await;
    let delivered = match &s.notifier {
        Some(n) => deliver_notifications(&s.events, n.as_ref()).await.map(Some),
        None => Ok(None),
    };
    if let Err(e) = &fired {
        tracing::warn!(error = %e, "reminder scan failed");
    }
    if let Err(e) = &delivered {
        tracing::warn!(error = %e, "notification delivery failed");
    }
    // Publish the reminder events now rather than at the relay's next tick.
    let published = s.relay.pass().await.unwrap_or(0);
    (StatusCode::OK, Json(json!({"fired": fired.ok(), "delivered": delivered.ok().flatten(), "published": published})))
        .into_response()
}

/// The outbox sweep: publishes whatever a crashed or partitioned writer left behind.
async fn cron_outbox(State(s): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(r) = refuse(&s, &headers) {
        return r;
    }
    s.relay.prune().await;
    match s.relay.pass().await {
        Ok(n) => (StatusCode::OK, Json(json!({"published": n}))).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "outbox sweep failed");
            (
                StatusCode::OK,
                Json(json!({"published": 0, "error": "database unavailable"})),
            )
                .into_response()
        }
    }
}
