//! The read side: `GET /api/tasks`, `GET /api/tasks/{id}`, `GET /api/tags`, and the API
//! documentation (`/openapi.json`, `/docs`, `/redoc`).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};

use super::dto::{TagCount, TagsOut, parse_list_query};
use super::error::ApiError;
use super::extract::PathTaskId;
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
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(pairs) = query.map_err(|e| FieldError::new("query", e.body_text()))?;
    let q = parse_list_query(&pairs)?;
    let page = s.tasks.list(&s.owner, &q).await?;
    let tasks: Vec<serde_json::Value> = page
        .tasks
        .iter()
        .map(crate::domain::event::task_json)
        .collect();
    Ok(Json(serde_json::json!({
        "tasks": tasks,
        "total": page.total,
        "limit": q.limit,
        "offset": q.offset,
    })))
}

/// Read one task.
#[utoipa::path(get, path = "/api/tasks/{id}", tag = "tasks",
    params(("id" = String, Path, description = "Task id (UUID)")),
    responses(
        (status = 200, description = "The task (with its ETag)", body = super::dto::TaskOut),
        (status = 404, description = "No such task", body = super::error::ErrorBody),
        (status = 422, description = "Malformed id", body = super::error::ErrorBody),
    ))]
pub async fn get_task(
    State(s): State<AppState>,
    PathTaskId(id): PathTaskId,
) -> Result<Response, ApiError> {
    let task = s.tasks.get(&s.owner, id).await?;
    Ok(task_response(StatusCode::OK, &task))
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
