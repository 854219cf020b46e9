//! `DELETE /api/tasks/{id}`.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::delete;

use super::error::ApiError;
use super::extract::{Ctx, IfMatch, PathTaskId};
use super::{AppState, Function, both};

/// The function.
pub const FUNCTION: Function = Function {
    name: "delete-task",
    routes,
};

/// The function's own routes.
pub fn routes() -> Router<AppState> {
    both(Router::new(), "/api/tasks/{id}", delete(delete_task))
}

/// Delete a task.
#[utoipa::path(delete, path = "/api/tasks/{id}", tag = "tasks",
    params(("id" = String, Path, description = "Task id (UUID)"), ("If-Match" = Option<String>, Header, nullable = false, description = "Apply only if the task's ETag is one of these (`\"3\"`, a list, or `*`); weak tags never match"), ("Idempotency-Key" = Option<String>, Header, nullable = false, description = "1-255 visible ASCII characters; a retry with the same key and request gets the first successful response")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such task", body = super::error::ErrorBody),
        (status = 409, description = "A request with this Idempotency-Key is still running, or concurrent writers kept winning: retry", body = super::error::ErrorBody),
        (status = 412, description = "If-Match did not match", body = super::error::ErrorBody),
        (status = 422, description = "Malformed id", body = super::error::ErrorBody),
    ))]
pub async fn delete_task(
    State(s): State<AppState>,
    PathTaskId(id): PathTaskId,
    IfMatch(if_match): IfMatch,
    Ctx(ctx): Ctx,
) -> Result<StatusCode, ApiError> {
    s.tasks
        .delete(&s.owner, id, if_match.as_deref(), &ctx)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
