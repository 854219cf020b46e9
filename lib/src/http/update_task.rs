//! `PATCH /api/tasks/{id}`: partial update, optionally conditional on `If-Match`.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::patch;

use super::dto::parse_changes;
use super::error::ApiError;
use super::extract::{Ctx, IfMatch, JsonObject, PathTaskId};
use super::{AppState, Function, both, task_response};

/// The function.
pub const FUNCTION: Function = Function {
    name: "update-task",
    routes,
};

/// The function's own routes.
pub fn routes() -> Router<AppState> {
    both(Router::new(), "/api/tasks/{id}", patch(update_task))
}

/// Update some fields of a task.
#[utoipa::path(patch, path = "/api/tasks/{id}", tag = "tasks",
    params(("id" = String, Path, description = "Task id (UUID)"),
           ("If-Match" = Option<String>, Header, nullable = false, description = "Apply only if the task's ETag is one of these (`\"3\"`, a list, or `*`); weak tags never match"),
           ("Idempotency-Key" = Option<String>, Header, nullable = false, description = "1-255 visible ASCII characters; a retry with the same key and request gets the first successful response")),
    request_body(content = super::dto::TaskPatch, description = "Fields to change; null clears nullable fields"),
    responses(
        (status = 200, description = "Updated", body = super::dto::TaskOut, headers(("ETag" = String, description = "The task's version, quoted (`\"3\"`): send it back in `If-Match`"))),
        (status = 404, description = "No such task", body = super::error::ErrorBody),
        (status = 409, description = "A request with this Idempotency-Key is still running, or concurrent writers kept winning: retry", body = super::error::ErrorBody),
        (status = 412, description = "If-Match did not match", body = super::error::ErrorBody),
        (status = 413, description = "Body too large", body = super::error::ErrorBody),
        (status = 415, description = "The body is not JSON", body = super::error::ErrorBody),
        (status = 422, description = "Invalid input; nothing was written", body = super::error::ErrorBody),
    ))]
pub async fn update_task(
    State(s): State<AppState>,
    PathTaskId(id): PathTaskId,
    IfMatch(if_match): IfMatch,
    Ctx(ctx): Ctx,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let changes = parse_changes(&body)?;
    let task = s
        .tasks
        .update(&s.owner, id, changes, if_match.as_deref(), &ctx)
        .await?;
    Ok(task_response(StatusCode::OK, &task))
}
