//! The read side: `GET /api/tasks`, `GET /api/tasks/{id}`, `GET /api/tags`, the event-side
//! views (`/api/tasks/{id}/history`, `/api/activity`, `/api/notifications`, and marking a
//! notification read), and the API
//! documentation (`/openapi.json`, `/docs`, `/redoc`).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;

use super::dto::{
    AuditEventOut, EventsOut, NotificationOut, NotificationsOut, TagCount, TagsOut,
    parse_list_query,
};
use super::error::ApiError;
use super::extract::{PathTaskId, QueryPairs};
use super::{AppState, Function, both, task_response};
use crate::domain::FieldError;

/// The function.
pub const FUNCTION: Function = Function {
    name: "list-tasks",
    routes,
};

/// The function's own routes.
pub fn routes() -> Router<AppState> {
    let r = both(Router::new(), "/api/tasks", get(list_tasks));
    let r = both(r, "/api/tasks/{id}", get(get_task));
    let r = both(r, "/api/tags", get(list_tags));
    let r = both(r, "/api/tasks/{id}/history", get(task_history));
    let r = both(r, "/api/activity", get(activity));
    let r = both(r, "/api/notifications", get(notifications));
    let r = both(
        r,
        "/api/notifications/{id}/read",
        axum::routing::post(mark_read),
    );
    r.merge(super::docs::routes())
}

/// List tasks: filter, search, sort and page, all in the database.
#[utoipa::path(get, path = "/api/tasks", tag = "tasks",
    params(super::dto::ListParams),
    responses(
        (status = 200, description = "A page of tasks", body = super::dto::TaskListOut),
        (status = 422, description = "Invalid query parameter", body = super::error::ErrorBody),
    ))]
pub async fn list_tasks(
    State(s): State<AppState>,
    QueryPairs(pairs): QueryPairs,
) -> Result<Response, ApiError> {
    let q = parse_list_query(&pairs)?;
    let body = s
        .tasks
        .list_rendered(
            &s.owner,
            &q,
            |task| {
                serde_json::to_vec(&crate::domain::event::TaskJson(task))
                    .map(Bytes::from)
                    .map_err(|e| ApiError::Internal(e.into()))
            },
            |tasks, total| Ok(list_body(tasks, total, q.limit, q.offset)),
        )
        .await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// The list response (`dto::TaskListOut`): `{"tasks":[...],"total":..,"limit":..,"offset":..}`
/// around tasks already rendered as JSON objects.
fn list_body(tasks: &[Bytes], total: u64, limit: u32, offset: u64) -> Bytes {
    let len = tasks.iter().map(Bytes::len).sum::<usize>() + tasks.len() + 80;
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(b"{\"tasks\":[");
    for (i, t) in tasks.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(t);
    }
    out.extend_from_slice(
        format!("],\"total\":{total},\"limit\":{limit},\"offset\":{offset}}}").as_bytes(),
    );
    Bytes::from(out)
}

/// Read one task.
#[utoipa::path(get, path = "/api/tasks/{id}", tag = "tasks",
    params(("id" = String, Path, description = "Task id (UUID)"),
           ("If-None-Match" = Option<String>, Header, nullable = false, description = "ETag(s) of the copy the client has; 304 when one is current")),
    responses(
        (status = 200, description = "The task (with its ETag)", body = super::dto::TaskOut, headers(("ETag" = String, description = "The task's version, quoted (`\"3\"`): send it back in `If-Match`"))),
        (status = 304, description = "Unchanged: `If-None-Match` names the task's current ETag"),
        (status = 404, description = "No such task", body = super::error::ErrorBody),
        (status = 422, description = "Malformed id", body = super::error::ErrorBody),
    ))]
pub async fn get_task(
    State(s): State<AppState>,
    PathTaskId(id): PathTaskId,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    let task = s.tasks.get(&s.owner, id).await?;
    if none_match_fails(&headers, task.version) {
        let mut resp = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(v) = axum::http::HeaderValue::from_str(&super::etag(task.version)) {
            resp.headers_mut().insert(axum::http::header::ETAG, v);
        }
        return Ok(resp);
    }
    Ok(task_response(StatusCode::OK, &task))
}

/// Whether `If-None-Match` names the task's current version (`*`, or one of its entity tags,
/// compared weakly as RFC 9110 says for this header): the client's copy is current.
fn none_match_fails(headers: &axum::http::HeaderMap, version: i64) -> bool {
    headers
        .get_all(axum::http::header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| {
            tag == "*"
                || tag
                    .strip_prefix("W/")
                    .unwrap_or(tag)
                    .strip_prefix('"')
                    .and_then(|t| t.strip_suffix('"'))
                    .and_then(super::extract::etag_version)
                    == Some(version)
        })
}

/// Every tag in use, with counts (for filters and tag suggestions).
#[utoipa::path(get, path = "/api/tags", tag = "tasks",
    responses((status = 200, description = "Tags, most used first", body = TagsOut)))]
pub async fn list_tags(State(s): State<AppState>) -> Result<Json<TagsOut>, ApiError> {
    let tags = s.tasks.tags(&s.owner).await?;
    Ok(Json(TagsOut {
        tags: tags
            .into_iter()
            .map(|(name, count)| TagCount { name, count })
            .collect(),
    }))
}

/// Query parameters shared by the paged event-side lists, read as the task list reads them
/// (values trimmed, empty ones absent).
/// `limit` and `offset`; each of them and of `also` (the endpoint's other parameters) given at
/// most once (see [`super::extract::OneValueEach`]).
fn paging(
    pairs: &[(String, String)],
    also: &[&str],
) -> Result<(u32, u64), crate::domain::ValidationErrors> {
    let mut errors = crate::domain::ValidationErrors::default();
    let mut once = super::extract::OneValueEach::new(pairs);
    let (mut limit, mut offset) = (super::dto::DEFAULT_LIMIT, 0u64);
    for (k, v) in pairs {
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        let known = k == "limit" || k == "offset" || also.contains(&k.as_str());
        if known && !once.readable(k, &mut errors) {
            continue;
        }
        match k.as_str() {
            "limit" => match super::dto::parse_limit(v) {
                Ok(n) => limit = n,
                Err(m) => errors.push("limit", m),
            },
            "offset" => match super::dto::parse_offset(v) {
                Ok(n) => offset = n,
                Err(m) => errors.push("offset", m),
            },
            _ => {}
        }
    }
    errors.into_result().map(|()| (limit, offset))
}

fn audit_json(e: &crate::ports::AuditEntry) -> AuditEventOut {
    AuditEventOut {
        id: e.event_id.to_string(),
        event_type: e.event_type.clone(),
        task_id: e.task_id.to_string(),
        timestamp: crate::domain::time::format_utc(&e.occurred_at),
        recorded_at: crate::domain::time::format_utc(&e.recorded_at),
        source: e.source.clone(),
        payload: e.payload.clone(),
    }
}

fn notification_json(n: &crate::ports::Notification) -> NotificationOut {
    let t =
        |d: &Option<chrono::DateTime<chrono::Utc>>| d.as_ref().map(crate::domain::time::format_utc);
    NotificationOut {
        id: n.id.to_string(),
        task_id: n.task_id.to_string(),
        title: n.title.clone(),
        message: n.message.clone(),
        due_at: t(&n.due_at),
        created_at: crate::domain::time::format_utc(&n.created_at),
        read_at: t(&n.read_at),
        delivered_at: t(&n.delivered_at),
    }
}

/// A task's history: every event the audit consumer recorded for it, oldest first (kept after
/// the task is deleted).
#[utoipa::path(get, path = "/api/tasks/{id}/history", tag = "events",
    params(("id" = String, Path, description = "Task id (UUID)"), ("limit" = Option<u32>, Query, minimum = 1, maximum = 200, description = "1-200, default 50"), ("offset" = Option<u64>, Query, maximum = 1_000_000_000, description = "Default 0, at most 1,000,000,000")),
    responses((status = 200, description = "The task's events, oldest first", body = EventsOut), (status = 404, description = "No such task and no history", body = super::error::ErrorBody),
        (status = 422, description = "The id is not a UUID, or a bad limit or offset", body = super::error::ErrorBody)))]
pub async fn task_history(
    State(s): State<AppState>,
    PathTaskId(id): PathTaskId,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<EventsOut>, ApiError> {
    let (limit, offset) = paging(&pairs, &[])?;
    let (events, total) = s
        .events
        .history(&s.owner, id, limit, offset)
        .await
        .map_err(crate::app::AppError::from)?;
    if total == 0 {
        // No history yet: 404 only if the task does not exist either.
        s.tasks.get(&s.owner, id).await?;
    }
    Ok(Json(EventsOut {
        events: events.iter().map(audit_json).collect(),
        total,
    }))
}

/// The activity feed: every event of the owner's tasks, newest first.
#[utoipa::path(get, path = "/api/activity", tag = "events",
    params(("event_type" = Option<String>, Query, description = "e.g. task.completed"), ("task_id" = Option<String>, Query, description = "Only this task"),
           ("limit" = Option<u32>, Query, minimum = 1, maximum = 200, description = "1-200, default 50"), ("offset" = Option<u64>, Query, maximum = 1_000_000_000, description = "Default 0, at most 1,000,000,000")),
    responses((status = 200, description = "Events, newest first", body = EventsOut), (status = 422, description = "Invalid parameter", body = super::error::ErrorBody)))]
pub async fn activity(
    State(s): State<AppState>,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<EventsOut>, ApiError> {
    let (limit, offset) = paging(&pairs, &["event_type", "task_id"])?;
    let mut aq = crate::ports::ActivityQuery {
        limit,
        offset,
        ..Default::default()
    };
    for (k, v) in &pairs {
        match (k.as_str(), v.trim()) {
            (_, "") => {}
            ("event_type", t) => match crate::domain::EventType::parse(t) {
                Some(et) => aq.event_type = Some(et.as_str().to_string()),
                None => return Err(FieldError::new("event_type", "must be one of: task.created, task.updated, task.completed, task.deleted, task.reminder.due, task.recurring.triggered").into()),
            },
            ("task_id", t) => aq.task_id = Some(crate::domain::TaskId::parse(t).map_err(|e| FieldError::new("task_id", e.message))?),
            _ => {}
        }
    }
    let (events, total) = s
        .events
        .activity(&s.owner, &aq)
        .await
        .map_err(crate::app::AppError::from)?;
    Ok(Json(EventsOut {
        events: events.iter().map(audit_json).collect(),
        total,
    }))
}

/// Notifications created from due reminders, newest first (`unread=true` for unread only).
#[utoipa::path(get, path = "/api/notifications", tag = "events",
    params(("unread" = Option<bool>, Query, description = "Only unread ones"), ("limit" = Option<u32>, Query, minimum = 1, maximum = 200, description = "1-200, default 50"), ("offset" = Option<u64>, Query, maximum = 1_000_000_000, description = "Default 0, at most 1,000,000,000")),
    responses((status = 200, description = "Notifications, newest first", body = NotificationsOut),
        (status = 422, description = "Invalid query parameter", body = super::error::ErrorBody)))]
pub async fn notifications(
    State(s): State<AppState>,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<NotificationsOut>, ApiError> {
    let (limit, offset) = paging(&pairs, &["unread"])?;
    let mut unread_only = false;
    for (k, v) in &pairs {
        // An empty value is absent, as everywhere in the query string.
        if k == "unread" && !v.trim().is_empty() {
            // The spellings FastAPI (the spec's stack) accepts for a boolean, in any case.
            unread_only = match v.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => true,
                "false" | "0" | "no" | "off" => false,
                _ => return Err(FieldError::new("unread", "must be true or false").into()),
            };
        }
    }
    let (items, total) = s
        .events
        .notifications(&s.owner, unread_only, limit, offset)
        .await
        .map_err(crate::app::AppError::from)?;
    let (_, unread) = s
        .events
        .notifications(&s.owner, true, 1, 0)
        .await
        .map_err(crate::app::AppError::from)?;
    Ok(Json(NotificationsOut {
        notifications: items.iter().map(notification_json).collect(),
        total,
        unread,
    }))
}

/// Marks a notification read.
#[utoipa::path(post, path = "/api/notifications/{id}/read", tag = "events",
    params(("id" = String, Path, description = "Notification id (UUID)")),
    responses((status = 204, description = "Marked read"), (status = 404, description = "No such notification", body = super::error::ErrorBody),
        (status = 422, description = "The id is not a UUID", body = super::error::ErrorBody)))]
pub async fn mark_read(
    State(s): State<AppState>,
    PathTaskId(id): PathTaskId,
) -> Result<axum::http::StatusCode, ApiError> {
    let found = s
        .events
        .mark_notification_read(&s.owner, id.0, crate::domain::time::now())
        .await
        .map_err(crate::app::AppError::from)?;
    if found {
        Ok(axum::http::StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotificationNotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::paging;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn event_lists_read_paging_as_the_task_list_does() {
        assert_eq!(
            paging(&pairs(&[("limit", ""), ("offset", " 5 ")]), &[]).ok(),
            Some((50, 5))
        );
        assert_eq!(paging(&pairs(&[("limit", " 7")]), &[]).ok(), Some((7, 0)));
        for bad in [
            ("limit", "0"),
            ("limit", "201"),
            ("limit", "1.5"),
            ("offset", "-1"),
        ] {
            let e = paging(&pairs(&[bad]), &[]).expect_err(bad.1);
            assert_eq!(e.0[0].field, bad.0);
        }
    }

    #[test]
    fn a_parameter_given_twice_is_refused_unless_one_is_empty() {
        let fields = |p: &[(&str, &str)]| {
            paging(&pairs(p), &["unread"])
                .err()
                .map(|e| e.0.into_iter().map(|f| f.field).collect::<Vec<_>>())
        };
        assert_eq!(
            fields(&[("limit", "5"), ("limit", "6")]),
            Some(vec!["limit".into()])
        );
        assert_eq!(
            fields(&[("unread", "1"), ("unread", "0")]),
            Some(vec!["unread".into()])
        );
        // One error per repeated parameter, however often, and in the order parameters first
        // appear.
        assert_eq!(
            fields(&[("limit", "0"), ("limit", "0"), ("limit", "0")]),
            Some(vec!["limit".into()])
        );
        assert_eq!(
            fields(&[
                ("offset", "x"),
                ("unread", "a"),
                ("limit", "1"),
                ("unread", "b")
            ]),
            Some(vec!["offset".into(), "unread".into()])
        );
        // Empty values are absent; parameters the endpoint does not know are not checked.
        assert_eq!(fields(&[("unread", "true"), ("unread", " ")]), None);
        assert_eq!(fields(&[("_", "1"), ("_", "2")]), None);
    }
}
