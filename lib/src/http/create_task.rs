//! `POST /api/tasks`: create a task.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::post;

use super::dto::parse_new_task;
use super::error::ApiError;
use super::extract::{Ctx, JsonObject};
use super::{AppState, Function, both, task_response};

/// The function.
pub const FUNCTION: Function = Function {
    name: "create-task",
    routes,
};

/// The function's own routes.
pub fn routes() -> Router<AppState> {
    both(Router::new(), "/api/tasks", post(create_task))
}

/// Create a task.
#[utoipa::path(post, path = "/api/tasks", tag = "tasks",
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, description = "1-255 visible ASCII characters; a retry with the same key and request gets the first successful response")),
    request_body(content = super::dto::TaskCreate, description = "Only `title` is required"),
    responses(
        (status = 201, description = "Created", body = super::dto::TaskOut, headers(("ETag" = String, description = "The task's version, quoted (`\"1\"`): send it back in `If-Match`"), ("Location" = String, description = "`/api/tasks/{id}` of the new task"))),
        (status = 409, description = "A request with this Idempotency-Key is still running, or concurrent writers kept winning: retry", body = super::error::ErrorBody),
        (status = 413, description = "Body too large", body = super::error::ErrorBody),
        (status = 415, description = "The body is not JSON", body = super::error::ErrorBody),
        (status = 422, description = "Invalid input; nothing was written", body = super::error::ErrorBody),
    ))]
pub async fn create_task(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let input = parse_new_task(&body)?;
    let task = s.tasks.create(&s.owner, input, &ctx).await?;
    let mut resp = task_response(StatusCode::CREATED, &task);
    if let Ok(loc) = HeaderValue::from_str(&format!("/api/tasks/{}", task.id)) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(resp)
}
