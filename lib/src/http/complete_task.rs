//! `POST /api/tasks/{id}/complete`: toggle completion (completed ↔ pending), as in the spec.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;

use super::error::ApiError;
use super::extract::{Ctx, IfMatch, PathTaskId};
use super::{AppState, Function, both, task_response};

/// The function.
pub const FUNCTION: Function = Function {
    name: "complete-task",
    routes,
};

/// The function's own routes.
pub fn routes() -> Router<AppState> {
    both(
        Router::new(),
        "/api/tasks/{id}/complete",
        post(complete_task),
    )
}

/// Toggle a task's completion.
#[utoipa::path(post, path = "/api/tasks/{id}/complete", tag = "tasks",
    params(("id" = String, Path, description = "Task id (UUID)"), ("If-Match" = Option<String>, Header, nullable = false, description = "Apply only if the task's ETag is one of these (`\"3\"`, a list, or `*`); weak tags never match"), ("Idempotency-Key" = Option<String>, Header, nullable = false, description = "1-255 visible ASCII characters; a retry with the same key and request gets the first successful response")),
    responses(
        (status = 200, description = "Toggled", body = super::dto::TaskOut, headers(("ETag" = String, description = "The task's version, quoted (`\"3\"`): send it back in `If-Match`"))),
        (status = 404, description = "No such task", body = super::error::ErrorBody),
        (status = 409, description = "A request with this Idempotency-Key is still running, or concurrent writers kept winning: retry", body = super::error::ErrorBody),
        (status = 412, description = "If-Match did not match", body = super::error::ErrorBody),
        (status = 422, description = "Malformed id", body = super::error::ErrorBody),
    ))]
pub async fn complete_task(
    State(s): State<AppState>,
    PathTaskId(id): PathTaskId,
    IfMatch(if_match): IfMatch,
    Ctx(ctx): Ctx,
) -> Result<Response, ApiError> {
    let task = s
        .tasks
        .toggle_complete(&s.owner, id, if_match.as_deref(), &ctx)
        .await?;
    Ok(task_response(StatusCode::OK, &task))
}
