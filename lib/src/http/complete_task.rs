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
    params(("id" = String, Path, description = "Task id (UUID)")),
    responses(
        (status = 200, description = "Toggled", body = super::dto::TaskOut),
        (status = 404, description = "No such task", body = super::error::ErrorBody),
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
        .toggle_complete(&s.owner, id, if_match, &ctx)
        .await?;
    Ok(task_response(StatusCode::OK, &task))
}
